;; `slice?` is `none` when the start is at or past the end of the sequence, an empty slice
;; included, as in the reference since 2021 (`left_position >= seq.len()`); an empty slice
;; starting inside the sequence is `some`. Expected results are the reference's.
(define-read-only (cut-list (l (list 5 int)) (a uint) (b uint)) (slice? l a b))
;; > (slice? "ab" u2 u2)
;; = none
;; > (slice? "ab" u1 u1)
;; = (some "")
;; > (slice? "" u0 u0)
;; = none
;; > (slice? 0x0102 u2 u2)
;; = none
;; > (slice? 0x u0 u0)
;; = none
;; > (slice? u"ab" u2 u2)
;; = none
;; > (slice? "abc" u0 u3)
;; = (some "abc")
;; > (contract-call? .slice-bounds cut-list (list 1 2 3) u3 u3)
;; = none
;; > (contract-call? .slice-bounds cut-list (list 1 2) u0 u0)
;; = (some (list))
;; > (contract-call? .slice-bounds cut-list (list 1 2 3) u1 u3)
;; = (some (list 2 3))
;; > (contract-call? .slice-bounds cut-list (list) u0 u0)
;; = none
