;; A let-bound contract principal that does not implement the trait, passed where the trait
;; is expected: refused, as the reference refuses it (BadTraitImplementation).
;; @requires: sip010-trait sip010-token
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-private (balance-of (token <ft-trait>))
  (unwrap-panic (contract-call? token get-balance tx-sender)))
(define-public (via-let)
  (let ((token .sip010-trait))
    (ok (balance-of token))))
;; @deploy-error: does not define public function
