;; @requires: sip009-trait
(impl-trait .sip009-trait.nft-trait)
(define-read-only (get-last-token-id) (ok u0))
;; @deploy-error: does not define public function
