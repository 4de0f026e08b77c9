;; A constant bound to a standard principal is not a contract-call? target (the reference
;; refuses it too: ExpectedCallableType).
;; @requires: sip010-trait sip010-token
(define-constant treasury 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM)
(define-public (pay (amount uint))
  (contract-call? treasury transfer amount tx-sender tx-sender none))
;; @deploy-error: contract-call? expects
