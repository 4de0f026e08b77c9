;; Bindings run at deploy that the reference's evaluator accepts: names of no function of
;; the contract (an argument's name is not one), in a constant's value, a data variable's
;; initial value and a top-level expression, each after the function they call.
(define-read-only (scaled (amount uint)) (* amount u2))
(define-constant rate (let ((amount u7)) (scaled amount)))
(define-data-var total uint (let ((amount u3) (extra u4)) (+ amount extra rate)))
(let ((scaled-amount (scaled u1))) (var-set total (+ (var-get total) scaled-amount)))
(define-read-only (get-total) (var-get total))
(define-read-only (get-rate) rate)
;; > (contract-call? .top-level-let-names get-total)
;; = u23
;; > (contract-call? .top-level-let-names get-rate)
;; = u14
