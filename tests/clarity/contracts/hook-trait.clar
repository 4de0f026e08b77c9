;; Payment hooks: a hook is given the fee hooks that run after it (a list) and an optional
;; fallback. Its signatures name fee-trait, defined later in this contract: the reference's
;; definition sorter defines each trait after the traits it names. (A trait may not name
;; itself, directly or through another trait: bad-self-trait, bad-trait-cycle.)
(define-trait hook-trait
  ((on-payment ((list 5 <fee-trait>) uint) (response uint uint))
   (with-fallback ((optional <fee-trait>) uint) (response uint uint))))
(define-trait fee-trait
  ((apply-fee (uint) (response uint uint))))
