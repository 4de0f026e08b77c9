;; An early exit taken in a form run at deploy (here `unwrap!` of `none` in a top-level
;; expression) aborts the deploy: the reference's evaluation of the contract passes the early
;; return on as an error (`EarlyReturn(UnwrapFailed)`), so the contract is not created. Before,
;; the exit's value was taken as the expression's and the deploy went on. (An exit not taken,
;; such as `(try! (ok u1))` at the top level, is fine.)
(define-data-var x uint u0)
(var-set x u1)
(unwrap! (get-x-if-set) u9)
(define-read-only (get-x-if-set) (if (> (var-get x) u5) (some (var-get x)) none))
;; @deploy-abort: early exit
