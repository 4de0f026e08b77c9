(define-public (emit (x int))
  (begin (print {event: "emitted", x: x}) (print x) (ok x)))
;; > (contract-call? .print-events emit 3)
;; = (ok 3)
;; # print
;; > (print u"done")
;; = u"done"
;; # print
