;; at-block passes analysis as in the reference (a block hash and a read-only expression,
;; typed as the expression) and, as this VM keeps no historical state, aborts when it is
;; evaluated; the contract's other functions are unaffected.
(define-data-var n uint u3)
(define-read-only (past (h (buff 32))) (at-block h (var-get n)))
(define-read-only (now) (var-get n))
(define-read-only (typed) (+ u1 (at-block 0x0000000000000000000000000000000000000000000000000000000000000001 (var-get n))))

;; > (contract-call? .at-block now)
;; = u3
;; > (contract-call? .at-block past 0x0000000000000000000000000000000000000000000000000000000000000000)
;; ! at-block: the state as of block 0x0000000000000000000000000000000000000000000000000000000000000000 is not available
;; > (contract-call? .at-block typed)
;; ! this VM keeps no historical state
