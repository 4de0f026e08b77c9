;; @clarity-version: 1
;; @requires: sip010-trait sip010-token
;; A `let` may bind the name of a trait-typed argument: the reference's checker keeps trait
;; references apart from variables and looks names up among the trait references first
;; (so the name still has the trait's type), and in Clarity 1 its evaluator binds the name
;; as a variable beside the trait reference (values read the new binding). A CityCoins DAO
;; template, deployed on mainnet in several copies, rebinds `token-contract` to
;; `(contract-of token-contract)` and passes it on where the trait is expected.
(use-trait ft .sip010-trait.sip-010-trait)
(define-private (pay (token <ft>) (amount uint) (to principal))
  (contract-call? token transfer amount tx-sender to none))
(define-public (send (token-contract <ft>) (amount uint) (to principal))
  (let ((token-contract (contract-of token-contract)))
    (pay token-contract amount to)))
(define-read-only (named (token-contract <ft>))
  (let ((token-contract (contract-of token-contract)))
    token-contract))
;; > (contract-call? .sip010-token mint u100 tx-sender)
;; = (ok true)
;; > (contract-call? .trait-arg-rebound named .sip010-token)
;; = 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sip010-token
;; > (contract-call? .trait-arg-rebound send .sip010-token u40 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok true)
;; > (contract-call? .sip010-token get-balance 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok u40)
