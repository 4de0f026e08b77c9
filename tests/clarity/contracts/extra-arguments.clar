;; The reference's analysis checks `var-set`, the map functions and `get-block-info?` for at
;; least their arguments and never looks at the others; its evaluator aborts a call that
;; reaches one with more, before evaluating any of them (a mainnet airdrop contract sets a
;; data variable with three arguments).
(define-data-var n uint u0)
(define-map m uint uint)
(define-public (set-three) (begin (var-set n u1 u2) (ok true)))
(define-public (put-four) (begin (map-set m u1 u2 u3) (ok true)))
(define-read-only (get-three) (map-get? m u1 u2))
(define-read-only (info-three) (get-block-info? time u0 u1))
(define-public (unchecked (x uint))
  (if (> x u0) (ok x) (begin (var-set n x (no-such-function)) (ok x))))
(define-read-only (read-n) (var-get n))
;; > (contract-call? .extra-arguments set-three)
;; ! var-set expects 2 argument(s), got 3
;; > (contract-call? .extra-arguments put-four)
;; ! map-set expects 3 argument(s), got 4
;; > (contract-call? .extra-arguments get-three)
;; ! map-get? expects 2 argument(s), got 3
;; > (contract-call? .extra-arguments info-three)
;; ! get-block-info? expects 2 argument(s), got 3
;; > (contract-call? .extra-arguments unchecked u5)
;; = (ok u5)
;; > (contract-call? .extra-arguments unchecked u0)
;; ! var-set expects 2 argument(s), got 3
;; > (contract-call? .extra-arguments read-n)
;; = u0
;; > (var-get n u1)
;; ? var-get expects 1 argument
