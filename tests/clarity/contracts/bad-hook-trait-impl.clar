;; An implementation of the self-referential hook-trait whose compound argument type differs
;; from the trait's (the reference refuses it too: BadTraitImplementation).
;; @requires: hook-trait
(use-trait hook-trait .hook-trait.hook-trait)
(impl-trait .hook-trait.hook-trait)
(define-public (on-payment (rest (list 5 uint)) (amount uint)) (ok amount))
(define-public (with-fallback (fallback (optional <hook-trait>)) (amount uint)) (ok amount))
;; @deploy-error: incompatible with the trait
