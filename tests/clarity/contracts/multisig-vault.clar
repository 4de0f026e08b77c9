;; A 2-of-3 multi-signature vault holding FAI.
(define-constant members (list 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG))
(define-constant threshold u2)
(define-constant err-not-member (err u100))
(define-constant err-no-proposal (err u101))
(define-constant err-already-voted (err u102))
(define-constant err-not-enough (err u103))
(define-data-var next-id uint u0)
(define-map proposals uint {to: principal, amount: uint, votes: uint, done: bool})
(define-map voted {id: uint, who: principal} bool)

(define-read-only (is-member (who principal)) (is-some (index-of? members who)))

(define-public (deposit (amount uint))
  (stx-transfer? amount tx-sender (as-contract tx-sender)))

(define-public (propose (to principal) (amount uint))
  (let ((id (var-get next-id)))
    (asserts! (is-member tx-sender) err-not-member)
    (map-set proposals id {to: to, amount: amount, votes: u0, done: false})
    (var-set next-id (+ id u1))
    (ok id)))

(define-public (approve (id uint))
  (let ((p (unwrap! (map-get? proposals id) err-no-proposal)))
    (asserts! (is-member tx-sender) err-not-member)
    (asserts! (map-insert voted {id: id, who: tx-sender} true) err-already-voted)
    (map-set proposals id (merge p {votes: (+ (get votes p) u1)}))
    (ok (+ (get votes p) u1))))

(define-public (execute (id uint))
  (let ((p (unwrap! (map-get? proposals id) err-no-proposal)))
    (asserts! (>= (get votes p) threshold) err-not-enough)
    (asserts! (not (get done p)) err-no-proposal)
    (map-set proposals id (merge p {done: true}))
    (as-contract (stx-transfer? (get amount p) tx-sender (get to p)))))

(define-read-only (vault-balance) (stx-get-balance (as-contract tx-sender)))

;; > (contract-call? .multisig-vault deposit u5000)
;; = (ok true)
;; > (contract-call? .multisig-vault vault-balance)
;; = u5000
;; > (contract-call? .multisig-vault propose 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG u1200)
;; = (ok u0)
;; > (contract-call? .multisig-vault approve u0)
;; = (ok u1)
;; > (contract-call? .multisig-vault approve u0)
;; = (err u102)
;; > (contract-call? .multisig-vault execute u0)
;; = (err u103)
;; > (contract-call? .multisig-vault approve u5)
;; = (err u101)
;; @sender: wallet_3
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.multisig-vault propose 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5 u1)
;; = (err u100)
;; @sender: wallet_1
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.multisig-vault approve u0)
;; = (ok u2)
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.multisig-vault execute u0)
;; = (ok true)
;; # stx_transfer_event
;; > (stx-get-balance 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG)
;; = u100000001200
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.multisig-vault execute u0)
;; = (err u101)
;; > (contract-call? 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.multisig-vault vault-balance)
;; = u3800
