(define-read-only (fact (n uint)) (if (is-eq n u0) u1 (* n (fact (- n u1)))))
;; @deploy-error: recursi
