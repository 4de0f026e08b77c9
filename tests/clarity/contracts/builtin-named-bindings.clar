;; A builtin function's name (err, list, map, ...) as a let/match binding passes analysis (as
;; in the reference, whose analysis only refuses names the contract defines). The reference
;; refuses such a binding when it is made (run-time NameAlreadyUsed), so only the branch that
;; binds it aborts. CityCoins' ccd002-treasury matches `(err (to-uint err))`. (A function
;; argument so named is refused: bad-argument-builtin-name.clar.)
(define-read-only (to-code (r (response bool int)))
  (match r
    success (ok success)
    err (err (to-uint err))))
(define-read-only (let-named-hash (x uint))
  (if (> x u0) x (let ((hash160 x)) hash160)))
;; > (contract-call? .builtin-named-bindings to-code (ok true))
;; = (ok true)
;; > (contract-call? .builtin-named-bindings to-code (err 3))
;; ! reserved name
;; > (contract-call? .builtin-named-bindings let-named-hash u4)
;; = u4
;; > (contract-call? .builtin-named-bindings let-named-hash u0)
;; ! reserved name
