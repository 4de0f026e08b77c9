;; @clarity-version: 1
;; @requires: sip010-trait
;; A call through a trait-typed argument's name that a `let` binds again: the reference
;; would call the trait reference, this evaluator the newer binding; refused at deploy
;; rather than run differently.
(use-trait ft .sip010-trait.sip-010-trait)
(define-public (send (token <ft>) (other principal))
  (let ((token other))
    (contract-call? token transfer u1 tx-sender other none)))
;; @deploy-error: binds again
