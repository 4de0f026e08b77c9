;; fai-l1-proofs: prove on the inference chain that a FAI ledger (L1) transaction was mined
;; in a given ledger block (whitepaper section 9; docs/clarity.md "Verifying L1 transactions").
;;
;; How the ledger commits to a transaction (funai/ledger/tx.py, block.py, header.py):
;;   txid   = sha256d(deterministic CBOR of [version, inputs, outputs, lock_time, coinbase|null])
;;   leaf   = sha256d(0x00 || txid), node = sha256d(0x01 || left || right); an odd last node
;;            moves up unchanged (no duplicated leaf), so a proof has one step per level
;;            where the path has a sibling
;;   header = 80 bytes: version(4) prev_hash(32) merkle_root(32) time(4) bits(4) nonce(4)
;;   block hash = sha256d(header), what (get-burn-block-info? header-hash height) returns.
;;
;; The caller passes the transaction decoded (a tuple, see the TX shape below) instead of
;; its bytes: the contract re-encodes it with the same deterministic CBOR and hashes it.
;; Deterministic CBOR is injective, so a tuple whose encoding hashes to a txid committed by
;; the block IS that transaction (up to SHA-256 collisions), and its outputs can be read
;; directly; no CBOR parsing (which Clarity's loop-free folds make costly) is needed.
;; Integers must be below 2^64 (CBOR's range); larger ones are refused (err u4).
;;
;; TX: {version: uint,
;;      ins: (list 32 {txid: (buff 32), index: uint}),
;;      outs: (list 16 {kind: uint, value: uint, payload: (buff 80)}),
;;      lock-time: uint,
;;      coinbase: (optional {height: uint, extra-nonce: (buff 100), witness-root: (buff 32)})}
;;   output kind: u0 pay-to-key (payload: 32-byte x-only key), u1 pay-to-key-hash (20 bytes),
;;   u2 data (<= 80 bytes, value 0), u3 pay-to-quorum (32 bytes); value in base units.
;; PROOF: (list 32 {hash: (buff 32), left: bool}) from the leaf up; left = the sibling is the
;;   left child. funai.ledger.proof.merkle_proof / tx_proof build it.
;;
;; A proof shows inclusion only: a caller crediting something must also record the txid
;; (or outpoint) it credited, and may demand confirmations (burn-block-height - height).

(define-constant ERR-NO-BLOCK (err u1))    ;; no ledger block at that height (yet)
(define-constant ERR-BAD-HEADER (err u2))  ;; the header does not hash to that block
(define-constant ERR-BAD-PROOF (err u3))   ;; the Merkle path does not lead to the header's root
(define-constant ERR-RANGE (err u4))       ;; an integer of the transaction is >= 2^64
(define-constant ERR-NO-OUTPUT (err u5))   ;; no output at that index

(define-constant BYTES 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff)
(define-constant U64 u18446744073709551616)

(define-private (byte (n uint)) (unwrap-panic (element-at? BYTES n)))

;; the last k bytes of n, big-endian
(define-private (be (n uint) (k uint))
  (unwrap-panic (slice? (unwrap-panic (to-consensus-buff? n)) (- u17 k) u17)))

;; CBOR head of major type m (0 uint, 2 bytes, 4 array) with argument n < 2^64
(define-private (head (m uint) (n uint))
  (let ((top (* m u32)))
    (unwrap-panic (as-max-len?
      (if (< n u24) (byte (+ top n))
        (if (< n u256) (concat (byte (+ top u24)) (be n u1))
          (if (< n u65536) (concat (byte (+ top u25)) (be n u2))
            (if (< n u4294967296) (concat (byte (+ top u26)) (be n u4))
              (concat (byte (+ top u27)) (be n u8))))))
      u9))))

(define-private (enc-bytes (b (buff 100)))
  (concat (head u2 (len b)) b))

(define-private (enc-in (i {txid: (buff 32), index: uint}) (acc (buff 1280)))
  (unwrap-panic (as-max-len?
    (concat acc (concat 0x82 (concat (enc-bytes (get txid i)) (head u0 (get index i)))))
    u1280)))

(define-private (enc-out (o {kind: uint, value: uint, payload: (buff 80)}) (acc (buff 1728)))
  (unwrap-panic (as-max-len?
    (concat acc (concat (concat 0x83 (head u0 (get kind o)))
                        (concat (head u0 (get value o)) (enc-bytes (get payload o)))))
    u1728)))

(define-private (enc-coinbase
    (c (optional {height: uint, extra-nonce: (buff 100), witness-root: (buff 32)})))
  (match c cb
    (unwrap-panic (as-max-len?
      (concat (concat 0x83 (head u0 (get height cb)))
              (concat (enc-bytes (get extra-nonce cb)) (enc-bytes (get witness-root cb))))
      u150))
    0xf6))

(define-private (in-ok (i {txid: (buff 32), index: uint}) (good bool))
  (and good (< (get index i) U64)))

(define-private (out-ok (o {kind: uint, value: uint, payload: (buff 80)}) (good bool))
  (and good (< (get kind o) U64) (< (get value o) U64)))

(define-read-only (in-range
    (tx {version: uint,
         ins: (list 32 {txid: (buff 32), index: uint}),
         outs: (list 16 {kind: uint, value: uint, payload: (buff 80)}),
         lock-time: uint,
         coinbase: (optional {height: uint, extra-nonce: (buff 100), witness-root: (buff 32)})}))
  (and (< (get version tx) U64) (< (get lock-time tx) U64)
       (match (get coinbase tx) cb (< (get height cb) U64) true)
       (fold in-ok (get ins tx) true)
       (fold out-ok (get outs tx) true)))

;; The deterministic CBOR of the transaction without witnesses (what its txid hashes).
(define-read-only (encode-tx
    (tx {version: uint,
         ins: (list 32 {txid: (buff 32), index: uint}),
         outs: (list 16 {kind: uint, value: uint, payload: (buff 80)}),
         lock-time: uint,
         coinbase: (optional {height: uint, extra-nonce: (buff 100), witness-root: (buff 32)})}))
  (concat
    (concat (concat 0x85 (head u0 (get version tx)))
            (concat (head u4 (len (get ins tx))) (fold enc-in (get ins tx) 0x)))
    (concat (concat (head u4 (len (get outs tx))) (fold enc-out (get outs tx) 0x))
            (concat (head u0 (get lock-time tx)) (enc-coinbase (get coinbase tx))))))

(define-read-only (get-txid
    (tx {version: uint,
         ins: (list 32 {txid: (buff 32), index: uint}),
         outs: (list 16 {kind: uint, value: uint, payload: (buff 80)}),
         lock-time: uint,
         coinbase: (optional {height: uint, extra-nonce: (buff 100), witness-root: (buff 32)})}))
  (sha256 (sha256 (encode-tx tx))))

(define-private (climb (step {hash: (buff 32), left: bool}) (acc (buff 32)))
  (sha256 (sha256 (if (get left step)
                      (concat 0x01 (concat (get hash step) acc))
                      (concat 0x01 (concat acc (get hash step)))))))

;; The Merkle root that the path leads to from txid.
(define-read-only (root-from-proof (txid (buff 32)) (proof (list 32 {hash: (buff 32), left: bool})))
  (fold climb proof (sha256 (sha256 (concat 0x00 txid)))))

;; (ok merkle-root) when header is the ledger block at height.
(define-read-only (verify-header (height uint) (header (buff 80)))
  (let ((hash (unwrap! (get-burn-block-info? header-hash height) ERR-NO-BLOCK)))
    (asserts! (and (is-eq (len header) u80) (is-eq (sha256 (sha256 header)) hash)) ERR-BAD-HEADER)
    (ok (unwrap-panic (as-max-len? (unwrap-panic (slice? header u36 u68)) u32)))))

;; (ok txid) when tx was mined in the ledger block at height whose 80-byte header is header.
(define-read-only (verify-tx-mined
    (height uint)
    (header (buff 80))
    (tx {version: uint,
         ins: (list 32 {txid: (buff 32), index: uint}),
         outs: (list 16 {kind: uint, value: uint, payload: (buff 80)}),
         lock-time: uint,
         coinbase: (optional {height: uint, extra-nonce: (buff 100), witness-root: (buff 32)})})
    (proof (list 32 {hash: (buff 32), left: bool})))
  (let ((root (try! (verify-header height header))))
    (asserts! (in-range tx) ERR-RANGE)
    (let ((txid (get-txid tx)))
      (asserts! (is-eq (root-from-proof txid proof) root) ERR-BAD-PROOF)
      (ok txid))))

;; (ok {txid, kind, value, payload}) of output index of a transaction proven mined at height.
(define-read-only (verify-output
    (height uint)
    (header (buff 80))
    (tx {version: uint,
         ins: (list 32 {txid: (buff 32), index: uint}),
         outs: (list 16 {kind: uint, value: uint, payload: (buff 80)}),
         lock-time: uint,
         coinbase: (optional {height: uint, extra-nonce: (buff 100), witness-root: (buff 32)})})
    (proof (list 32 {hash: (buff 32), left: bool}))
    (index uint))
  (let ((txid (try! (verify-tx-mined height header tx proof)))
        (out (unwrap! (element-at? (get outs tx) index) ERR-NO-OUTPUT)))
    (ok (merge out {txid: txid}))))
