;; A trait list argument longer than its declared length.
;; @requires: sip010-trait sip010-token
(use-trait ft-trait .sip010-trait.sip-010-trait)
(define-private (count-tokens (tokens (list 2 <ft-trait>))) (len tokens))
(define-read-only (three) (count-tokens (list .sip010-token .sip010-token .sip010-token)))
;; @deploy-error: got a list of 3
