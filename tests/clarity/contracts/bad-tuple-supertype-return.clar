;; A function's return types are joined in the reference's order (the early exits as met,
;; then the body): an early exit's tuple with a field the body's tuple lacks is refused.
(define-read-only (checked (n uint))
  (begin
    (asserts! (> n u0) (err {code: u1, big: false}))
    (if (> n u9) (err {code: n}) (ok n))))
;; @deploy-error: returns incompatible types
