;; Static contract-call? between contracts; the callee sees contract-caller = the caller.
;; @requires: callee
(define-public (relay (n uint)) (contract-call? .callee hit n))
(define-public (relay-and-count (n uint))
  (let ((r (try! (contract-call? .callee hit n))))
    (ok (get hits r))))
(define-read-only (hits) (contract-call? .callee get-hits))
;; > (contract-call? .contract-call relay u1)
;; = (ok {caller: 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.contract-call, hits: u1, sender: 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM})
;; > (contract-call? .contract-call relay-and-count u2)
;; = (ok u3)
;; > (contract-call? .contract-call relay-and-count u500)
;; = (err u7)
;; > (contract-call? .contract-call hits)
;; = u3
;; > (contract-call? .callee secret)
;; ? private
;; > (contract-call? .callee nothing)
;; ? has no function
;; > (contract-call? .callee hit 5)
;; ? expected type uint
