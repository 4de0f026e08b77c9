;; A `let` binding of a list whose tuples hold a contract that does not implement the trait,
;; passed where the trait is expected: refused, as the reference refuses it
;; (BadTraitImplementation).
;; @requires: sip010-trait sip010-token
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-read-only (count-of (ps (list 5 {token: <ft-trait>, amount: uint})))
  (len ps))
(define-read-only (via-let)
  (let ((ps (list {token: .sip010-token, amount: u1} {token: .sip010-trait, amount: u2})))
    (count-of ps)))
;; @deploy-error: does not define public function
