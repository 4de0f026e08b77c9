(define-data-var calls uint u0)
(define-private (bump) (begin (var-set calls (+ (var-get calls) u1)) true))
(define-public (short-circuit)
  (begin
    (asserts! (not (and false (bump))) (err u1))
    (asserts! (or true (bump)) (err u2))
    (ok (var-get calls))))
(define-read-only (truth) (list (and true true) (and true false) (or false false) (or false true) (not false)))
;; > (contract-call? .logic short-circuit)
;; = (ok u0)
;; > (contract-call? .logic truth)
;; = (list true false false true true)
;; > (and 1 true)
;; ? bool
