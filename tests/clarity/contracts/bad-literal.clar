(define-constant big 1701411834604692317316873037158841057270)
;; @deploy-error: out of range @ 1:22
