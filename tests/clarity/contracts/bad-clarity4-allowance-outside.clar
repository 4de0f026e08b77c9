;; Clarity 4 analysis: allowance-outside.
;; @clarity-version: 4
;; @deploy-error: only allowed in the allowance list
(define-read-only (f) (with-stx u1))
