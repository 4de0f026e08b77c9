(define-private (square (x int)) (* x x))
(define-private (sum-squares (a int) (b int)) (+ (square a) (square b)))
(define-read-only (pyth) (sum-squares 3 4))
;; > (contract-call? .private-calls pyth)
;; = 25
;; > (contract-call? .private-calls square 2)
;; ? private
