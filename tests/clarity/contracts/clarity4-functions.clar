;; Clarity 4's functions and keywords besides the allowances.
;; @clarity-version: 4
(define-read-only (me) current-contract)
(define-read-only (now) stacks-block-time)
(define-read-only (hash-of (p principal)) (contract-hash? p))
(define-read-only (texts)
  (list (to-ascii? 123) (to-ascii? -7) (to-ascii? u456) (to-ascii? true) (to-ascii? false)
        (to-ascii? 0x00112233) (to-ascii? 0x) (to-ascii? u"tab\tand :)")))
(define-read-only (principal-text) (to-ascii? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.foo))
(define-read-only (not-ascii) (to-ascii? u"smile \u{1F600}"))
(define-read-only (r1 (hash (buff 32)) (sig (buff 64)) (key (buff 33))) (secp256r1-verify hash sig key))
(define-read-only (hashes (ps (list 3 principal))) (map contract-hash? ps))

;; > (contract-call? .clarity4-functions me)
;; = 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.clarity4-functions
;; the suite's chain is at block 10: 10 s a block from 1,700,000,000
;; > (contract-call? .clarity4-functions now)
;; = u1700000100
;; > (contract-call? .clarity4-functions hash-of 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM)
;; = (err u1)
;; > (contract-call? .clarity4-functions hash-of 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.does-not-exist)
;; = (err u2)
;; > (contract-call? .clarity4-functions texts)
;; = (list (ok "123") (ok "-7") (ok "u456") (ok "true") (ok "false") (ok "0x00112233") (ok "0x") (ok "tab\tand :)"))
;; > (contract-call? .clarity4-functions principal-text)
;; = (ok "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.foo")
;; > (contract-call? .clarity4-functions not-ascii)
;; = (err u1)
;; the reference's documented vector: Clarity 4 verifies the signature of SHA-256(hash)
;; > (contract-call? .clarity4-functions r1 0xc3abef6a775793dfbc8e0719e7a1de1fc2f90d37a7912b1ce8e300a5a03b06a8 0xf2b8c0645caa7250e3b96d633cf40a88456e4ffbddffb69200c4e019039dfd310eac59293c23e6d6aa8b0c5d9e4e48fa4c4fdf1ace2ba618dc0263b5e90a0903 0x031e18532fd4754c02f3041d9c75ceb33b83ffd81ac7ce4fe882ccb1c98bc5896e)
;; = true
;; > (contract-call? .clarity4-functions r1 0xc3abef6a775793dfbc8e0719e7a1de1fc2f90d37a7912b1ce8e300a5a03b06a9 0xf2b8c0645caa7250e3b96d633cf40a88456e4ffbddffb69200c4e019039dfd310eac59293c23e6d6aa8b0c5d9e4e48fa4c4fdf1ace2ba618dc0263b5e90a0903 0x031e18532fd4754c02f3041d9c75ceb33b83ffd81ac7ce4fe882ccb1c98bc5896e)
;; = false
;; a short signature is false, a short hash aborts
;; > (contract-call? .clarity4-functions r1 0xc3abef6a775793dfbc8e0719e7a1de1fc2f90d37a7912b1ce8e300a5a03b06a8 0xf2b8 0x031e18532fd4754c02f3041d9c75ceb33b83ffd81ac7ce4fe882ccb1c98bc5896e)
;; = false
;; > (contract-call? .clarity4-functions r1 0xc3ab 0xf2b8 0x031e18532fd4754c02f3041d9c75ceb33b83ffd81ac7ce4fe882ccb1c98bc5896e)
;; ! secp256r1-verify takes a 32-byte hash
;; > (contract-call? .clarity4-functions hashes (list 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.nope))
;; = (list (err u1) (err u2))
