;; Clarity 4 analysis: not-an-allowance.
;; @clarity-version: 4
;; @deploy-error: expected an allowance expression, got: stx-burn?
(define-read-only (f) (restrict-assets? tx-sender ((stx-burn? u1 tx-sender)) true))
