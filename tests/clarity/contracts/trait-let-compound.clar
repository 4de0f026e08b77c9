;; A `let` binding of a list of tuples holding contract principals (one of them through a
;; binding of a contract principal), passed where the parameter's tuples hold a trait, to a
;; local function and through contract-call?: each principal must implement the trait, as a
;; literal written there must (the reference types the binding with its contract
;; principals). A mainnet lending contract (SP102MCAVVFCW36KTCDTGC8NH75NPM5MSWRWHWFFS.
;; lucky-bronze-mockingbird-4) binds its assets so and passes them to another contract.
;; @requires: sip010-trait sip010-token trait-const-compound
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-private (add-balance (p {token: <ft-trait>, amount: uint}) (sum uint))
  (let ((token (get token p)))
    (+ sum (unwrap-panic (contract-call? token get-balance tx-sender)))))
(define-private (total (ps (list 5 {token: <ft-trait>, amount: uint})))
  (fold add-balance ps u0))
(define-public (via-let)
  (let ((tok .sip010-token)
        (ps (list {token: tok, amount: u1} {token: .sip010-token, amount: u2}))
        (one (some {token: .sip010-token, amount: u3})))
    (ok {total: (total ps),
         count: (contract-call? .trait-const-compound count-of ps),
         amount: (contract-call? .trait-const-compound amount-of one)})))
;; > (contract-call? .sip010-token mint u10 tx-sender)
;; = (ok true)
;; > (contract-call? .trait-let-compound via-let)
;; = (ok {amount: u3, count: u2, total: u20})
