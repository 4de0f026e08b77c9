;; A trait whose function takes a trait of another signature does not pass for the
;; expected one: decoder-c takes core-c, whose ping returns (response uint uint) where
;; core-a's returns (response bool uint). Refused, as the reference refuses it.
;; @requires: trait-copies
(use-trait decoder-a .trait-copies.decoder-a)
(use-trait decoder-c .trait-copies.decoder-c)
(define-private (take-a (d <decoder-a>)) (ok true))
(define-public (pass (d <decoder-c>)) (take-a d))
;; @deploy-error: is not compatible with
