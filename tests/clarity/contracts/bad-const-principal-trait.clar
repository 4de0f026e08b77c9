;; A constant bound to a contract that does not implement the trait, passed where the trait is
;; expected (the reference refuses it too: BadTraitImplementation).
;; @requires: sip010-trait sip010-token
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-constant not-a-token .sip010-trait)
(define-private (pay-with (token <ft-trait>) (amount uint))
  (contract-call? token transfer amount tx-sender 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5 none))
(define-public (pay (amount uint)) (pay-with not-a-token amount))
;; @deploy-error: does not define public function
