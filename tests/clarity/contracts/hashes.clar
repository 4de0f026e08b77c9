(define-read-only (h) (list (sha256 0x) (keccak256 0x)))
(define-read-only (h160) (hash160 0x))
(define-read-only (h512) (sha512 0x616263))
(define-read-only (h512-256) (sha512/256 0x616263))
(define-read-only (hint) (sha256 u0))
;; > (contract-call? .hashes h)
;; = (list 0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470)
;; > (contract-call? .hashes h160)
;; = 0xb472a266d0bd89c13706a4132ccfb16f7c3b9fcb
;; > (contract-call? .hashes h512)
;; = 0xddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f
;; > (contract-call? .hashes h512-256)
;; = 0x53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23
;; > (contract-call? .hashes hint)
;; = 0x374708fff7719dd5979ec875d56cd2286f6d3cf7ec317a3b25632aab28ec37bb
;; > (sha256 "abc")
;; ? buffer, int or uint
