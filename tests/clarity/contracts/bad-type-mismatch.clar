(define-public (f (x uint))
  (ok (+ x 1)))
;; @deploy-error: expects int or uint arguments of one type @ 2:7
