;; @requires: sip010-trait sip010-token
;; In Clarity 2 the reference's checker lets a `let` bind the name of a trait-typed argument
;; again (its variables and trait references are apart), but its evaluator has every
;; argument among the variables and refuses the binding when it is made (NameAlreadyUsed):
;; the function deploys and its calls abort. A binding named like one of the contract's own
;; functions passes the checker when that function is not defined before it in the
;; reference's order (here: the function itself, as in a mainnet contract, or a later one;
;; reading the binding would make the function name itself, a definition cycle), and is
;; refused when made, as the reference's evaluator knows every function.
(use-trait ft .sip010-trait.sip-010-trait)
(define-read-only (named (token-contract <ft>))
  (let ((token-contract (contract-of token-contract)))
    token-contract))
(define-read-only (self-named (n uint))
  (if (> n u0) n (let ((self-named u1)) (+ n u1))))
(define-read-only (later (n uint))
  (if (> n u0) n (let ((after u1)) (+ n u2))))
(define-read-only (after) u2)
;; > (contract-call? .trait-arg-rebound-clarity2 named .sip010-token)
;; ! cannot be bound
;; > (contract-call? .trait-arg-rebound-clarity2 self-named u3)
;; = u3
;; > (contract-call? .trait-arg-rebound-clarity2 self-named u0)
;; ! cannot be bound
;; > (contract-call? .trait-arg-rebound-clarity2 later u0)
;; ! cannot be bound
