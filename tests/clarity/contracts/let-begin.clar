(define-read-only (calc)
  (let ((a 2) (b (* a 3)) (c (+ a b)))
    (begin (list a b c))))
(define-read-only (nested) (let ((x 1)) (let ((y (+ x 1))) (+ x y))))
;; > (contract-call? .let-begin calc)
;; = (list 2 6 8)
;; > (contract-call? .let-begin nested)
;; = 3
;; > (let ((tx-sender 1)) tx-sender)
;; ? reserved name
;; > (begin)
;; ? at least 1
