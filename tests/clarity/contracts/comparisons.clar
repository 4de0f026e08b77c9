(define-read-only (cmp) (list (< 1 2) (<= 2 2) (> u3 u4) (>= u4 u4) (< "abc" "abd") (> 0x02 0x0101) (< u"a" u"b") (is-eq 1 1 1) (is-eq (some u1) (some u2)) (is-eq {a: 1} {a: 1})))
;; > (contract-call? .comparisons cmp)
;; = (list true true false true true true true true false true)
;; > (< 1 u2)
;; ? expects two values of one comparable type
;; > (is-eq 1 u1)
;; ? values of one type
