;; A trait whose function returns a trait reference (Clarity 2 accepts trait references
;; anywhere in a trait's signatures, results included): picks one of two SIP-010 tokens.
;; @requires: sip010-trait
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-trait picker
  ((pick (<ft-trait> <ft-trait> bool) (response <ft-trait> uint))
   (pick-some ((list 5 <ft-trait>)) (response (optional <ft-trait>) uint))))
