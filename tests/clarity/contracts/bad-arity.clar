;; A builtin given the wrong number of arguments is refused by analysis (a local call is not:
;; see local-call-arity.clar).
(define-read-only (f) (not true false))
;; @deploy-error: expects 1 argument(s), got 2 @ 3:23
