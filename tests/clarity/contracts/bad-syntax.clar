(define-read-only (f) (+ 1 2)
;; @deploy-error: unclosed
