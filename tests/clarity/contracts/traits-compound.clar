;; Trait references inside compound argument types (Clarity 2), as real routers use them:
;; a swap pair in a tuple, a batch in a list, an optional and a response. The trait values
;; are taken out with get / let / unwrap! / match / element-at? / fold and called dynamically.
;; @requires: sip010-trait sip010-token sip010-token-b
(use-trait ft-trait .sip010-trait.sip-010-trait)

;; The caller pays dx of token-x to the router; the router pays dy of token-y back.
(define-public (swap (pair {token-x: <ft-trait>, token-y: <ft-trait>}) (dx uint) (dy uint))
  (let ((token-x (get token-x pair))
        (token-y (get token-y pair))
        (user tx-sender))
    (try! (contract-call? token-x transfer dx user (as-contract tx-sender) none))
    (try! (as-contract (contract-call? token-y transfer dy tx-sender user none)))
    (ok {x-in: dx, y-out: dy})))

(define-read-only (pair-contracts (pair {token-x: <ft-trait>, token-y: <ft-trait>}))
  {x: (contract-of (get token-x pair)), y: (contract-of (get token-y pair))})

(define-private (send-one (token <ft-trait>) (acc {to: principal, amount: uint, sent: uint}))
  (begin
    (unwrap-panic (contract-call? token transfer (get amount acc) tx-sender (get to acc) none))
    (merge acc {sent: (+ (get sent acc) u1)})))

(define-public (batch-send (tokens (list 5 <ft-trait>)) (amount uint) (to principal))
  (ok (get sent (fold send-one tokens {to: to, amount: amount, sent: u0}))))

(define-public (send-first (tokens (list 5 <ft-trait>)) (amount uint) (to principal))
  (let ((token (unwrap! (element-at? tokens u0) (err u404))))
    (contract-call? token transfer amount tx-sender to none)))

(define-public (maybe-balance (token (optional <ft-trait>)) (who principal))
  (match token t (contract-call? t get-balance who) (ok u0)))

(define-public (resp-balance (r (response <ft-trait> uint)) (who principal))
  (let ((t (unwrap! r (err u7))))
    (contract-call? t get-balance who)))

;; A tuple rebuilt from trait values is passed on to a function taking the same tuple type.
(define-public (swap-back (pair {token-x: <ft-trait>, token-y: <ft-trait>}) (dy uint) (dx uint))
  (let ((tx (get token-x pair)) (ty (get token-y pair)))
    (swap {token-x: ty, token-y: tx} dy dx)))

;; > (contract-call? .sip010-token mint u1000 tx-sender)
;; = (ok true)
;; > (contract-call? .sip010-token-b mint u500 .traits-compound)
;; = (ok true)
;; > (contract-call? .traits-compound swap {token-x: .sip010-token, token-y: .sip010-token-b} u100 u40)
;; = (ok {x-in: u100, y-out: u40})
;; # ft_transfer_event
;; > (contract-call? .sip010-token get-balance .traits-compound)
;; = (ok u100)
;; > (contract-call? .sip010-token-b get-balance tx-sender)
;; = (ok u40)
;; > (contract-call? .sip010-token-b get-balance .traits-compound)
;; = (ok u460)
;; > (contract-call? .traits-compound swap-back {token-x: .sip010-token, token-y: .sip010-token-b} u10 u5)
;; = (ok {x-in: u10, y-out: u5})
;; > (contract-call? .sip010-token-b get-balance tx-sender)
;; = (ok u30)
;; > (contract-call? .traits-compound pair-contracts {token-x: .sip010-token, token-y: .sip010-token-b})
;; = {x: 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sip010-token, y: 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sip010-token-b}
;; > (contract-call? .traits-compound batch-send (list .sip010-token .sip010-token-b) u10 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok u2)
;; > (contract-call? .sip010-token get-balance 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok u10)
;; > (contract-call? .sip010-token-b get-balance 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok u10)
;; > (contract-call? .traits-compound send-first (list .sip010-token-b) u3 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok true)
;; > (contract-call? .traits-compound send-first (list) u3 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (err u404)
;; > (contract-call? .traits-compound maybe-balance (some .sip010-token) 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok u10)
;; > (contract-call? .traits-compound maybe-balance none 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok u0)
;; > (contract-call? .traits-compound resp-balance (ok .sip010-token-b) 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok u13)
;; > (contract-call? .traits-compound resp-balance (err u3) 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (err u7)
;; A contract that does not implement the trait is refused wherever it sits.
;; > (contract-call? .traits-compound swap {token-x: .sip010-token, token-y: .sip010-trait} u1 u1)
;; ? does not define public function
;; > (contract-call? .traits-compound batch-send (list .sip010-token .sip010-trait) u1 tx-sender)
;; ? does not define public function
;; > (contract-call? .traits-compound maybe-balance (some .sip010-trait) tx-sender)
;; ? does not define public function
;; > (contract-call? .traits-compound resp-balance (ok .sip010-trait) tx-sender)
;; ? does not define public function
;; A standard principal is not a contract implementing the trait.
;; > (contract-call? .traits-compound swap {token-x: .sip010-token, token-y: tx-sender} u1 u1)
;; ? expected a contract implementing
;; Wrong shapes and arity.
;; > (contract-call? .traits-compound swap {token-x: .sip010-token, token-y: .sip010-token-b} u1)
;; ? expects 3 argument(s), got 2
;; > (contract-call? .traits-compound swap {token-x: .sip010-token} u1 u1)
;; ? a field is missing
;; > (contract-call? .traits-compound batch-send (list .sip010-token .sip010-token .sip010-token .sip010-token .sip010-token .sip010-token) u1 tx-sender)
;; ? got a list of 6
;; Nothing moved by the refused calls.
;; > (contract-call? .sip010-token get-balance .traits-compound)
;; = (ok u95)
