;; A public function called by name from another function of its contract (or through
;; map/filter/fold) runs as the reference runs it, "as a transaction": its writes and events
;; are rolled back when it returns `err` (here they were kept), and committed otherwise. A
;; read-only function's events are always dropped. Found by a differential run against the
;; reference's own crate; answers are the reference's.
(define-data-var x uint u0)
(define-map seen uint bool)
(define-public (set-then-fail) (begin (var-set x u5) (print "gone") (err u1)))
(define-public (set-then-ok) (begin (var-set x u7) (ok true)))
(define-public (caller)
  (begin
    (unwrap-err-panic (set-then-fail))
    (ok (var-get x))))
(define-public (caller-ok)
  (begin
    (try! (set-then-ok))
    (ok (var-get x))))
(define-public (mark (k uint))
  (begin
    (map-set seen k true)
    (if (> k u1) (err k) (ok k))))
(define-public (mark-all)
  (ok (map mark (list u1 u2 u3))))
(define-read-only (is-seen (k uint)) (default-to false (map-get? seen k)))
(define-read-only (get-x) (var-get x))
;; > (contract-call? .local-public-call-rollback caller)
;; = (ok u0)
;; > (contract-call? .local-public-call-rollback get-x)
;; = u0
;; > (contract-call? .local-public-call-rollback caller-ok)
;; = (ok u7)
;; > (contract-call? .local-public-call-rollback mark-all)
;; = (ok (list (ok u1) (err u2) (err u3)))
;; > (contract-call? .local-public-call-rollback is-seen u1)
;; = true
;; > (contract-call? .local-public-call-rollback is-seen u2)
;; = false
