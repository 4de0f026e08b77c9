;; Constants bound to contract principals (Clarity 2), as real DeFi contracts name the tokens
;; they work with: a constant is a static contract-call? target (short or full form) and may
;; be passed where a <ft-trait> is expected.
;; @requires: sip010-trait sip010-token sip010-token-b
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-constant token-x .sip010-token)
(define-constant token-y 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sip010-token-b)
(define-constant err-amount (err u400))

(define-private (pay-with (token <ft-trait>) (amount uint) (to principal))
  (contract-call? token transfer amount tx-sender to none))

;; Static dispatch through the constant.
(define-public (pay-x (amount uint) (to principal))
  (begin
    (asserts! (> amount u0) err-amount)
    (contract-call? token-x transfer amount tx-sender to none)))

;; The constant as a trait argument.
(define-public (pay-y (amount uint) (to principal))
  (pay-with token-y amount to))

(define-read-only (balance-x (who principal))
  (contract-call? token-x get-balance who))

(define-read-only (tokens) {x: token-x, y: token-y})

;; > (contract-call? .sip010-token mint u1000 tx-sender)
;; = (ok true)
;; > (contract-call? .sip010-token-b mint u500 tx-sender)
;; = (ok true)
;; > (contract-call? .const-principals pay-x u25 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok true)
;; # ft_transfer_event
;; > (contract-call? .const-principals balance-x 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok u25)
;; > (contract-call? .const-principals pay-x u0 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (err u400)
;; > (contract-call? .const-principals pay-y u7 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG)
;; = (ok true)
;; # ft_transfer_event
;; > (contract-call? .sip010-token-b get-balance 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG)
;; = (ok u7)
;; > (contract-call? .sip010-token-b get-balance tx-sender)
;; = (ok u493)
;; wallet_2 holds no token-x: the token refuses the transfer (ft-transfer? err u1).
;; @sender: wallet_2
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.const-principals pay-x u1 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (err u1)
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.const-principals tokens)
;; = {x: 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sip010-token, y: 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sip010-token-b}
