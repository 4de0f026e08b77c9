;; The expression of at-block must be read-only, as in the reference.
(define-data-var n uint u3)
(define-public (f (h (buff 32))) (ok (at-block h (var-set n u4))))
;; @deploy-error: writes state and cannot be used in a read-only context
