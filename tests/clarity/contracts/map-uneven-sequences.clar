;; `map` over sequences of different lengths, as the reference evaluates it in epochs 2.0 to
;; 3.4 (`special_map_v200`, an off-by-one it fixes from epoch 4.0; this VM follows 3.4): the
;; result has the length of the shortest sequence, except that an empty sequence after a
;; longer one leaves the earlier items applied alone, and an empty first sequence gives one
;; item of the next. A mainnet contract (SP1GPNZB0JSC9RXJTXVBAMSPQE29WM1SE8V39R6K2.range)
;; returns (list 0) for `(range 0 -1)` through it. Expected results are the reference's.
(define-read-only (m2 (a (list 5 int)) (b (list 5 int))) (map + a b))
(define-read-only (m3 (a (list 5 int)) (b (list 5 int)) (c (list 5 int))) (map + a b c))
(define-read-only (neg (a (list 5 int)) (b (list 5 int))) (map - a b))
(define-private (add2 (x int) (y int)) (+ x y))
(define-read-only (user (a (list 5 int)) (b (list 5 int))) (map add2 a b))
;; > (contract-call? .map-uneven-sequences m2 (list 1 2 3) (list 10 20))
;; = (list 11 22)
;; > (contract-call? .map-uneven-sequences m2 (list 1 2 3) (list))
;; = (list 1 2 3)
;; > (contract-call? .map-uneven-sequences m2 (list) (list 5 6))
;; = (list 5)
;; > (contract-call? .map-uneven-sequences m2 (list) (list))
;; = (list)
;; > (contract-call? .map-uneven-sequences m3 (list 1 2) (list) (list 5 6))
;; = (list 6)
;; > (contract-call? .map-uneven-sequences m3 (list 1 2 3) (list 4 5 6) (list))
;; = (list 5 7 9)
;; > (contract-call? .map-uneven-sequences m3 (list 1 2 3) (list 4 5) (list 6))
;; = (list 11)
;; > (contract-call? .map-uneven-sequences neg (list 5 6) (list))
;; = (list -5 -6)
;; > (contract-call? .map-uneven-sequences user (list 1 2) (list))
;; ! argument
