;; A second SIP-010 token (the other side of a swap pair in traits-compound).
;; @requires: sip010-trait
(impl-trait .sip010-trait.sip-010-trait)
(define-fungible-token token-b)
(define-constant owner tx-sender)

(define-public (transfer (amount uint) (sender principal) (recipient principal) (memo (optional (buff 34))))
  (begin
    (asserts! (is-eq tx-sender sender) (err u101))
    (ft-transfer? token-b amount sender recipient)))
(define-read-only (get-name) (ok "Token B"))
(define-read-only (get-symbol) (ok "TKB"))
(define-read-only (get-decimals) (ok u6))
(define-read-only (get-balance (who principal)) (ok (ft-get-balance token-b who)))
(define-read-only (get-total-supply) (ok (ft-get-supply token-b)))
(define-read-only (get-token-uri) (ok none))
(define-public (mint (amount uint) (recipient principal))
  (begin
    (asserts! (is-eq tx-sender owner) (err u100))
    (ft-mint? token-b amount recipient)))

;; > (contract-call? .sip010-token-b mint u10 tx-sender)
;; = (ok true)
;; > (contract-call? .sip010-token-b get-balance tx-sender)
;; = (ok u10)
