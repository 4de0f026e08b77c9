;; A capped fungible token: minting past the cap is a runtime error.
(define-fungible-token capped u100)
(define-public (mint (n uint)) (ft-mint? capped n tx-sender))
(define-public (burn (n uint)) (ft-burn? capped n tx-sender))
(define-read-only (supply) (ft-get-supply capped))
;; > (contract-call? .ft-supply mint u60)
;; = (ok true)
;; > (contract-call? .ft-supply mint u60)
;; ! total supply
;; > (contract-call? .ft-supply mint u0)
;; = (err u1)
;; > (contract-call? .ft-supply burn u10)
;; = (ok true)
;; # ft_burn_event
;; > (contract-call? .ft-supply burn u100)
;; = (err u1)
;; > (contract-call? .ft-supply supply)
;; = u50
