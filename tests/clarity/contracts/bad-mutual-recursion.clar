(define-private (ping (n uint)) (pong n))
(define-private (pong (n uint)) (ping n))
;; @deploy-error: recursive definition cycle
