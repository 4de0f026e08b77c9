;; `string-to-int?` and `string-to-uint?` read a text as the reference does (Rust's integer
;; parse): an optional sign, `+` included (a uint takes `+` only), then decimal digits; leading
;; zeros are fine, nothing else is. Expected results are the reference's.
(define-read-only (i (s (string-ascii 50))) (string-to-int? s))
(define-read-only (u (s (string-ascii 50))) (string-to-uint? s))
;; > (contract-call? .string-to-int-signs i "+5")
;; = (some 5)
;; > (contract-call? .string-to-int-signs i "-0")
;; = (some 0)
;; > (contract-call? .string-to-int-signs i "+0")
;; = (some 0)
;; > (contract-call? .string-to-int-signs i "05")
;; = (some 5)
;; > (contract-call? .string-to-int-signs i "+170141183460469231731687303715884105727")
;; = (some 170141183460469231731687303715884105727)
;; > (contract-call? .string-to-int-signs i "+-5")
;; = none
;; > (contract-call? .string-to-int-signs i "+")
;; = none
;; > (contract-call? .string-to-int-signs i "")
;; = none
;; > (contract-call? .string-to-int-signs i " 5")
;; = none
;; > (contract-call? .string-to-int-signs u "+5")
;; = (some u5)
;; > (contract-call? .string-to-int-signs u "+0")
;; = (some u0)
;; > (contract-call? .string-to-int-signs u "-0")
;; = none
;; > (contract-call? .string-to-int-signs u "-5")
;; = none
;; > (string-to-int? u"+5")
;; = (some 5)
;; > (string-to-uint? u"+12")
;; = (some u12)
