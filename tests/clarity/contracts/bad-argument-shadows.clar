;; An argument named like a definition that comes before its function is refused
;; (check_name_used: NameAlreadyUsed).
(define-data-var x uint u5)
(define-read-only (f (x uint)) x)
;; @deploy-error: argument 'x' shadows a definition
