;; A contract-held purse: as-contract changes tx-sender and contract-caller.
(define-read-only (who) {sender: tx-sender, caller: contract-caller})
(define-read-only (who-as-contract) (as-contract {sender: tx-sender, caller: contract-caller}))
(define-public (fund (amount uint)) (stx-transfer? amount tx-sender (as-contract tx-sender)))
(define-public (pay-out (amount uint) (to principal))
  (as-contract (stx-transfer? amount tx-sender to)))
;; > (contract-call? .as-contract who)
;; = {caller: 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM, sender: 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM}
;; > (contract-call? .as-contract who-as-contract)
;; = {caller: 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.as-contract, sender: 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.as-contract}
;; > (contract-call? .as-contract fund u100)
;; = (ok true)
;; > (contract-call? .as-contract pay-out u30 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok true)
;; > (stx-get-balance 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.as-contract)
;; = u70
;; > (contract-call? .as-contract pay-out u300 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (err u1)
