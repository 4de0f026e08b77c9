;; Called by contract-call.clar.
(define-data-var hits uint u0)
(define-public (hit (n uint))
  (begin (var-set hits (+ (var-get hits) n))
         (if (> n u100) (err u7) (ok {hits: (var-get hits), caller: contract-caller, sender: tx-sender}))))
(define-read-only (get-hits) (var-get hits))
(define-private (secret) u42)
