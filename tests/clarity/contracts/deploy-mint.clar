;; Top-level expressions run at deploy with the deployer as tx-sender.
(define-fungible-token coin)
(define-map registry principal bool)
(ft-mint? coin u1000 tx-sender)
(map-set registry tx-sender true)
(define-read-only (bal) (ft-get-balance coin tx-sender))
(define-read-only (registered (p principal)) (default-to false (map-get? registry p)))
;; > (contract-call? .deploy-mint bal)
;; = u1000
;; > (contract-call? .deploy-mint registered tx-sender)
;; = true
;; > (contract-call? .deploy-mint registered 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = false
