(define-read-only (env) {mainnet: is-in-mainnet, regtest: is-in-regtest, chain: chain-id, sponsor: tx-sponsor?})
(define-read-only (heights) (list block-height burn-block-height))
;; > (contract-call? .keywords env)
;; = {chain: u2147483648, mainnet: false, regtest: false, sponsor: none}
;; > (contract-call? .keywords heights)
;; = (list u10 u20)
;; > tx-sender
;; = 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM
;; @sender: wallet_2
;; > tx-sender
;; = 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG
;; > contract-caller
;; = 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG
