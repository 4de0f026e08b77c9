;; A constant used as a contract-call? target before its definition. The reference's
;; definition sorter does not count a call's target as a reference, so the function is
;; checked before the constant, whose type is then unknown (TraitReferenceUnknown); define
;; the constant first, as const-principals does.
;; @requires: callee
(define-read-only (get-value) (contract-call? target get-hits))
(define-constant target .callee)
;; @deploy-error: before its definition @ 6:47
