;; A vault holding the token: it names the token and the trait by full principal.
(use-trait ft 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.ft-trait.ft-trait)

(define-map deposits principal uint)

(define-public (deposit (amount uint))
  (begin
    (try! (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.token transfer
            amount tx-sender (as-contract tx-sender) none))
    (map-set deposits tx-sender (+ amount (default-to u0 (map-get? deposits tx-sender))))
    (ok amount)))

(define-public (withdraw (amount uint))
  (let ((user tx-sender) (have (default-to u0 (map-get? deposits tx-sender))))
    (asserts! (<= amount have) (err u1))
    (try! (as-contract (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.token transfer
            amount tx-sender user none)))
    (map-set deposits user (- have amount))
    (ok amount)))

;; Any SIP-010-style token: the balance the vault holds of it.
(define-public (holdings (token <ft>))
  (contract-call? token get-balance (as-contract tx-sender)))

(define-read-only (deposit-of (who principal)) (default-to u0 (map-get? deposits who)))
