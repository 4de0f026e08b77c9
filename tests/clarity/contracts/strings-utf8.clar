(define-read-only (greet) u"h\u{e9}llo \u{1F600}")
(define-read-only (n) (len u"h\u{e9}llo \u{1F600}"))
(define-read-only (last-char) (element-at? u"ab\u{e9}" u2))
;; > (contract-call? .strings-utf8 greet)
;; = u"h\u{e9}llo \u{1f600}"
;; > (contract-call? .strings-utf8 n)
;; = u7
;; > (contract-call? .strings-utf8 last-char)
;; = (some u"\u{e9}")
;; > (concat u"a" u"b")
;; = u"ab"
;; > (int-to-utf8 -5)
;; = u"-5"
;; > (concat u"a" "b")
;; ? two sequences of one type
