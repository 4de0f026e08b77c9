;; Clarity 4 analysis: as-contract-removed.
;; @clarity-version: 4
;; @deploy-error: was removed in Clarity 4
(define-public (f) (as-contract (ok tx-sender)))
