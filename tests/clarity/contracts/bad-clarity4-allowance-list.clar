;; Clarity 4 analysis: allowance-list.
;; @clarity-version: 4
;; @deploy-error: expected an allowance
(define-read-only (f) (restrict-assets? tx-sender (with-stx u1) true))
