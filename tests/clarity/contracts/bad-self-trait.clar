;; A trait naming itself, here inside a compound type. The reference's definition sorter
;; refuses it before any type check (CircularReference), as it refuses recursion.
(define-trait hook-trait
  ((on-payment ((list 5 <hook-trait>) uint) (response uint uint))))
;; @deploy-error: recursive definition cycle (hook-trait) @ 3:1
