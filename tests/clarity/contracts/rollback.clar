;; A public function that returns err has its writes (and events) rolled back.
(define-data-var v uint u0)
(define-map seen uint bool)
(define-public (set-then-fail (x uint))
  (begin
    (var-set v x)
    (map-set seen x true)
    (print "side effect")
    (if (> x u10) (err x) (ok x))))
(define-read-only (get-v) (var-get v))
(define-read-only (was-seen (x uint)) (default-to false (map-get? seen x)))
;; > (contract-call? .rollback set-then-fail u5)
;; = (ok u5)
;; # print
;; > (contract-call? .rollback set-then-fail u50)
;; = (err u50)
;; > (contract-call? .rollback get-v)
;; = u5
;; > (contract-call? .rollback was-seen u50)
;; = false
;; > (contract-call? .rollback was-seen u5)
;; = true
