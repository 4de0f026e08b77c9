(define-data-var x uint u0)
(define-private (write-it) (var-set x u1))
(define-read-only (sneaky) (write-it))
;; @deploy-error: read-only
