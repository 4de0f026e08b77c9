(define-data-var big (list 100000000 (buff 100)) (list))
;; @deploy-error: larger than the limit
