;; A trait reference returned by picker-trait's pick, called without importing its trait:
;; the reference refuses the call (TraitReferenceUnknown); trait-results imports it.
;; @requires: sip010-trait sip010-token picker-trait
(use-trait picker-trait .picker-trait.picker)
(define-public (symbol-of-pick (p <picker-trait>))
  (let ((token (try! (contract-call? p pick .sip010-token .sip010-token true))))
    (contract-call? token get-symbol)))
;; @deploy-error: not defined or imported here
