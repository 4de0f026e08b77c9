(define-constant err-zero (err u10))
(define-public (non-zero (x uint))
  (begin (asserts! (> x u0) err-zero) (ok x)))
(define-read-only (check (x int)) (begin (asserts! (> x 0) false) true))
;; > (contract-call? .asserts non-zero u3)
;; = (ok u3)
;; > (contract-call? .asserts non-zero u0)
;; = (err u10)
;; > (contract-call? .asserts check 1)
;; = true
;; > (contract-call? .asserts check -1)
;; = false
;; > (asserts! 1 (err u1))
;; ? expected type bool
