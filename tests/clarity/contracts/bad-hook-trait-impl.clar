;; An implementation of hook-trait whose compound argument type differs from the trait's
;; (the reference refuses it too: BadTraitImplementation).
;; @requires: hook-trait
(use-trait fee-trait .hook-trait.fee-trait)
(impl-trait .hook-trait.hook-trait)
(define-public (on-payment (rest (list 5 uint)) (amount uint)) (ok amount))
(define-public (with-fallback (fallback (optional <fee-trait>)) (amount uint)) (ok amount))
;; @deploy-error: incompatible with the trait
