;; Runtime arithmetic errors abort the call.
(define-data-var x int 0)
(define-public (set-and-overflow (v int))
  (begin (var-set x v) (ok (* v 170141183460469231731687303715884105727))))
(define-read-only (get-x) (var-get x))
;; > (contract-call? .arith-errors set-and-overflow 2)
;; ! overflow
;; > (contract-call? .arith-errors get-x)
;; = 0
;; > (contract-call? .arith-errors set-and-overflow 1)
;; = (ok 170141183460469231731687303715884105727)
;; > (contract-call? .arith-errors get-x)
;; = 1
;; > (/ 5 0)
;; ! division by zero
;; > (mod u5 u0)
;; ! division by zero
;; > (- u3 u4)
;; ! overflow
;; > (pow 2 -1)
;; ! pow
;; > (sqrti -4)
;; ! negative
;; > (log2 0)
;; ! log2
;; > (to-uint -1)
;; ! negative
;; > (to-int u170141183460469231731687303715884105728)
;; ! too large
;; > (+ u340282366920938463463374607431768211455 u1)
;; ! overflow
