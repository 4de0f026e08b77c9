;; Reads the ledger chain (burn) and the inference chain through the host.
(define-read-only (ledger-height) burn-block-height)
(define-read-only (inference-height) block-height)
(define-read-only (ledger-hash (h uint)) (get-burn-block-info? header-hash h))
(define-read-only (has-ledger-block (h uint)) (is-some (get-burn-block-info? header-hash h)))
(define-read-only (block-time (h uint)) (get-block-info? time h))
(define-read-only (miner (h uint)) (get-block-info? miner-address h))
(define-read-only (anchor (h uint)) (is-eq (get-block-info? burnchain-header-hash h) (get-burn-block-info? header-hash h)))

;; > (contract-call? .ledger-info ledger-height)
;; = u20
;; > (contract-call? .ledger-info inference-height)
;; = u10
;; > (contract-call? .ledger-info ledger-hash u0)
;; = (some 0x634b6d4929229786607a528d71649dbff24fd71e9c8bad5a1c5541a5d358eb2b)
;; > (contract-call? .ledger-info has-ledger-block u19)
;; = true
;; > (contract-call? .ledger-info has-ledger-block u20)
;; = false
;; > (contract-call? .ledger-info block-time u3)
;; = (some u1700000030)
;; > (contract-call? .ledger-info block-time u10)
;; = none
;; > (contract-call? .ledger-info miner u1)
;; = (some 'ST000000000000000000002AMW42H)
;; > (contract-call? .ledger-info anchor u4)
;; = true
;; @advance: 1 2
;; > (contract-call? .ledger-info ledger-height)
;; = u22
;; > (contract-call? .ledger-info has-ledger-block u21)
;; = true
