;; `pow` answers a base of 0 or 1, and an exponent of 1, before it checks that the exponent
;; is a u32 (the reference's order since 2020): results checked against the reference.
(define-read-only (p (a int) (b int)) (pow a b))
(define-read-only (pu (a uint) (b uint)) (pow a b))
;; > (contract-call? .pow-early-answers p 1 -1)
;; = 1
;; > (contract-call? .pow-early-answers p 0 -5)
;; = 0
;; > (contract-call? .pow-early-answers p 0 0)
;; = 1
;; > (contract-call? .pow-early-answers p -3 1)
;; = -3
;; > (contract-call? .pow-early-answers p 170141183460469231731687303715884105727 1)
;; = 170141183460469231731687303715884105727
;; > (contract-call? .pow-early-answers pu u1 u5000000000)
;; = u1
;; > (contract-call? .pow-early-answers pu u0 u5000000000)
;; = u0
;; > (contract-call? .pow-early-answers p 2 -1)
;; ! pow exponent
;; > (contract-call? .pow-early-answers p -1 -1)
;; ! pow exponent
;; > (contract-call? .pow-early-answers pu u2 u5000000000)
;; ! pow exponent
