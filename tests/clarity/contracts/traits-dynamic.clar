;; Dynamic dispatch through a trait reference (SIP-010).
;; @requires: sip010-trait sip010-token
(use-trait ft .sip010-trait.sip-010-trait)
(define-public (send-via (token <ft>) (amount uint) (to principal))
  (contract-call? token transfer amount tx-sender to none))
(define-public (balance-via (token <ft>) (who principal))
  (contract-call? token get-balance who))
(define-read-only (which (token <ft>)) (contract-of token))
;; > (contract-call? .sip010-token mint u500 tx-sender)
;; = (ok true)
;; > (contract-call? .traits-dynamic send-via .sip010-token u120 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok true)
;; > (contract-call? .traits-dynamic balance-via .sip010-token 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok u120)
;; > (contract-call? .traits-dynamic which .sip010-token)
;; = 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sip010-token
;; > (contract-call? .traits-dynamic send-via .sip010-trait u1 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; ? does not define public function
