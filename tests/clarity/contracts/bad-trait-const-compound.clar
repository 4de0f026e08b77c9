;; A constant list whose tuples hold a contract that does not implement the trait, passed
;; where the trait is expected: refused, as the reference refuses it (BadTraitImplementation).
;; @requires: sip010-trait sip010-token
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-constant payouts (list {token: .sip010-token, amount: u1} {token: .sip010-trait, amount: u2}))
(define-read-only (count-of (ps (list 5 {token: <ft-trait>, amount: uint})))
  (len ps))
(define-read-only (count-payouts) (count-of payouts))
;; @deploy-error: does not define public function
