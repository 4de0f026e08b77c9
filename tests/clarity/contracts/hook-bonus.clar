;; A hook (bonus of five) implementing both traits of hook-trait.
;; @requires: hook-trait
(use-trait fee-trait .hook-trait.fee-trait)
(impl-trait .hook-trait.hook-trait)
(impl-trait .hook-trait.fee-trait)
(define-public (apply-fee (amount uint))
  (ok (+ amount u5)))
(define-private (run-one (hook <fee-trait>) (amount uint))
  (unwrap-panic (contract-call? hook apply-fee amount)))
(define-public (on-payment (rest (list 5 <fee-trait>)) (amount uint))
  (ok (fold run-one rest (+ amount u5))))
(define-public (with-fallback (fallback (optional <fee-trait>)) (amount uint))
  (match fallback f (contract-call? f apply-fee amount) (ok amount)))
