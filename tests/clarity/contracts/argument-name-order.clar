;; A function argument may share its name with a definition that the reference's order puts
;; after the function (its type checker compares argument names with the names defined so
;; far): Zest's pool-borrow has `(define-public (flashloan ... (flashloan <flash-loan>))`.
;; bad-argument-shadows.clar is the refused case.
(define-read-only (flashloan (flashloan uint)) u7)
(define-read-only (f (x uint)) u1)
(define-data-var x uint u5)
;; > (contract-call? .argument-name-order flashloan u1)
;; = u7
;; > (contract-call? .argument-name-order f u1)
;; = u1
