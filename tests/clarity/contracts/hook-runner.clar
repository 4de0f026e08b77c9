;; Runs a chain of hooks of the self-referential hook-trait and pays the result in SIP-010
;; tokens.
;; @requires: sip010-trait sip010-token hook-trait hook-fee hook-bonus
(use-trait hook-trait .hook-trait.hook-trait)
(define-private (run-one (hook <hook-trait>) (amount uint))
  (unwrap-panic (contract-call? hook on-payment (list) amount)))
(define-public (preview (hooks (list 5 <hook-trait>)) (amount uint))
  (ok (fold run-one hooks amount)))
(define-public (pay (hooks (list 5 <hook-trait>)) (amount uint) (to principal))
  (let ((net (fold run-one hooks amount)))
    (try! (contract-call? .sip010-token transfer net tx-sender to none))
    (ok net)))
;; > (contract-call? .hook-runner preview (list .hook-fee .hook-bonus) u100)
;; = (ok u95)
;; > (contract-call? .hook-runner preview (list .hook-bonus .hook-fee) u100)
;; = (ok u95)
;; > (contract-call? .hook-runner preview (list .hook-bonus .hook-bonus .hook-fee) u50)
;; = (ok u54)
;; > (contract-call? .hook-fee with-fallback (some .hook-bonus) u10)
;; = (ok u15)
;; > (contract-call? .sip010-token mint u1000 tx-sender)
;; = (ok true)
;; > (contract-call? .hook-runner pay (list .hook-fee) u200 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok u180)
;; # ft_transfer_event
;; > (contract-call? .sip010-token get-balance 'ST1SJ3DTE5DN7X54YDH5D64R3BCB6A2AG2ZQ8YPD5)
;; = (ok u180)
;; A contract that does not implement the trait is refused in the list.
;; > (contract-call? .hook-runner preview (list .hook-fee .sip010-token) u100)
;; ? does not define public function
