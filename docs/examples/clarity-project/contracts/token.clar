;; A token implementing ft-trait, named by its full principal.
(impl-trait 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.ft-trait.ft-trait)

(define-fungible-token demo)
(define-constant owner tx-sender)
(define-constant err-not-owner (err u100))
(define-constant err-not-sender (err u101))

(define-public (transfer (amount uint) (from principal) (to principal) (memo (optional (buff 34))))
  (begin
    (asserts! (is-eq tx-sender from) err-not-sender)
    (match memo m (print m) 0x)
    (ft-transfer? demo amount from to)))

(define-public (mint (amount uint) (to principal))
  (begin
    (asserts! (is-eq tx-sender owner) err-not-owner)
    (ft-mint? demo amount to)))

(define-read-only (get-balance (who principal)) (ok (ft-get-balance demo who)))
(define-read-only (get-decimals) (ok u6))
(define-read-only (get-symbol) (ok "DEMO"))
