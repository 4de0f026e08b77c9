(define-map names uint (string-ascii 10))
(map-set names u1 "one")
(define-read-only (lookup (k uint)) (default-to "?" (map-get? names k)))
(define-read-only (describe (k uint))
  (match (map-get? names k) n (concat "found " n) "missing"))
(define-read-only (checks) (list (is-some (map-get? names u1)) (is-none (map-get? names u2))))
;; > (contract-call? .optionals lookup u1)
;; = "one"
;; > (contract-call? .optionals lookup u2)
;; = "?"
;; > (contract-call? .optionals describe u1)
;; = "found one"
;; > (contract-call? .optionals describe u3)
;; = "missing"
;; > (contract-call? .optionals checks)
;; = (list true true)
;; > (unwrap-panic (some 3))
;; = 3
;; > (unwrap-panic none)
;; ! unwrap-panic
