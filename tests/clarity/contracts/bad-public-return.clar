(define-public (f) u1)
;; @deploy-error: must return a response @ 1:1
