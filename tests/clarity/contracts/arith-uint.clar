(define-read-only (calc) (list (+ u1 u2) (- u10 u4) (* u6 u7) (/ u9 u2) (mod u9 u2) (pow u2 u127) (sqrti u1000000) (log2 u1)))
;; > (contract-call? .arith-uint calc)
;; = (list u3 u6 u42 u4 u1 u170141183460469231731687303715884105728 u1000 u0)
;; > (- u0 u0)
;; = u0
