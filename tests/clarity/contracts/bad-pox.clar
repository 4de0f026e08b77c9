(define-read-only (pox (h uint)) (get-burn-block-info? pox-addrs h))
;; @deploy-error: property 'pox-addrs' is not supported
