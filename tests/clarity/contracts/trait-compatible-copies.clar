;; A trait reference stands where another trait is expected when its functions take and
;; return what the expected one's do, a trait in a signature by the same rule (not by
;; name): decoder-b takes core-b where decoder-a takes core-a, and core-b has core-a's
;; functions, so a decoder-b passes for a decoder-a, alone or inside a tuple (the
;; reference's clarity2_trait_check_trait_compliance; two mainnet contracts pass their
;; Pyth execution plan so).
;; @requires: trait-copies
(use-trait decoder-a .trait-copies.decoder-a)
(use-trait decoder-b .trait-copies.decoder-b)
(define-trait oracle ((read ({d: <decoder-a>, n: uint}) (response uint uint))))
(define-public (go (o <oracle>) (plan {d: <decoder-b>, n: uint}))
  (contract-call? o read plan))
(define-private (take-a (d <decoder-a>)) (ok true))
(define-public (pass (d <decoder-b>)) (take-a d))
