;; paid-token: an inference-chain (L2) token minted only for a FAI payment proven on the
;; ledger chain (L1), through the fai-l1-proofs library (deployed by the same account).
;;
;; To buy, pay SHOP-KEY on L1 in a transaction that also carries a data output holding the
;; 20-byte hash of the buyer's L2 principal (its hash-bytes); once the L1 block has
;; MIN-CONFIRMATIONS as the inference chain sees it (burn-block-height), the buyer calls
;; claim with the proof (`GET /v1/l1/tx/<txid>/proof` on a node, or funai.ledger.proof).
;; Each L1 output is credited once; only the principal the payment names gets the tokens.

(define-constant SHOP-KEY 0x0101010101010101010101010101010101010101010101010101010101010101)
(define-constant MIN-CONFIRMATIONS u2)

(define-constant ERR-NOT-TO-SHOP (err u100))
(define-constant ERR-NOT-FOR-YOU (err u101))
(define-constant ERR-CLAIMED (err u102))
(define-constant ERR-UNCONFIRMED (err u103))
(define-constant ERR-NO-MEMO (err u104))

(define-fungible-token paid)
(define-map claimed {txid: (buff 32), index: uint} bool)

(define-private (hash-of (who principal))
  (match (principal-destruct? who) p (get hash-bytes p) e (get hash-bytes e)))

(define-public (claim
    (height uint)
    (header (buff 80))
    (tx {version: uint,
         ins: (list 32 {txid: (buff 32), index: uint}),
         outs: (list 16 {kind: uint, value: uint, payload: (buff 80)}),
         lock-time: uint,
         coinbase: (optional {height: uint, extra-nonce: (buff 100), witness-root: (buff 32)})})
    (proof (list 32 {hash: (buff 32), left: bool}))
    (index uint)
    (memo-index uint))
  (let ((out (try! (contract-call? .fai-l1-proofs verify-output height header tx proof index)))
        (memo (unwrap! (element-at? (get outs tx) memo-index) ERR-NO-MEMO)))
    (asserts! (>= (+ (- burn-block-height height) u1) MIN-CONFIRMATIONS) ERR-UNCONFIRMED)
    (asserts! (and (is-eq (get kind out) u0) (is-eq (get payload out) SHOP-KEY)) ERR-NOT-TO-SHOP)
    (asserts! (and (is-eq (get kind memo) u2) (is-eq (get payload memo) (hash-of tx-sender)))
              ERR-NOT-FOR-YOU)
    (asserts! (map-insert claimed {txid: (get txid out), index: index} true) ERR-CLAIMED)
    (try! (ft-mint? paid (get value out) tx-sender))
    (ok (get value out))))

(define-read-only (get-balance (who principal)) (ft-get-balance paid who))
