(define-private (check-pos (x int)) (if (> x 0) (ok x) (err u1)))
(define-public (double-pos (x int))
  (let ((v (try! (check-pos x))))
    (ok (* v 2))))
(define-public (describe (x int))
  (match (check-pos x) v (ok v) e (err (+ e u100))))
(define-read-only (first-some (a (optional int)) (b (optional int)))
  (some (+ (unwrap! a none) (unwrap! b none))))
(define-read-only (error-of (x int)) (unwrap-err! (check-pos x) u0))
;; > (contract-call? .responses double-pos 4)
;; = (ok 8)
;; > (contract-call? .responses double-pos -4)
;; = (err u1)
;; > (contract-call? .responses describe 5)
;; = (ok 5)
;; > (contract-call? .responses describe 0)
;; = (err u101)
;; > (contract-call? .responses first-some (some 1) (some 2))
;; = (some 3)
;; > (contract-call? .responses first-some (some 1) none)
;; = none
;; > (contract-call? .responses error-of -1)
;; = u1
;; > (contract-call? .responses error-of 1)
;; = u0
;; > (is-ok (contract-call? .responses double-pos 1))
;; = true
;; > (unwrap-err-panic (ok 1))
;; ! unwrap-err-panic
