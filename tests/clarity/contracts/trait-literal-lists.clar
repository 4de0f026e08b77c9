;; Lists of contract principal literals (and of constants bound to them) where a list of
;; <ft-trait> is expected, as batch and airdrop contracts pass their tokens. The reference does
;; not let such a literal list go straight to map/fold over a function taking <ft-trait> (see
;; bad-trait-literal-list); it accepts it as the argument of a function whose parameter is a
;; (list N <ft-trait>), each literal implementing the trait, and the map/fold happens there.
;; @requires: sip010-trait sip010-token sip010-token-b
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-constant token-b .sip010-token-b)
(define-private (balance-of (token <ft-trait>))
  (unwrap-panic (contract-call? token get-balance tx-sender)))
(define-private (add-balance (token <ft-trait>) (acc uint))
  (+ acc (balance-of token)))
(define-private (give (token <ft-trait>) (amount uint))
  (contract-call? token transfer amount tx-sender 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5 none))
(define-private (sum (tokens (list 5 <ft-trait>))) (fold add-balance tokens u0))
(define-private (send-all (tokens (list 5 <ft-trait>)) (amount uint))
  (map give tokens (list amount amount amount amount amount)))
(define-public (balances (tokens (list 5 <ft-trait>))) (ok (map balance-of tokens)))
(define-public (total) (ok (sum (list .sip010-token token-b))))
(define-public (airdrop (amount uint))
  (ok (send-all (list .sip010-token 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sip010-token-b) amount)))
;; > (contract-call? .sip010-token mint u100 tx-sender)
;; = (ok true)
;; > (contract-call? .sip010-token-b mint u40 tx-sender)
;; = (ok true)
;; > (contract-call? .trait-literal-lists balances (list .sip010-token .sip010-token-b))
;; = (ok (list u100 u40))
;; > (contract-call? .trait-literal-lists total)
;; = (ok u140)
;; > (contract-call? .trait-literal-lists airdrop u7)
;; = (ok (list (ok true) (ok true)))
;; # ft_transfer_event
;; > (contract-call? .sip010-token get-balance 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok u7)
;; > (contract-call? .sip010-token-b get-balance 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok u7)
;; > (contract-call? .trait-literal-lists total)
;; = (ok u126)
;; Each literal must implement the trait.
;; > (contract-call? .trait-literal-lists balances (list .sip010-token .sip010-trait))
;; ? does not define public function
