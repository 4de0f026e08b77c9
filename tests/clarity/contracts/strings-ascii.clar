(define-read-only (s) (list (len "hello") (len "")))
(define-read-only (joined) (concat "FUN " "AI"))
(define-read-only (at (i uint)) (element-at? "clarity" i))
(define-read-only (find) (index-of? "clarity" "r"))
(define-read-only (cut) (slice? "clarity" u1 u4))
(define-read-only (escaped) "a\"b\\c")
;; > (contract-call? .strings-ascii s)
;; = (list u5 u0)
;; > (contract-call? .strings-ascii joined)
;; = "FUN AI"
;; > (contract-call? .strings-ascii at u0)
;; = (some "c")
;; > (contract-call? .strings-ascii at u7)
;; = none
;; > (contract-call? .strings-ascii find)
;; = (some u3)
;; > (contract-call? .strings-ascii cut)
;; = (some "lar")
;; > (contract-call? .strings-ascii escaped)
;; = "a\"b\\c"
;; > (int-to-ascii 123)
;; = "123"
