;; Clarity 4 analysis: nft-ids.
;; @clarity-version: 4
;; @deploy-error: must include a list of asset identifiers
(define-read-only (f) (restrict-assets? tx-sender ((with-nft current-contract "t" u1)) true))
