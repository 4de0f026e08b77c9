;; A voting contract: one vote per principal, closes at a burn (ledger) height.
(define-constant deadline (+ burn-block-height u5))
(define-map votes principal (string-ascii 16))
(define-map tally (string-ascii 16) uint)
(define-data-var total uint u0)

(define-public (vote (choice (string-ascii 16)))
  (begin
    (asserts! (< burn-block-height deadline) (err u1))
    (asserts! (or (is-eq choice "yes") (is-eq choice "no")) (err u2))
    (asserts! (map-insert votes tx-sender choice) (err u3))
    (map-set tally choice (+ u1 (default-to u0 (map-get? tally choice))))
    (var-set total (+ (var-get total) u1))
    (ok (var-get total))))

(define-read-only (count (choice (string-ascii 16))) (default-to u0 (map-get? tally choice)))
(define-read-only (winner)
  (if (> (count "yes") (count "no")) "yes" (if (> (count "no") (count "yes")) "no" "tie")))

;; > (contract-call? .voting vote "yes")
;; = (ok u1)
;; > (contract-call? .voting vote "no")
;; = (err u3)
;; > (contract-call? .voting vote "maybe")
;; = (err u2)
;; @sender: wallet_1
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.voting vote "no")
;; = (ok u2)
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.voting winner)
;; = "tie"
;; @sender: wallet_2
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.voting vote "yes")
;; = (ok u3)
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.voting winner)
;; = "yes"
;; @advance: 0 5
;; @sender: wallet_3
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.voting vote "no")
;; = (err u1)
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.voting count "yes")
;; = u2
