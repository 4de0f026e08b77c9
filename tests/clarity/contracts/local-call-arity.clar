;; A local call with too few or too many arguments deploys (the reference's analysis checks
;; the arguments given against the parameters pairwise, type_check_function_application,
;; and does not compare their numbers) and fails when it runs
;; (DefinedFunction::execute_apply: IncorrectArgumentCount). A mainnet token calls its own
;; 4-argument transfer with 3. Builtins still check their arity (bad-arity.clar).
(define-private (two (a int) (b int)) (+ a b))
(define-read-only (f) (two 1))
(define-read-only (g) (two 1 2 3))
(define-read-only (h) (two 1 2))
(define-read-only (never (x bool)) (if x (two 1) 0))
;; > (contract-call? .local-call-arity h)
;; = 3
;; > (contract-call? .local-call-arity never false)
;; = 0
;; > (contract-call? .local-call-arity f)
;; ! expects 2 argument(s), got 1
;; > (contract-call? .local-call-arity g)
;; ! expects 2 argument(s), got 3
;; > (+ 1)
;; = 1
