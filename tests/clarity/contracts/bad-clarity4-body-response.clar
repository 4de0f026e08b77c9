;; Clarity 4 analysis: body-response.
;; @clarity-version: 4
;; @deploy-error: intermediary responses
(define-public (f) (restrict-assets? tx-sender () (ok u1)))
