;; A router whose pool contract is not deployed: the missing contract is the first error,
;; and no derived error (in the function defined above the one that calls the missing
;; contract) names the checker's internal placeholder type.
;; (test_missing_dependency_is_the_first_error checks the order.)
;; @requires: sip010-trait
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-public (quote-and-swap (token <ft-trait>) (amount uint))
  (let ((bal (unwrap! (pool-balance tx-sender) (err u1))))
    (asserts! (>= bal amount) (err u2))
    (contract-call? token transfer amount tx-sender (as-contract tx-sender) none)))
(define-read-only (pool-balance (who principal))
  (contract-call? .not-deployed-pool get-balance who))
;; @deploy-error: no such contract
