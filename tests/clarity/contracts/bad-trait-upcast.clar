;; A trait reference is not a principal: the reference refuses one where a principal is
;; expected (its upcast-trait tests); (contract-of m) gives the principal.
(define-trait math ((add (uint uint) (response uint uint))))
(define-data-var keep principal tx-sender)
(define-public (store (m <math>)) (begin (var-set keep (contract-of m)) (ok true)))
(define-public (upcast (m <math>)) (begin (var-set keep m) (ok true)))
;; @deploy-error: expected type principal, got < @ 6:57
