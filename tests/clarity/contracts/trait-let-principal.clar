;; A let binding of a contract principal literal may be passed where a trait is expected when
;; the contract implements it: the reference types the binding with that contract
;; (CallableType) and checks it like the literal (clarity2_inner_type_check_type). Bitflow
;; routers bind token contracts with let before passing them on.
;; @requires: sip010-trait sip010-token
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-private (balance-of (token <ft-trait>))
  (unwrap-panic (contract-call? token get-balance tx-sender)))
(define-public (via-let)
  (let ((token .sip010-token))
    (ok (balance-of token))))
;; > (contract-call? .trait-let-principal via-let)
;; = (ok u0)
;; > (let ((t .sip010-trait)) t)
;; = 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sip010-trait
