;; A contract principal that does not implement the trait, passed inside a tuple argument.
;; @requires: sip010-trait sip010-token
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-private (pay (p {token: <ft-trait>, amount: uint}))
  (let ((token (get token p)))
    (contract-call? token transfer (get amount p) tx-sender 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5 none)))
(define-public (good) (pay {token: .sip010-token, amount: u1}))
(define-public (bad) (pay {token: .sip010-trait, amount: u1}))
;; @deploy-error: does not define public function
