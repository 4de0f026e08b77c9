;; use-trait, impl-trait and contract-call? naming contracts by full principal ('ST….name)
;; resolve exactly as the relative form .name does.
;; @requires: sip010-trait sip010-token callee
(use-trait ft 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sip010-trait.sip-010-trait)
(define-public (balance-via (token <ft>) (who principal))
  (contract-call? token get-balance who))
(define-public (relay (n uint)) (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.callee hit n))
(define-read-only (supply) (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sip010-token get-total-supply))
;; > (contract-call? .sip010-token mint u500 tx-sender)
;; = (ok true)
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.full-principal-refs balance-via 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sip010-token tx-sender)
;; = (ok u500)
;; > (contract-call? .full-principal-refs relay u2)
;; = (ok {caller: 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.full-principal-refs, hits: u2, sender: 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM})
;; > (contract-call? .full-principal-refs supply)
;; = (ok u500)
;; > (contract-call? .full-principal-refs balance-via 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5.sip010-token tx-sender)
;; ? sip010-token
;; @sender: wallet_1
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.full-principal-refs balance-via 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sip010-token tx-sender)
;; = (ok u0)
