;; `append` and `is-eq` type their arguments with the reference's 2.1 supertype, in its
;; order: each field of the list's tuples must be in the appended tuple (which may have
;; more), and each field of an is-eq argument must be in the arguments before it. A mainnet
;; contract appends a 7-field draft to a list of 5-field drafts and compares the two.
(define-read-only (appended) (len (append (list {a: u1}) {a: u2, b: true})))
(define-read-only (compared) (is-eq {a: u1, b: true} {a: u1}))
;; > (contract-call? .tuple-supertype-order appended)
;; = u2
;; > (contract-call? .tuple-supertype-order compared)
;; = false
;; > (append (list {a: u1, b: true}) {a: u2})
;; ? append expects
;; > (is-eq {a: u1} {a: u1, b: true})
;; ? values of one type
