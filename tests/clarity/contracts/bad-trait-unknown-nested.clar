;; A trait signature naming an undeclared trait inside a compound type (the reference refuses
;; it too: TraitReferenceUnknown).
(define-trait hook-trait
  ((on-payment ((list 5 <other-hook>) uint) (response uint uint))))
;; @deploy-error: unknown trait <other-hook>
