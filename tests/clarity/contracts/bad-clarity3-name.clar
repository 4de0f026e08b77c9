(define-read-only (old) stacks-block-height)
;; @deploy-error: stacks-block-height is Clarity 3 @ 1:25
