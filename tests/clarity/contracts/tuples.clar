(define-constant base {name: "fai", supply: u21})
(define-read-only (name) (get name base))
(define-read-only (merged) (merge base {supply: u42, extra: true}))
(define-read-only (opt-get) (get supply (some base)))
(define-read-only (nested) (get inner (get outer {outer: {inner: 5}})))
;; > (contract-call? .tuples name)
;; = "fai"
;; > (contract-call? .tuples merged)
;; = {extra: true, name: "fai", supply: u42}
;; > (contract-call? .tuples opt-get)
;; = (some u21)
;; > (contract-call? .tuples nested)
;; = 5
;; > (tuple (a 1) (b u2))
;; = {a: 1, b: u2}
;; > (get missing {a: 1})
;; ? no field
