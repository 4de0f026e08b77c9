(define-read-only (old) (at-block 0x0000000000000000000000000000000000000000000000000000000000000000 block-height))
;; @deploy-error: at-block is not supported @ 1:25
