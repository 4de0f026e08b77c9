;; A constant holding contract principals inside a list of tuples, passed where the
;; parameter's tuples hold a trait: each principal must implement the trait, as a literal
;; written there must (the reference types the constant with its contract principals and
;; walks into them: clarity2_inner_type_check_type). friedger's trait-conversion-router
;; passes such a default list to another contract.
;; @requires: sip010-trait sip010-token
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-constant payouts (list {token: .sip010-token, amount: u1} {token: .sip010-token, amount: u2}))
(define-constant payout (some {token: .sip010-token, amount: u3}))
(define-read-only (count-of (ps (list 5 {token: <ft-trait>, amount: uint})))
  (len ps))
(define-read-only (amount-of (p (optional {token: <ft-trait>, amount: uint})))
  (match p x (get amount x) u0))
(define-read-only (count-payouts) (count-of payouts))
(define-read-only (amount-payout) (amount-of payout))
;; > (contract-call? .trait-const-compound count-payouts)
;; = u2
;; > (contract-call? .trait-const-compound amount-payout)
;; = u3
