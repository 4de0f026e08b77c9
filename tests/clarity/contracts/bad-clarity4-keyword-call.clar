;; A keyword of Clarity 4 called as a function is an unknown function, as in the reference
;; (not "is Clarity 4": this contract is Clarity 4).
;; @clarity-version: 4
;; @deploy-error: unknown or unsupported function 'stacks-block-time'
(define-read-only (f) (stacks-block-time))
