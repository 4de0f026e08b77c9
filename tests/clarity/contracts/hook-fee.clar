;; A hook implementing the self-referential hook-trait (fee of a tenth).
;; @requires: hook-trait
(use-trait hook-trait .hook-trait.hook-trait)
(impl-trait .hook-trait.hook-trait)
(define-public (on-payment (rest (list 5 <hook-trait>)) (amount uint))
  (ok (- amount (/ amount u10))))
(define-public (with-fallback (fallback (optional <hook-trait>)) (amount uint))
  (match fallback f (contract-call? f on-payment (list) amount) (ok amount)))
