;; Top-level forms in any order the reference's definition sorter admits: each is defined
;; (and run at deploy) after the definitions it names. Traits name traits defined later,
;; in argument and result types; deploy-time forms use variables and constants defined later.
(define-trait router ((route (<pool> (list 3 <pool>)) (response <quote> uint))))
(define-trait pool ((swap (uint) (response uint uint)) (quote-of () (response <quote> uint))))
(define-trait quote ((price () (response uint uint))))
(define-private (best (r <router>)) true)

(var-set counter (+ start u1))
(define-constant start (* two u5))
(define-data-var counter uint u0)
(define-constant seen (var-get counter))
(define-constant two (double u1))
(define-private (double (n uint)) (* n u2))
(define-read-only (state) {counter: (var-get counter), seen: seen})
;; > (contract-call? .traits-out-of-order state)
;; = {counter: u11, seen: u11}
