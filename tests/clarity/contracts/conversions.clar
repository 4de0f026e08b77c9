(define-read-only (c) (list (to-int u5) (buff-to-int-be 0x0100) (buff-to-int-le 0x0100)))
(define-read-only (u) (list (to-uint 5) (buff-to-uint-be 0xff) (buff-to-uint-le 0x0001)))
(define-read-only (parse (s (string-ascii 10))) (string-to-int? s))
;; > (contract-call? .conversions c)
;; = (list 5 256 1)
;; > (contract-call? .conversions u)
;; = (list u5 u255 u256)
;; > (contract-call? .conversions parse "-42")
;; = (some -42)
;; > (contract-call? .conversions parse "4x")
;; = none
;; > (string-to-uint? u"77")
;; = (some u77)
;; > (string-to-uint? "-1")
;; = none
;; > (int-to-ascii u18446744073709551616)
;; = "18446744073709551616"
