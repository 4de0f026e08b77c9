;; at-block evaluates its read-only expression in the state at the end of the block whose
;; id-header-hash it is given (kept by the store: the suite's MemoryStore keeps every block
;; ended with ClarityVM.advance), with that block's block-height and burn-block-height.
(define-data-var n uint u3)
(define-public (set (v uint)) (ok (var-set n v)))
(define-read-only (id (h uint)) (unwrap-panic (get-block-info? id-header-hash h)))
(define-read-only (past (h (buff 32))) (at-block h (var-get n)))
(define-read-only (then (h uint))
  (at-block (id h) {n: (var-get n), height: block-height, burn: burn-block-height,
                    later: (get-block-info? time h)}))
(define-read-only (now) (var-get n))
(define-read-only (typed) (+ u1 (at-block (id u10) (var-get n))))
(define-public (set-and-look (v uint))
  (begin (var-set n v) (ok {now: (var-get n), then: (at-block (id u11) (var-get n))})))

;; > (contract-call? .at-block now)
;; = u3
;; @advance: 1 1
;; > (contract-call? .at-block set u7)
;; = (ok true)
;; @advance: 1
;; > (contract-call? .at-block now)
;; = u7
;; > (contract-call? .at-block then u10)
;; = {burn: u20, height: u10, later: none, n: u3}
;; > (contract-call? .at-block then u11)
;; = {burn: u21, height: u11, later: none, n: u7}
;; > (contract-call? .at-block typed)
;; = u4
;; a transaction's own writes are not part of a past block's state
;; > (contract-call? .at-block set-and-look u9)
;; = (ok {now: u9, then: u7})
;; the current block has no id-header-hash yet; blocks whose state was not kept and
;; unknown hashes cannot be named
;; > (contract-call? .at-block then u12)
;; ! unwrap-panic
;; > (contract-call? .at-block then u5)
;; ! with its state kept
;; > (contract-call? .at-block past 0x0000000000000000000000000000000000000000000000000000000000000000)
;; ! at-block: no block 0x0000000000000000000000000000000000000000000000000000000000000000
