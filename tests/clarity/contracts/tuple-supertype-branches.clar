;; `if`, `match`, `list`, `concat` and a function's return type join tuple types with the
;; reference's 2.1 supertype, in its order of arguments: each field of the first tuple must be
;; in the second (which may have more), and the join keeps the first's fields (stacks-core's
;; `least_supertype_v2_1`, used by `check_special_if`, the two `match` checks, list
;; construction, `concat`, and `track_return_type`: the early exits in order, then the body).
(define-read-only (pick (c bool)) (get a (if c {a: u1} {a: u2, b: true})))
(define-read-only (pick-some (o (optional uint))) (get a (match o v {a: v} {a: u0, b: true})))
(define-read-only (pick-ok (r (response uint uint)))
  (get a (match r v {a: v} e {a: e, b: true})))
(define-read-only (listed) (len (list {a: u1} {a: u2, b: true} {a: u3, c: 0x})))
(define-read-only (joined) (len (concat (list {a: u1}) (list {a: u2, b: true}))))
(define-read-only (checked (n uint))
  (begin
    (asserts! (> n u0) (err {code: u1}))
    (if (> n u9) (err {code: n, big: true}) (ok n))))
;; > (contract-call? .tuple-supertype-branches pick false)
;; = u2
;; > (contract-call? .tuple-supertype-branches pick-some none)
;; = u0
;; > (contract-call? .tuple-supertype-branches pick-ok (err u7))
;; = u7
;; > (contract-call? .tuple-supertype-branches listed)
;; = u3
;; > (contract-call? .tuple-supertype-branches joined)
;; = u2
;; > (contract-call? .tuple-supertype-branches checked u3)
;; = (ok u3)
;; > (contract-call? .tuple-supertype-branches checked u0)
;; = (err {code: u1})
;; > (if true {a: u1, b: true} {a: u2})
;; ? if branches have incompatible types
;; > (match (some u1) v {a: v, b: true} {a: u0})
;; ? match branches have incompatible types
;; > (list {a: u1, b: true} {a: u2})
;; ? list elements of one type
;; > (concat (list {a: u1, b: true}) (list {a: u2}))
;; ? two sequences of one type
