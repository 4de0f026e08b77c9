;; A trait whose signatures refer to itself inside compound types: a payment hook is given the
;; hooks that run after it (a list) and an optional fallback hook.
(define-trait hook-trait
  ((on-payment ((list 5 <hook-trait>) uint) (response uint uint))
   (with-fallback ((optional <hook-trait>) uint) (response uint uint))))
