;; Clarity 4 analysis: all-not-alone.
;; @clarity-version: 4
;; @deploy-error: must not be used along with other allowances
(define-public (f) (as-contract? ((with-stx u1) (with-all-assets-unsafe)) true))
