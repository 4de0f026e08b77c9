(define-data-var x uint u0)
(define-read-only (sneaky) (var-set x u1))
;; @deploy-error: read-only @ 2:28
