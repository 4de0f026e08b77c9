;; Implements picker-trait: public functions returning trait references they were given.
;; @requires: sip010-trait picker-trait
(use-trait ft-trait .sip010-trait.sip-010-trait)
(impl-trait .picker-trait.picker)
(define-public (pick (x <ft-trait>) (y <ft-trait>) (first bool))
  (ok (if first x y)))
(define-public (pick-some (tokens (list 5 <ft-trait>)))
  (ok (element-at? tokens u0)))
