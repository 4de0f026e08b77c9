;; A bare literal or name at the top level is an expression like any other: the reference
;; checks and evaluates it (mainnet holds contracts that are one string literal, and one
;; with a string literal between its definitions).
(define-fungible-token token)
"a string between the definitions"
u7
(define-constant answer u42)
answer
(define-read-only (get-answer) answer)
;; > (contract-call? .top-level-literals get-answer)
;; = u42
