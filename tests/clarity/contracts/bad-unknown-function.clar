(define-public (f) (ok (launch-rockets u1)))
;; @deploy-error: unknown or unsupported function 'launch-rockets' @ 1:24
