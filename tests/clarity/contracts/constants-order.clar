;; Constants may reference each other and functions in any order.
(define-constant total (+ base extra))
(define-constant base u40)
(define-constant extra (helper))
(define-private (helper) (* base u0))
(define-read-only (get-total) total)
;; > (contract-call? .constants-order get-total)
;; = u40
