;; default-to takes the reference's 2.1 supertype of (default, contained): a default tuple
;; whose fields all appear in the contained tuple gives the default's fields (Arkadiko's
;; vault rewards read one field of a map entry this way). The other way round is refused.
(define-map entries { user: principal } { collateral: uint, reward: uint })
(map-set entries { user: tx-sender } { collateral: u5, reward: u7 })
(define-read-only (reward-of (user principal))
  (get reward (default-to { reward: u0 } (map-get? entries { user: user }))))
;; > (contract-call? .default-to-tuple-subset reward-of tx-sender)
;; = u7
;; > (contract-call? .default-to-tuple-subset reward-of 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG)
;; = u0
;; > (default-to { collateral: u1, reward: u0 } (some { reward: u3 }))
;; ? default-to
