;; A list of contract principal literals given directly to fold over a function taking
;; <ft-trait>. Both contracts implement the trait, yet the reference refuses it: map/fold check
;; their function with admits_type against the list's element type, a union of contract
;; principals that it takes as a plain principal, and a principal is not a trait (stacks-core
;; check_special_fold -> FunctionType::check_args_2_1, since 2.1). See trait-literal-lists for the
;; form it accepts.
;; @requires: sip010-trait sip010-token sip010-token-b
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-private (add-balance (token <ft-trait>) (acc uint))
  (+ acc (unwrap-panic (contract-call? token get-balance tx-sender))))
(define-public (total) (ok (fold add-balance (list .sip010-token .sip010-token-b) u0)))
;; @deploy-error: cannot take an argument of type principal
