(define-public (f)
  (begin (stx-transfer? u1 tx-sender 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5) (ok true)))
;; @deploy-error: unchecked intermediary response @ 2:10
