;; get-burn-block-info? pox-addrs has the reference's type; FAI's ledger has no
;; proof-of-transfer, so every existing burn block has no reward address and no payout.
(define-read-only (payout (h uint))
  (match (get-burn-block-info? pox-addrs h)
    info (ok (get payout info))
    (err u404)))
(define-read-only (reward-addresses (h uint))
  (map get-version (get addrs (unwrap! (get-burn-block-info? pox-addrs h) (list)))))
(define-private (get-version (a {hashbytes: (buff 32), version: (buff 1)})) (get version a))

;; > (contract-call? .pox-addrs payout u19)
;; = (ok u0)
;; > (contract-call? .pox-addrs payout u20)
;; = (err u404)
;; > (contract-call? .pox-addrs reward-addresses u3)
;; = (list)
