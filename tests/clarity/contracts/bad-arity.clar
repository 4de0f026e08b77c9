(define-private (two (a int) (b int)) (+ a b))
(define-read-only (f) (two 1))
;; @deploy-error: expects 2 argument(s), got 1 @ 2:23
