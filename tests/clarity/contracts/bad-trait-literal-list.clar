;; A contract principal literal in a list given to fold over a <ft-trait> parameter that does not
;; implement the trait (the reference refuses it too: BadTraitImplementation).
;; @requires: sip010-trait sip010-token
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-private (add-balance (token <ft-trait>) (acc uint))
  (+ acc (unwrap-panic (contract-call? token get-balance tx-sender))))
(define-public (total) (ok (fold add-balance (list .sip010-token .sip010-trait) u0)))
;; @deploy-error: does not define public function
