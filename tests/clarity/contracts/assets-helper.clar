;; Called by clarity4-assets.clar: moves STX out of its caller, then keeps or drops it.
(define-public (pay (amt uint))
  (begin (try! (stx-transfer? amt tx-sender 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG)) (ok true)))
(define-public (pay-then-fail (amt uint))
  (begin (try! (stx-transfer? amt tx-sender 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG)) (err u5)))
