;; Clarity 4 analysis: all-in-restrict.
;; @clarity-version: 4
;; @deploy-error: with-all-assets-unsafe is not allowed here
(define-public (f) (restrict-assets? tx-sender ((with-all-assets-unsafe)) (ok u1)))
