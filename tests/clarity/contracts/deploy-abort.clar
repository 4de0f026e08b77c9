(define-constant oops (unwrap-panic (element-at? (list 1 2) u5)))
;; @deploy-abort: unwrap-panic
