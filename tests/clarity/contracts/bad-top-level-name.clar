;; A bare name at the top level that names nothing is refused, as any unresolved name is.
(define-constant answer u42)
no-such-name
;; @deploy-error: no-such-name
