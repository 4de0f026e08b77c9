;; A function argument named like a builtin function: the reference's analysis lets it pass,
;; but its evaluator refuses to define the function when the contract is deployed
;; (`check_legal_define`, NameAlreadyUsed), so the contract never deploys; refused here at
;; deploy too. No contract deployed on mainnet has one.
(define-read-only (arg-named-list (list (list 3 uint)) (n uint))
  (+ (len list) n))
;; @deploy-error: 'list' is a reserved name
