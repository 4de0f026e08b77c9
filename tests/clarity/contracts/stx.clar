;; stx-transfer?/stx-get-balance operate on the FAI balance (base units).
(define-read-only (bal (who principal)) (stx-get-balance who))
;; > (stx-get-balance tx-sender)
;; = u100000000000
;; > (stx-transfer? u250 tx-sender 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok true)
;; # stx_transfer_event
;; > (stx-get-balance 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = u100000000250
;; > (stx-transfer? u0 tx-sender 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (err u3)
;; > (stx-transfer? u1 tx-sender tx-sender)
;; = (err u2)
;; > (stx-transfer? u1 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5 tx-sender)
;; = (err u4)
;; > (stx-transfer? u100000000000 tx-sender 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (err u1)
;; > (stx-burn? u50 tx-sender)
;; = (ok true)
;; > (contract-call? .stx bal tx-sender)
;; = u99999999700
;; > (stx-transfer-memo? u1 tx-sender 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG 0x6d656d6f)
;; = (ok true)
;; > (get unlocked (stx-account 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG))
;; = u100000000001
