;; Two traits naming each other (one in a result type): a definition cycle, refused by the
;; reference's definition sorter (CircularReference) with every definition it reaches.
(define-trait payer ((pay () (response <payee> uint))))
(define-trait payee ((receive (<payer>) (response bool uint))))
(define-private (use-payer (p <payer>)) true)
;; @deploy-error: recursive definition cycle (payee, payer, use-payer) @ 3:1
