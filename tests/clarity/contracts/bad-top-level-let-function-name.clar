;; A `let` run at deploy (here in a constant's value) binding the name of a read-only
;; function: the reference's type checker does not look at read-only functions' names, but
;; its evaluator refuses the binding when it is made (NameAlreadyUsed), so the deploy aborts.
;; Its definition sorter puts the function first although it is written after: the constant
;; names it (the binding's name is an atom like any other).
(define-constant rate (let ((get-rate u7)) (+ get-rate u1)))
(define-read-only (get-rate) u5)
;; @deploy-abort: 'get-rate' cannot be bound
