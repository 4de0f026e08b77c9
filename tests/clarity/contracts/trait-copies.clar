;; Traits for trait-compatible-copies and bad-trait-incompatible-copies: two copies of one
;; trait under different names (core-a, core-b), a third with another signature (core-c),
;; and a trait per copy whose function takes that copy (decoder-a, -b, -c), as two
;; deployers' copies of Pyth's traits each name their own copy of Wormhole's.
(define-trait core-a ((ping () (response bool uint))))
(define-trait core-b ((ping () (response bool uint))))
(define-trait core-c ((ping () (response uint uint))))
(define-trait decoder-a ((decode ((buff 8) <core-a>) (response uint uint))))
(define-trait decoder-b ((decode ((buff 8) <core-b>) (response uint uint))))
(define-trait decoder-c ((decode ((buff 8) <core-c>) (response uint uint))))
