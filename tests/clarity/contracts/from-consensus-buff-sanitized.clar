;; `from-consensus-buff?` reads its buffer as the reference does from epoch 2.4
;; ("sanitizing"), and as it does from epoch 3.4 where those differ: tuple fields in any
;; order, fields the type does not name dropped (after being read and checked), each field
;; name a valid Clarity name, a contract name in a principal of up to 128 characters, a form
;; feed in a string-ascii; an unknown principal version is `none`. Expected results are the
;; reference's (stacks-core's clarity crate at epoch 3.4).
;; a field the type does not name is dropped:
;; > (from-consensus-buff? {a: int} 0x0c000000020161000000000000000000000000000000000101620000000000000000000000000000000002)
;; = (some {a: 1})
;; fields in any order:
;; > (from-consensus-buff? {a: int, b: (buff 4)} 0x0c0000000201620200000002abcd01610000000000000000000000000000000001)
;; = (some {a: 1, b: 0xabcd})
;; a field of the type given twice:
;; > (from-consensus-buff? {a: int} 0x0c000000020161000000000000000000000000000000000101610000000000000000000000000000000002)
;; = none
;; a dropped field given twice:
;; > (from-consensus-buff? {a: int} 0x0c00000003016100000000000000000000000000000000010162000000000000000000000000000000000201620000000000000000000000000000000003)
;; = (some {a: 1})
;; a field of the type missing:
;; > (from-consensus-buff? {a: int, b: int} 0x0c000000020161000000000000000000000000000000000101630000000000000000000000000000000002)
;; = none
;; a dropped field holding a list of two types:
;; > (from-consensus-buff? {a: int} 0x0c000000020161000000000000000000000000000000000101620b0000000200000000000000000000000000000000010100000000000000000000000000000002)
;; = none
;; a dropped field with a name Clarity refuses:
;; > (from-consensus-buff? {a: int} 0x0c00000002016100000000000000000000000000000000010231620000000000000000000000000000000002)
;; = none
;; nested: tuples in a list:
;; > (from-consensus-buff? (list 2 {a: int}) 0x0b000000020c0000000201610000000000000000000000000000000001017a01000000000000000000000000000000090c0000000101610000000000000000000000000000000002)
;; = (some (list {a: 1} {a: 2}))
;; a contract name of 41 characters:
;; > (is-some (from-consensus-buff? principal 0x061a0000000000000000000000000000000000000000297878787878787878787878787878787878787878787878787878787878787878787878787878787878))
;; = true
;; a principal version of 32:
;; > (is-some (from-consensus-buff? principal 0x05200000000000000000000000000000000000000000))
;; = false
;; a form feed in a string-ascii:
;; > (is-some (from-consensus-buff? (string-ascii 4) 0x0d00000003610c62))
;; = true
