//! Unit tests of the whole pipeline on an in-memory host.

use super::*;

fn alice() -> Principal {
    Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM").unwrap()
}

fn bob() -> Principal {
    Principal::parse("ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG").unwrap()
}

struct T {
    vm: Vm,
    host: MemoryHost,
}

impl T {
    fn new() -> Self {
        let mut host = MemoryHost {
            block_height: 5,
            burn_block_height: 7,
            ..Default::default()
        };
        host.set_stx(&alice(), 1_000_000);
        T {
            vm: Vm::new(false),
            host,
        }
    }

    fn deploy(&mut self, name: &str, src: &str) -> Outcome {
        let (_, out) = self
            .vm
            .deploy(&mut self.host, name, src, &alice(), 2)
            .unwrap_or_else(|e| {
                panic!(
                    "analysis failed: {}",
                    e.iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            });
        assert!(out.committed, "deploy failed: {:?}", out.error);
        self.host.apply(&out.writes);
        out
    }

    fn check_err(&mut self, src: &str) -> String {
        let id = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.x").unwrap();
        match self.vm.check(&mut self.host, &id, src, 2) {
            Ok(_) => panic!("expected an analysis error for {src}"),
            Err(d) => d[0].to_string(),
        }
    }

    fn eval(&mut self, src: &str) -> String {
        let out = self
            .vm
            .eval(&mut self.host, src, &alice(), false)
            .unwrap_or_else(|e| panic!("{src}: {}", e[0]));
        self.host.apply(&out.writes);
        match out.result {
            Some(v) => v.to_string(),
            None => format!("ERROR {}", out.error.unwrap_or_default()),
        }
    }
}

#[test]
fn arithmetic_and_values() {
    let mut t = T::new();
    assert_eq!(t.eval("(+ 1 2 3)"), "6");
    assert_eq!(t.eval("(- u10 u3)"), "u7");
    assert_eq!(t.eval("(/ -7 2)"), "-3");
    assert_eq!(t.eval("(mod -7 2)"), "-1");
    assert_eq!(t.eval("(pow u2 u10)"), "u1024");
    assert_eq!(t.eval("(sqrti u17)"), "u4");
    assert_eq!(t.eval("(log2 u1024)"), "u10");
    assert!(t.eval("(- u1 u2)").starts_with("ERROR"));
    assert!(t.eval("(/ 1 0)").contains("division by zero"));
    assert!(t
        .eval("(+ u340282366920938463463374607431768211455 u1)")
        .contains("overflow"));
    assert_eq!(t.eval("{a: 1, b: (list u1 u2)}"), "{a: 1, b: (list u1 u2)}");
    assert_eq!(t.eval("(concat \"ab\" \"cd\")"), "\"abcd\"");
    assert_eq!(t.eval("(fold + (list 1 2 3) 0)"), "6");
    assert_eq!(t.eval("(map + (list 1 2) (list 10 20 30))"), "(list 11 22)");
    assert_eq!(t.eval("(int-to-ascii -42)"), "\"-42\"");
    assert_eq!(t.eval("(string-to-uint? \"17\")"), "(some u17)");
    assert_eq!(t.eval("(slice? 0x0102030405 u1 u3)"), "(some 0x0203)");
    assert_eq!(
        t.eval("(sha256 0x)"),
        "0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(t.eval("block-height"), "u5");
    assert_eq!(t.eval("burn-block-height"), "u7");
    assert_eq!(
        t.eval("(is-some (get-burn-block-info? header-hash u6))"),
        "true"
    );
    assert_eq!(t.eval("(get-burn-block-info? header-hash u7)"), "none");
    // No proof-of-transfer on FAI's ledger: the reference's type, no addresses, no payout.
    assert_eq!(
        t.eval("(get-burn-block-info? pox-addrs u6)"),
        "(some {addrs: (list), payout: u0})"
    );
    assert_eq!(t.eval("(get-burn-block-info? pox-addrs u7)"), "none");
    assert_eq!(
        t.eval("(len (get addrs (unwrap-panic (get-burn-block-info? pox-addrs u6))))"),
        "u0"
    );
}

#[test]
fn counter_contract_and_rollback() {
    let mut t = T::new();
    t.deploy(
        "counter",
        "(define-data-var n uint u0)
         (define-public (inc (by uint))
           (begin (var-set n (+ (var-get n) by))
                  (asserts! (< (var-get n) u10) (err u1))
                  (ok (var-get n))))
         (define-read-only (get-n) (var-get n))",
    );
    assert_eq!(t.eval("(contract-call? .counter inc u3)"), "(ok u3)");
    assert_eq!(t.eval("(contract-call? .counter inc u30)"), "(err u1)");
    assert_eq!(t.eval("(contract-call? .counter get-n)"), "u3");
    let out =
        t.vm.call(
            &mut t.host,
            &Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.counter").unwrap(),
            "inc",
            &["u2"],
            &bob(),
            false,
        )
        .unwrap();
    assert_eq!(out.result.unwrap().to_string(), "(ok u5)");
    assert!(!out.writes.is_empty());
}

#[test]
fn analysis_errors() {
    let mut t = T::new();
    assert!(t
        .check_err("(define-public (f) (ok (+ 1 u1)))")
        .contains("1:24"));
    assert!(t
        .check_err("(define-public (f) (+ 1 2))")
        .contains("must return a response"));
    assert!(t.check_err("(define-private (f) (f))").contains("recursi"));
    assert!(t
        .check_err("(define-private (f) (g)) (define-private (g) (f))")
        .contains("recursi"));
    assert!(t
        .check_err("(define-data-var v int 0) (define-read-only (f) (var-set v 1))")
        .contains("read-only"));
    assert!(t
        .check_err("(define-read-only (f) (at-block u1 1))")
        .contains("expected type (buff 32)"));
    assert!(t
        .check_err("(define-read-only (f) (frobnicate 1))")
        .contains("unknown"));
    assert!(t
        .check_err("(define-data-var v (list 100000000 int) (list))")
        .contains("limit"));
    assert!(t
        .check_err("(define-public (f) (begin (ok 1) (ok 2)))")
        .contains("unchecked"));
    assert!(t
        .check_err("(define-constant a 1) (define-constant a 2)")
        .contains("already defined"));
    assert!(t
        .check_err("(define-read-only (f (x int)) (let ((x 2)) x))")
        .contains("shadows"));
}

#[test]
fn cost_limit_aborts() {
    let mut t = T::new();
    t.vm.call_limit.runtime = 10_000;
    t.deploy(
        "loop",
        "(define-private (step (x int) (acc int)) (+ acc x))
         (define-read-only (spin (l (list 1000 int))) (fold step l 0))",
    );
    let big = format!("(list {})", vec!["1"; 1000].join(" "));
    let out =
        t.vm.eval(
            &mut t.host,
            &format!("(contract-call? .loop spin {big})"),
            &alice(),
            false,
        )
        .unwrap();
    assert!(out.error.unwrap().contains("cost limit"));
}

#[test]
fn hostile_inputs() {
    let mut t = T::new();
    let deep = "(+ ".repeat(200) + "1" + &")".repeat(200);
    assert!(t.check_err(&deep).contains("nested"));
    let huge_int = "(define-constant x 99999999999999999999999999999999999999999999)";
    assert!(t.check_err(huge_int).contains("out of range"));
    let src = "x".repeat(2 << 20);
    assert!(t.check_err(&src).contains("limit"));
}

#[test]
fn later_version_names_are_ordinary_names_in_clarity2() {
    // `current-contract` (Clarity 4) and `stacks-block-height` (Clarity 3) as let names
    let mut t = T::new();
    t.deploy(
        "names",
        "(define-read-only (f) (let ((current-contract u1) (stacks-block-height u2)) \
         (+ current-contract stacks-block-height)))",
    );
    assert_eq!(t.eval("(contract-call? .names f)"), "u3");
    // unbound, they are still refused with the version that has them
    assert!(t
        .check_err("(define-read-only (g) current-contract)")
        .contains("Clarity 4"));
}

#[test]
fn early_exits_outside_functions_are_not_return_types() {
    let mut t = T::new();
    t.deploy(
        "top",
        "(define-constant c (unwrap! (some u5) (err u1)))\n\
         (define-data-var v uint (unwrap-panic (some u3)))\n\
         (define-constant d (try! (some u7)))\n\
         (define-read-only (total) (+ c (var-get v) d))",
    );
    assert_eq!(t.eval("(contract-call? .top total)"), "u15");
}

#[test]
fn contract_call_of_a_same_named_function_is_not_recursion() {
    let mut t = T::new();
    t.deploy("inner", "(define-read-only (price (n uint)) (ok (* n u2)))");
    // a wrapper of the same name calling the other contract's function
    t.deploy(
        "outer",
        "(define-read-only (price (n uint)) (contract-call? .inner price (+ n u1)))",
    );
    assert_eq!(t.eval("(contract-call? .outer price u4)"), "(ok u10)");
}

const FT_TRAIT: &str =
    "(define-trait ft ((transfer (uint principal principal) (response bool uint)) \
     (get-balance (principal) (response uint uint))))";
const FT_TOKEN: &str = "(impl-trait .tr.ft) (define-fungible-token tok) \
     (define-public (transfer (n uint) (from principal) (to principal)) \
       (begin (asserts! (is-eq tx-sender from) (err u1)) (ft-transfer? tok n from to))) \
     (define-read-only (get-balance (who principal)) (ok (ft-get-balance tok who))) \
     (define-public (mint (n uint)) (ft-mint? tok n tx-sender))";

#[test]
fn trait_references_inside_compound_argument_types() {
    let mut t = T::new();
    t.deploy("tr", FT_TRAIT);
    t.deploy("ta", FT_TOKEN);
    t.deploy("tb", FT_TOKEN);
    t.deploy("notft", "(define-read-only (hello) (ok u1))");
    // A router taking the pair in a tuple, a batch in a list, an optional and a response.
    t.deploy(
        "router",
        "(use-trait ft .tr.ft) \
         (define-public (swap (pair {x: <ft>, y: <ft>}) (dx uint) (dy uint)) \
           (let ((tx (get x pair)) (ty (get y pair)) (user tx-sender)) \
             (try! (contract-call? tx transfer dx user (as-contract tx-sender))) \
             (try! (as-contract (contract-call? ty transfer dy tx-sender user))) \
             (ok dy))) \
         (define-private (one (tok <ft>) (n uint)) \
           (+ n (unwrap-panic (contract-call? tok get-balance tx-sender)))) \
         (define-public (total (toks (list 5 <ft>))) (ok (fold one toks u0))) \
         (define-public (first (toks (list 5 <ft>))) \
           (let ((tok (unwrap! (element-at? toks u0) (err u9)))) (contract-call? tok get-balance tx-sender))) \
         (define-public (opt (o (optional <ft>))) \
           (match o tok (contract-call? tok get-balance tx-sender) (ok u0))) \
         (define-public (res (r (response <ft> uint))) \
           (let ((tok (unwrap! r (err u8)))) (contract-call? tok get-balance tx-sender)))",
    );
    assert_eq!(t.eval("(contract-call? .ta mint u100)"), "(ok true)");
    assert_eq!(t.eval("(contract-call? .tb mint u50)"), "(ok true)");
    assert_eq!(
        t.eval("(contract-call? .tb transfer u50 tx-sender .router)"),
        "(ok true)"
    );
    assert_eq!(
        t.eval("(contract-call? .router swap {x: .ta, y: .tb} u30 u20)"),
        "(ok u20)"
    );
    assert_eq!(
        t.eval("(contract-call? .ta get-balance .router)"),
        "(ok u30)"
    );
    assert_eq!(
        t.eval("(contract-call? .tb get-balance tx-sender)"),
        "(ok u20)"
    );
    assert_eq!(
        t.eval("(contract-call? .router total (list .ta .tb))"),
        "(ok u90)"
    );
    assert_eq!(
        t.eval("(contract-call? .router first (list .tb))"),
        "(ok u20)"
    );
    assert_eq!(
        t.eval("(contract-call? .router opt (some .ta))"),
        "(ok u70)"
    );
    assert_eq!(t.eval("(contract-call? .router res (ok .tb))"), "(ok u20)");
    // A contract that does not implement the trait is refused in every position.
    for bad in [
        "(contract-call? .router swap {x: .ta, y: .notft} u1 u1)",
        "(contract-call? .router total (list .ta .notft))",
        "(contract-call? .router opt (some .notft))",
        "(contract-call? .router res (ok .notft))",
    ] {
        let id = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.x").unwrap();
        let src = format!("(define-public (go) {bad})");
        let e = match t.vm.check(&mut t.host, &id, &src, 2) {
            Ok(_) => panic!("accepted {bad}"),
            Err(d) => d[0].to_string(),
        };
        assert!(e.contains("does not define public function"), "{bad}: {e}");
    }
    // Wrong arity and a standard principal in a trait position.
    assert!(t
        .check_err("(define-public (go) (contract-call? .router swap {x: .ta, y: .tb} u1))")
        .contains("expects 3 argument(s)"));
    assert!(t
        .check_err(
            "(define-public (go) (contract-call? .router swap {x: .ta, y: tx-sender} u1 u1))"
        )
        .contains("expected a contract implementing"));
    // Trait types stay out of stored data.
    assert!(t
        .check_err("(use-trait ft .tr.ft) (define-data-var v (list 2 <ft>) (list))")
        .contains("only allowed in a function argument type"));
}

#[test]
fn missing_dependency_is_the_first_error() {
    let mut t = T::new();
    for src in [
        "(define-read-only (bal) (contract-call? .missing get-balance tx-sender)) \
         (define-public (f) (let ((b (unwrap! (bal) (err u1)))) (ok b)))",
        "(define-public (f) (contract-call? .missing transfer u1)) \
         (define-public (g) (f))",
        "(use-trait ft .missing.ft) (define-public (f (t <ft>)) (ok u1))",
        // the caller above the callee: its derived error would sort first
        "(define-public (g) (f)) (define-public (f) (contract-call? .missing transfer u1))",
    ] {
        let id = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.x").unwrap();
        let diags = match t.vm.check(&mut t.host, &id, src, 2) {
            Ok(_) => panic!("accepted {src}"),
            Err(d) => d,
        };
        assert!(
            diags[0].to_string().contains("no such contract"),
            "{src}: {diags:?}"
        );
        for d in &diags {
            assert!(!d.to_string().contains("UnknownType"), "{src}: {d}");
        }
    }
    // No message names the internal placeholder type.
    let e = t.check_err("(define-read-only (f (b bool)) (if b none 1))");
    assert!(!e.contains("UnknownType"), "{e}");
}

#[test]
fn constants_bound_to_contract_principals() {
    let mut t = T::new();
    t.deploy("tr", FT_TRAIT);
    t.deploy("ta", FT_TOKEN);
    t.deploy("notft", "(define-read-only (hello) (ok u1))");
    // Clarity 2: a constant bound to a contract principal literal has that contract's type: a
    // static contract-call? target, and an argument where a trait is expected.
    t.deploy(
        "payer",
        "(use-trait ft .tr.ft) \
         (define-constant tok .ta) \
         (define-constant tok-full 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.ta) \
         (define-constant tok-alias tok) \
         (define-private (pay (token <ft>) (n uint) (to principal)) \
           (contract-call? token transfer n tx-sender to)) \
         (define-public (send (n uint) (to principal)) (contract-call? tok transfer n tx-sender to)) \
         (define-public (send-full (n uint) (to principal)) \
           (contract-call? tok-full transfer n tx-sender to)) \
         (define-public (send-trait (n uint) (to principal)) (pay tok-alias n to)) \
         (define-read-only (bal (who principal)) (contract-call? tok get-balance who))",
    );
    assert_eq!(t.eval("(contract-call? .ta mint u100)"), "(ok true)");
    let b = bob();
    assert_eq!(
        t.eval(&format!("(contract-call? .payer send u10 '{b})")),
        "(ok true)"
    );
    assert_eq!(
        t.eval(&format!("(contract-call? .payer send-full u5 '{b})")),
        "(ok true)"
    );
    assert_eq!(
        t.eval(&format!("(contract-call? .payer send-trait u1 '{b})")),
        "(ok true)"
    );
    assert_eq!(
        t.eval(&format!("(contract-call? .payer bal '{b})")),
        "(ok u16)"
    );
    // The reference refuses these too: a constant that is not a contract principal as a
    // target, and a constant contract that does not implement the trait.
    assert!(t
        .check_err(
            "(define-constant who 'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM) \
             (define-public (go) (contract-call? who transfer u1 tx-sender tx-sender))"
        )
        .contains("contract-call? expects"));
    assert!(t
        .check_err(
            "(define-constant n u1) (define-public (go) (contract-call? n transfer u1 tx-sender tx-sender))"
        )
        .contains("contract-call? expects"));
    assert!(t
        .check_err(
            "(use-trait ft .tr.ft) (define-constant bad .notft) \
             (define-private (pay (token <ft>)) (contract-call? token get-balance tx-sender)) \
             (define-public (go) (pay bad))"
        )
        .contains("does not define public function"));
    assert!(t
        .check_err("(define-constant tok .ta) (define-public (go) (contract-call? tok burn u1))")
        .contains("has no function 'burn'"));
}

#[test]
fn traits_may_name_traits_defined_later() {
    let mut t = T::new();
    // The reference sorts top-level definitions by what they name: `a` names `b` (argument)
    // and `c` (result) before they are defined.
    t.deploy(
        "later",
        "(define-trait a ((f (<b> (list 5 <b>)) (response <c> uint)))) \
         (define-trait b ((g ((optional <c>)) (response bool uint)))) \
         (define-trait c ((h () (response uint uint)))) \
         (define-private (take-a (x <a>)) true) \
         (define-read-only (ready) (ok u1))",
    );
    assert_eq!(t.eval("(contract-call? .later ready)"), "(ok u1)");
    // An implementation of `b` whose argument names `c` through this contract's alias.
    t.deploy(
        "impl-b",
        "(use-trait c .later.c) (impl-trait .later.b) \
         (define-public (g (x (optional <c>))) (ok (is-some x)))",
    );
    // Still refused: a trait that names no declared trait (TraitReferenceUnknown).
    assert!(t
        .check_err("(define-trait a ((f (<nope>) (response bool uint))))")
        .contains("unknown trait <nope>"));
}

#[test]
fn traits_naming_themselves_are_definition_cycles() {
    let mut t = T::new();
    // The reference refuses these in its definition sorter (CircularReference), before any
    // type is checked: directly, inside a compound type, in a result, or through another.
    for src in [
        "(define-trait t ((f (<t>) (response bool uint))))",
        "(define-trait hook ((run ((list 5 <hook>) uint) (response uint uint))))",
        "(define-trait t ((f () (response <t> uint))))",
        "(define-trait a ((f (<b>) (response bool uint)))) \
         (define-trait b ((g ((optional <a>)) (response bool uint))))",
    ] {
        let e = t.check_err(src);
        assert!(e.contains("recursive definition cycle"), "{src}: {e}");
    }
    // The error names every definition in or depending on the cycle, and comes first.
    let e = t.check_err(
        "(define-constant x (frobnicate 1)) \
         (define-trait a ((f (<b>) (response bool uint)))) \
         (define-trait b ((g (<a>) (response bool uint)))) \
         (define-private (use-a (x <a>)) true)",
    );
    assert!(e.contains("(a, b, use-a)"), "{e}");
}

#[test]
fn trait_references_in_trait_results() {
    let mut t = T::new();
    t.deploy("tr", FT_TRAIT);
    t.deploy("ta", FT_TOKEN);
    t.deploy("tb", FT_TOKEN);
    // A trait function returning a trait reference, and an implementation: a public function
    // returning one of its trait arguments.
    t.deploy(
        "picker-trait",
        "(use-trait ft .tr.ft) (define-trait picker ((pick (<ft> <ft> bool) (response <ft> uint))))",
    );
    t.deploy(
        "picker",
        "(use-trait ft .tr.ft) (impl-trait .picker-trait.picker) \
         (define-public (pick (x <ft>) (y <ft>) (first bool)) (ok (if first x y)))",
    );
    // The caller calls through the returned trait reference.
    t.deploy(
        "user",
        "(use-trait ft .tr.ft) (use-trait picker .picker-trait.picker) \
         (define-public (balance-of-pick (p <picker>) (x <ft>) (y <ft>) (first bool)) \
           (let ((tok (try! (contract-call? p pick x y first)))) \
             (contract-call? tok get-balance tx-sender)))",
    );
    assert_eq!(t.eval("(contract-call? .ta mint u100)"), "(ok true)");
    assert_eq!(t.eval("(contract-call? .tb mint u7)"), "(ok true)");
    assert_eq!(
        t.eval("(contract-call? .user balance-of-pick .picker .ta .tb true)"),
        "(ok u100)"
    );
    assert_eq!(
        t.eval("(contract-call? .user balance-of-pick .picker .ta .tb false)"),
        "(ok u7)"
    );
    // An implementation must return the trait itself: a principal is not a trait reference
    // (the reference compares the types: BadTraitImplementation).
    assert!(t
        .check_err(
            "(use-trait ft .tr.ft) (impl-trait .picker-trait.picker) \
             (define-public (pick (x <ft>) (y <ft>) (first bool)) \
               (ok (if first (contract-of x) (contract-of y))))"
        )
        .contains("incompatible with the trait"));
    // A trait reached only through another contract's result is not in scope: the reference
    // refuses a call through it (TraitReferenceUnknown) unless the trait is imported.
    assert!(t
        .check_err(
            "(use-trait picker .picker-trait.picker) \
             (define-public (go (p <picker>)) \
               (let ((tok (try! (contract-call? p pick .ta .tb true)))) \
                 (contract-call? tok get-balance tx-sender)))"
        )
        .contains("not defined or imported here"));
    // Data variables and maps still may not hold trait references (TraitReferenceNotAllowed).
    assert!(t
        .check_err("(use-trait ft .tr.ft) (define-data-var v (optional <ft>) none)")
        .contains("only allowed in a function"));
}

#[test]
fn top_level_forms_run_in_definition_order() {
    let mut t = T::new();
    // As in the reference, each top-level form runs after the definitions it names.
    t.deploy(
        "ordered",
        "(var-set v u7) \
         (define-data-var v uint u1) \
         (define-constant seen (var-get v)) \
         (define-constant doubled (* two seen)) \
         (define-constant two (helper)) \
         (define-private (helper) (+ one one)) \
         (define-constant one u1) \
         (define-read-only (read) {v: (var-get v), seen: seen, doubled: doubled})",
    );
    assert_eq!(
        t.eval("(contract-call? .ordered read)"),
        "{doubled: u14, seen: u7, v: u7}"
    );
    // A mint before the token's definition is bounded by its supply.
    let (_, out) =
        t.vm.deploy(
            &mut t.host,
            "capped",
            "(ft-mint? tok u200 tx-sender) (define-fungible-token tok u100)",
            &alice(),
            2,
        )
        .unwrap_or_else(|e| panic!("{}", e[0]));
    assert!(!out.committed, "a mint beyond the cap must not succeed");
    // The reference does not count a contract-call? target as a reference, so a constant
    // called through must come first; after its callers it is refused
    // (TraitReferenceUnknown there).
    t.deploy("callee", "(define-read-only (five) (ok u5))");
    t.deploy(
        "caller-first",
        "(define-constant target .callee) \
         (define-read-only (go) (contract-call? target five))",
    );
    assert!(t
        .check_err(
            "(define-read-only (go) (contract-call? target five)) \
             (define-constant target .callee)"
        )
        .contains("before its definition"));
    // A data variable whose initial value reads itself through a function is a cycle.
    assert!(t
        .check_err("(define-data-var v uint (f)) (define-private (f) (var-get v))")
        .contains("recursive definition cycle"));
}

#[test]
fn principal_literal_lists_to_map_and_fold_over_a_trait_argument() {
    let mut t = T::new();
    t.deploy("tr", FT_TRAIT);
    t.deploy("ta", FT_TOKEN);
    t.deploy("tb", FT_TOKEN);
    // The reference types a contract principal literal as that contract, and a list of them as
    // a union of contracts; map/fold check their function against the list's element type with
    // `admits_type`, which takes that union as a plain principal, and a plain principal is not
    // a trait. So even when every literal implements the trait, it refuses these (stacks-core
    // check_special_map/fold -> FunctionType::check_args_2_1 -> admits_type_v2_1, since 2.1).
    let fns = "(use-trait ft .tr.ft) (define-constant tok-b .tb) \
         (define-private (balance-of (token <ft>)) \
           (unwrap-panic (contract-call? token get-balance tx-sender))) \
         (define-private (add-balance (token <ft>) (acc uint)) (+ acc (balance-of token))) \
         (define-private (sum (tokens (list 5 <ft>))) (fold add-balance tokens u0))";
    for bad in [
        "(map balance-of (list .ta .tb))",
        "(fold add-balance (list .ta .tb) u0)",
        "(fold add-balance (list .ta tok-b) u0)",
    ] {
        let e = t.check_err(&format!("{fns} (define-public (go) (ok {bad}))"));
        assert!(
            e.contains("cannot take an argument of type principal"),
            "{bad}: {e}"
        );
    }
    // What it accepts: the literal list given to a function whose parameter is a list of the
    // trait (each literal, or constant bound to one, must implement it), folded there.
    t.deploy(
        "sweeper",
        &format!("{fns} (define-public (total) (ok (sum (list .ta tok-b))))"),
    );
    assert_eq!(t.eval("(contract-call? .ta mint u100)"), "(ok true)");
    assert_eq!(t.eval("(contract-call? .tb mint u40)"), "(ok true)");
    assert_eq!(t.eval("(contract-call? .sweeper total)"), "(ok u140)");
}

/// `call_batch` gives each call the outcome, cost and events of calling `call` in turn
/// (applying each committed call's writes before the next), and the same final state.
#[test]
fn call_batch_matches_calls_in_turn() {
    let src = "(define-data-var n uint u0)
         (define-map seen uint bool)
         (define-public (inc (by uint))
           (begin (var-set n (+ (var-get n) by))
                  (map-set seen (var-get n) true)
                  (print (var-get n))
                  (asserts! (< (var-get n) u10) (err u1))
                  (ok (var-get n))))
         (define-public (boom) (ok (/ u1 u0)))
         (define-public (twice)
           (begin (map-set seen u0 false) (var-set n u7) (map-set seen u0 true)
                  (var-set n (+ (var-get n) u1)) (ok (var-get n))))";
    // A second contract with a function of the same name, and one that does not exist:
    // calls alternating between contracts and functions each reach their own.
    let other = "(define-public (inc (by uint)) (ok (+ by u100)))
         (define-private (hidden) (ok u1))";
    let ids: Vec<Principal> = ["counter", "other", "missing"]
        .iter()
        .map(|n| {
            Principal::parse(&format!("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.{n}")).unwrap()
        })
        .collect();
    let calls: Vec<(usize, &str, Vec<&str>, Principal)> = vec![
        (0, "inc", vec!["u2"], alice()),
        (0, "inc", vec!["u3"], bob()),
        (1, "inc", vec!["u3"], bob()),     // the other contract's inc
        (0, "inc", vec!["u30"], alice()),  // err: rolled back
        (0, "boom", vec![], alice()),      // aborts
        (0, "inc", vec!["true"], alice()), // refused: argument type
        (0, "nope", vec![], alice()),      // refused: no such function
        (2, "inc", vec!["u1"], alice()),   // refused: no such contract
        (1, "hidden", vec![], alice()),    // refused: private
        (0, "inc", vec!["u4"], alice()),   // sees u5 from the first two
        (0, "twice", vec![], bob()),       // writes two keys twice each
        (1, "inc", vec!["u1"], bob()),
    ];
    let mut seq = T::new();
    seq.deploy("counter", src);
    seq.deploy("other", other);
    let mut expected = Vec::new();
    for (k, f, args, who) in &calls {
        let r = seq.vm.call(&mut seq.host, &ids[*k], f, args, who, false);
        if let Ok(o) = &r {
            if o.committed {
                seq.host.apply(&o.writes);
            }
        }
        expected.push(r);
    }
    let mut bat = T::new();
    bat.deploy("counter", src);
    bat.deploy("other", other);
    let contracts: Vec<Result<Principal, String>> = ids.iter().cloned().map(Ok).collect();
    let senders: Vec<Result<Principal, String>> =
        calls.iter().map(|(_, _, _, who)| Ok(who.clone())).collect();
    let batch: Vec<BatchCall<'_>> = calls
        .iter()
        .zip(&senders)
        .map(|((k, f, args, _), sender)| BatchCall {
            contract: &contracts[*k],
            function: f,
            args,
            sender,
            read_only: false,
        })
        .collect();
    let (outs, writes) = bat.vm.call_batch(&mut bat.host, &batch);
    // Nothing reached the host during the batch.
    assert_ne!(bat.host.state, seq.host.state);
    bat.host.apply(&writes);
    assert_eq!(bat.host.state, seq.host.state);
    assert_eq!(outs.len(), expected.len());
    for (got, want) in outs.iter().zip(&expected) {
        match (got, want) {
            (Ok(g), Ok(w)) => {
                assert_eq!(g.result, w.result);
                assert_eq!(g.error, w.error);
                assert_eq!(g.committed, w.committed);
                assert_eq!(g.events, w.events);
                assert_eq!(g.cost, w.cost);
                assert_eq!(g.writes_by_key(), w.writes);
                assert_eq!(w.writes_by_key(), w.writes);
            }
            (Err(g), Err(w)) => assert_eq!(g, w),
            _ => panic!("batch and single calls disagree: {got:?} vs {want:?}"),
        }
    }
    let results: Vec<String> = outs
        .iter()
        .map(|o| match o {
            Ok(o) => o.result.as_ref().map_or("abort".into(), |v| v.to_string()),
            Err(_) => "refused".into(),
        })
        .collect();
    assert_eq!(
        results,
        [
            "(ok u2)",
            "(ok u5)",
            "(ok u103)",
            "(err u1)",
            "abort",
            "refused",
            "refused",
            "refused",
            "refused",
            "(ok u9)",
            "(ok u8)",
            "(ok u101)"
        ]
    );
    // `twice`'s writes as written: each key twice (the outcome keeps them so); by key: once
    // each, its last value.
    let Some(Ok(last)) = outs.get(10) else {
        panic!("twice ran")
    };
    assert_eq!(last.writes.len(), 4);
    assert_eq!(last.writes_by_key().len(), 2);
    assert_eq!(bat.vm.block_used, seq.vm.block_used);
}

#[test]
fn builtin_names_as_bindings() {
    // The reference's analysis accepts a builtin's name as an argument or a let/match
    // binding name; its evaluator refuses the let/match binding when it is made, and the
    // argument when it defines the function at deploy (check_legal_define).
    let mut t = T::new();
    t.deploy(
        "b",
        "(define-read-only (g (r (response bool int)))
           (match r ok-v (ok ok-v) err (err (to-uint err))))",
    );
    assert!(t
        .check_err("(define-read-only (f (list (list 2 int))) (len list))")
        .contains("'list' is a reserved name"));
    assert_eq!(t.eval("(contract-call? .b g (ok true))"), "(ok true)");
    assert!(t
        .eval("(contract-call? .b g (err 1))")
        .contains("reserved name"));
    assert!(t.eval("(let ((map 1)) map)").contains("reserved name"));
    // Keywords stay refused.
    assert!(t
        .check_err("(define-read-only (f) (let ((tx-sender 1)) 2))")
        .contains("reserved"));
}

#[test]
fn default_to_tuple_subset() {
    // The reference's 2.1 supertype of (default, contained) keeps the default's fields when
    // they all appear in the contained tuple.
    let mut t = T::new();
    t.deploy(
        "d",
        "(define-map m uint {a: uint, b: uint}) (map-set m u1 {a: u1, b: u2})
         (define-read-only (f (k uint)) (get b (default-to {b: u0} (map-get? m k))))",
    );
    assert_eq!(t.eval("(contract-call? .d f u1)"), "u2");
    assert_eq!(t.eval("(contract-call? .d f u2)"), "u0");
    assert!(t
        .check_err("(define-read-only (f) (default-to {a: u1, b: u0} (some {b: u3})))")
        .contains("default-to"));
}

#[test]
fn trait_constant_in_compound_argument() {
    // A constant holding contract principals inside a list of tuples may be passed where the
    // tuples hold a trait, when each contract implements it.
    let mut t = T::new();
    t.deploy("tr", "(define-trait t ((f () (response uint uint))))");
    t.deploy("imp", "(define-public (f) (ok u1))");
    t.deploy("nope", "(define-public (g) (ok u1))");
    let src = |c: &str| {
        format!(
            "(use-trait t .tr.t) (define-constant l (list {{k: .{c}}}))
             (define-read-only (n (x (list 3 {{k: <t>}}))) (len x))
             (define-read-only (m) (n l))"
        )
    };
    t.deploy("user", &src("imp"));
    assert_eq!(t.eval("(contract-call? .user m)"), "u1");
    assert!(t.check_err(&src("nope")).contains("does not define"));
}

#[test]
fn local_call_arity_fails_when_run() {
    // The reference's analysis does not compare a local call's argument count with the
    // function's; the call fails at run time.
    let mut t = T::new();
    t.deploy(
        "ar",
        "(define-private (two (a int) (b int)) (+ a b))
         (define-read-only (f) (two 1))
         (define-read-only (h) (two 1 2))",
    );
    assert_eq!(t.eval("(contract-call? .ar h)"), "3");
    assert!(t
        .eval("(contract-call? .ar f)")
        .contains("expects 2 argument(s), got 1"));
}

#[test]
fn duplicate_argument_names_fail_when_called() {
    // The reference's analysis accepts two arguments of one name (the later one's type is
    // the name's; a mainnet router does this); a call of the function fails at run time.
    let mut t = T::new();
    t.deploy(
        "dup",
        "(define-read-only (two (a int) (a uint)) (+ a u1))
         (define-read-only (ok-one) u5)",
    );
    assert_eq!(t.eval("(contract-call? .dup ok-one)"), "u5");
    let e = t.eval("(contract-call? .dup two 1 u2)");
    assert!(e.contains("two arguments named 'a'"), "{e}");
    // The later type is the name's: the body is typed with `a` a uint.
    assert!(t
        .check_err("(define-read-only (two (a uint) (a int)) (+ a u1))")
        .contains("int"));
}

#[test]
fn argument_named_like_a_later_definition() {
    // An argument may share its name with its own function, or with a definition the
    // reference's order puts after the function; not with one before it.
    let mut t = T::new();
    t.deploy(
        "sh",
        "(define-read-only (flashloan (flashloan uint)) u7)
         (define-read-only (f (x uint)) u1)
         (define-data-var x uint u0)",
    );
    assert_eq!(t.eval("(contract-call? .sh flashloan u1)"), "u7");
    assert!(t
        .check_err("(define-data-var x uint u0) (define-read-only (f (x uint)) x)")
        .contains("shadows a definition"));
}

#[test]
fn reference_size_model() {
    // Types are bounded by the reference's size model (16-byte ints, 148-byte principals).
    let mut t = T::new();
    t.deploy(
        "sz",
        "(define-data-var l (list 65000 uint) (list))
         (define-read-only (b (x (buff 1048576))) (len x))",
    );
    assert!(t
        .check_err("(define-data-var p (list 8000 principal) (list))")
        .contains("larger than the limit"));
}

#[test]
fn let_bound_principal_as_trait() {
    // A let-bound contract principal literal may stand where a trait is expected.
    let mut t = T::new();
    t.deploy("tr", "(define-trait t ((f () (response uint uint))))");
    t.deploy("imp", "(define-public (f) (ok u1))");
    t.deploy("nope", "(define-public (g) (ok u1))");
    let src = |c: &str| {
        format!(
            "(use-trait t .tr.t)
             (define-private (call (x <t>)) (contract-call? x f))
             (define-public (m) (let ((k .{c})) (call k)))"
        )
    };
    t.deploy("user", &src("imp"));
    assert_eq!(t.eval("(contract-call? .user m)"), "(ok u1)");
    assert!(t.check_err(&src("nope")).contains("does not define"));
    // A function whose argument shares its name is not its own dependency.
    t.deploy(
        "fl",
        "(use-trait t .tr.t) (define-public (flashloan (flashloan <t>)) (contract-call? flashloan f))",
    );
}

/// Deploys Clarity `version` code as alice's `name`; the first diagnostic on failure.
fn deploy_version(t: &mut T, name: &str, src: &str, version: u8) -> Result<(), String> {
    let (_, out) =
        t.vm.deploy(&mut t.host, name, src, &alice(), version)
            .map_err(|d| d[0].to_string())?;
    assert!(out.committed, "deploy failed: {:?}", out.error);
    t.host.apply(&out.writes);
    Ok(())
}

#[test]
fn clarity1_code_keeps_its_own_names() {
    let mut t = T::new();
    // A name Clarity 2 made a builtin (ALEX's launchpad, CityCoins' VRF define this one).
    let own = "(define-read-only (buff-to-uint-le (b (buff 1))) u42)
               (define-constant chain-id u7)
               (define-read-only (f) (+ (buff-to-uint-le 0x01) chain-id))";
    let e = deploy_version(&mut t, "own2", own, 2).unwrap_err();
    assert!(e.contains("'buff-to-uint-le' is a reserved name"), "{e}");
    deploy_version(&mut t, "own1", own, 1).unwrap();
    let id = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.own1";
    assert_eq!(t.eval(&format!("(contract-call? '{id} f)")), "u49");
    // Reloaded from its stored record (a fresh cache), it is Clarity 1 code still.
    t.vm.clear_cache();
    assert_eq!(t.eval(&format!("(contract-call? '{id} f)")), "u49");
    // Clarity 2's builtins and keywords do not exist in Clarity 1 code.
    for src in [
        "(define-read-only (g) (bit-and u1 u3))",
        "(define-read-only (g) chain-id)",
        "(define-read-only (g) (map bit-not (list 1)))",
    ] {
        let e = deploy_version(&mut t, "g", src, 1).unwrap_err();
        assert!(
            e.contains("is Clarity 2 (this contract is Clarity 1)"),
            "{src}: {e}"
        );
        deploy_version(&mut t, &format!("g{}", src.len()), src, 2).unwrap();
    }
    assert!(deploy_version(&mut t, "v5", "(define-read-only (g) u1)", 5)
        .unwrap_err()
        .contains("not supported"));
}

#[test]
fn clarity1_trait_alias_is_not_a_name() {
    let mut t = T::new();
    t.deploy(
        "commission-trait",
        "(define-trait commission ((pay (uint uint) (response bool uint))))",
    );
    // The NFT-marketplace template of many mainnet contracts names an argument like its
    // `use-trait` alias: Clarity 1 takes the trait's own name, Clarity 2 the alias.
    let market = "(use-trait commission-trait .commission-trait.commission)
        (define-public (buy (id uint) (commission-trait <commission-trait>))
          (contract-call? commission-trait pay id u1))";
    let e = deploy_version(&mut t, "market2", market, 2).unwrap_err();
    assert!(
        e.contains("argument 'commission-trait' shadows a definition"),
        "{e}"
    );
    deploy_version(&mut t, "market1", market, 1).unwrap();
    // ... so in Clarity 1 the trait's name is taken instead.
    let clash = "(use-trait c .commission-trait.commission)
        (define-public (f (commission <c>)) (ok true))";
    assert!(deploy_version(&mut t, "clash1", clash, 1)
        .unwrap_err()
        .contains("shadows a definition"));
    // A trait that defines one function twice: Clarity 1 keeps the last, Clarity 2 refuses.
    let dup = "(define-trait t ((f () (response uint uint)) (f (uint) (response uint uint))))";
    assert!(deploy_version(&mut t, "dup2", dup, 2)
        .unwrap_err()
        .contains("duplicate trait function"));
    deploy_version(&mut t, "dup1", dup, 1).unwrap();
}

#[test]
fn clarity3_block_information() {
    let mut t = T::new();
    // Clarity 3's keywords and functions; each inference block is also a tenure.
    let src = "(define-read-only (heights) (list stacks-block-height tenure-height))
        (define-read-only (t (h uint)) (get-tenure-info? time h))
        (define-read-only (s (h uint)) (get-stacks-block-info? id-header-hash h))
        (define-read-only (m (h uint)) (get-tenure-info? miner-address h))";
    let e = deploy_version(&mut t, "b2", src, 2).unwrap_err();
    assert!(e.contains("is Clarity 3"), "{e}");
    deploy_version(&mut t, "b3", src, 3).unwrap();
    let id = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.b3";
    assert_eq!(
        t.eval(&format!("(contract-call? '{id} heights)")),
        "(list u5 u5)"
    );
    assert_eq!(
        t.eval(&format!("(contract-call? '{id} t u4)")),
        t.eval("(get-block-info? time u4)")
    );
    assert_eq!(
        t.eval(&format!("(contract-call? '{id} s u4)")),
        t.eval("(get-block-info? id-header-hash u4)")
    );
    assert!(t
        .eval(&format!("(contract-call? '{id} m u4)"))
        .starts_with("(some '"));
    // Reloaded from the store, it is Clarity 3 code still.
    t.vm.clear_cache();
    assert_eq!(
        t.eval(&format!("(contract-call? '{id} heights)")),
        "(list u5 u5)"
    );
    // A property of the other function is refused.
    let e = deploy_version(
        &mut t,
        "p",
        "(define-read-only (f) (get-tenure-info? id-header-hash u1))",
        3,
    )
    .unwrap_err();
    assert!(
        e.contains("property 'id-header-hash' is not supported"),
        "{e}"
    );
    // Clarity 3 removed block-height and get-block-info?: ordinary names from then on.
    for src in [
        "(define-read-only (f) block-height)",
        "(define-read-only (f) (get-block-info? time u1))",
    ] {
        let e = deploy_version(&mut t, "r", src, 3).unwrap_err();
        assert!(e.contains("was removed in Clarity 3"), "{src}: {e}");
    }
    deploy_version(
        &mut t,
        "own",
        "(define-constant block-height u9) (define-read-only (f) block-height)",
        3,
    )
    .unwrap();
    assert_eq!(t.eval("(contract-call? .own f)"), "u9");
    // In Clarity 2 code the Clarity 3 names stay ordinary names.
    deploy_version(
        &mut t,
        "c2",
        "(define-read-only (get-tenure-info? (x uint)) (+ x u1)) (define-read-only (f) (get-tenure-info? u1))",
        2,
    )
    .unwrap();
    assert_eq!(t.eval("(contract-call? .c2 f)"), "u2");
}

#[test]
fn bindings_named_like_read_only_functions() {
    // The reference's check_name_used ignores read-only functions: a let binding may take
    // such a name at deploy; its evaluator, which knows every function, refuses the binding
    // when it is made (NameAlreadyUsed), so the call aborts there.
    let mut t = T::new();
    t.deploy(
        "q",
        "(define-read-only (quote (n uint)) {dy: (* n u2)})
         (define-public (claim (n uint))
           (if (> n u100) (ok n) (let ((quote (quote n))) (ok (get dy quote)))))",
    );
    assert_eq!(t.eval("(contract-call? .q claim u101)"), "(ok u101)");
    let aborted = t.eval("(contract-call? .q claim u21)");
    assert!(aborted.contains("'quote' cannot be bound"), "{aborted}");
    // An argument so named: the reference's evaluator refuses to define the function at
    // deploy (check_legal_define sees every function defined before, read-only included).
    assert!(t
        .check_err(
            "(define-read-only (quote (n uint)) n)
             (define-read-only (twice (quote uint)) (+ quote quote))"
        )
        .contains("argument 'quote' shadows a definition"));
    // A private or public function's name stays taken for bindings.
    assert!(t
        .check_err("(define-private (p) u1) (define-public (f) (let ((p u2)) (ok p)))")
        .contains("shadows"));
}

/// Call arguments taken without parsing (`plain_literal`) give what the parser, checker
/// and evaluator give for the same text, and every other text still takes that full path.
#[test]
fn plain_literal_arguments_match_the_full_path() {
    let mut t = T::new();
    t.deploy(
        "lit",
        "(define-read-only (u (x uint)) (ok x))
         (define-read-only (i (x int)) (ok x))
         (define-read-only (b (x bool)) (ok x))
         (define-read-only (o (x (optional uint))) (ok x))",
    );
    let id = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.lit").unwrap();
    let cases: &[(&str, &[&str])] = &[
        (
            "u",
            &[
                "u0",
                "u1",
                "u007",
                "u340282366920938463463374607431768211455",
                "u340282366920938463463374607431768211456",
                "u-1",
                "u",
                "1",
                "none",
                " u5",
                "u1_0",
            ],
        ),
        (
            "i",
            &[
                "0",
                "-0",
                "-1",
                "00",
                "-007",
                "170141183460469231731687303715884105727",
                "170141183460469231731687303715884105728",
                "-170141183460469231731687303715884105728",
                "-170141183460469231731687303715884105729",
                "u1",
                "-",
                "+1",
            ],
        ),
        ("b", &["true", "false", "none", "TRUE"]),
        ("o", &["none", "(some u1)", "u1", "true"]),
    ];
    for (f, texts) in cases {
        for text in *texts {
            let fast = plain_literal(
                text,
                &t.vm.contract(&mut t.host, &id).unwrap().fns[*f].args[0].1,
            );
            let call = t.vm.call(&mut t.host, &id, f, &[*text], &alice(), true);
            let full =
                t.vm.eval(
                    &mut t.host,
                    &format!("(contract-call? .lit {f} {text})"),
                    &alice(),
                    true,
                )
                .ok()
                .and_then(|o| o.result);
            let got = call.as_ref().ok().and_then(|o| o.result.clone());
            assert_eq!(got, full, "{f} {text:?}");
            if let Some(v) = fast {
                assert_eq!(Some(Value::ok(v)), full, "{f} {text:?} (no parse)");
            }
        }
    }
    // The common forms do skip the parser.
    assert_eq!(plain_literal("u42", &Type::UInt), Some(Value::UInt(42)));
    assert_eq!(plain_literal("-42", &Type::Int), Some(Value::Int(-42)));
    assert_eq!(plain_literal("u042", &Type::UInt), None);
}

/// Many writes to few keys (the journal indexed past 16 entries), then a nested
/// `contract-call?` that writes the same keys again and returns `err`: its writes are
/// dropped and the values before it are read back, and the transaction's writes are one per
/// key, the last.
#[test]
fn journal_of_many_writes_with_a_rolled_back_call() {
    let mut t = T::new();
    let puts = "(define-map m uint uint)
         (define-private (put (i uint) (acc uint)) (begin (map-set m (mod i u7) i) (+ acc u1)))
         (define-read-only (get-at (k uint)) (map-get? m k))";
    t.deploy(
        "b",
        &format!(
            "{puts}
             (define-public (fill (xs (list 50 uint))) (ok (fold put xs u0)))
             (define-public (fill-then-fail (xs (list 50 uint))) (begin (fold put xs u0) (err u1)))"
        ),
    );
    t.deploy(
        "a",
        &format!(
            "{puts}
             (define-public (run (xs (list 50 uint)) (ys (list 50 uint)))
               (begin
                 (fold put xs u0)
                 (try! (contract-call? .b fill xs))
                 (asserts! (is-err (contract-call? .b fill-then-fail ys)) (err u2))
                 (ok (list (map-get? m u3) (map-get? m u6) (contract-call? .b get-at u3)))))"
        ),
    );
    let xs: Vec<String> = (0..40).map(|i| format!("u{i}")).collect();
    let ys: Vec<String> = (100..130).map(|i| format!("u{i}")).collect();
    let id = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.a").unwrap();
    let out =
        t.vm.call(
            &mut t.host,
            &id,
            "run",
            &[
                format!("(list {})", xs.join(" ")),
                format!("(list {})", ys.join(" ")),
            ],
            &alice(),
            false,
        )
        .unwrap();
    assert_eq!(
        out.result.map(|v| v.to_string()).as_deref(),
        Some("(ok (list (some u38) (some u34) (some u38)))"),
        "{:?}",
        out.error
    );
    // Seven keys of each map, each once (in key order), with the last value kept.
    assert_eq!(out.writes.len(), 14);
    assert!(out.writes.windows(2).all(|w| w[0].0 < w[1].0));
    let mut last: Vec<u128> = out
        .writes
        .iter()
        .map(
            |(_, v)| match Value::deserialize(v.as_deref().unwrap()).unwrap() {
                Value::UInt(u) => u,
                other => panic!("{other}"),
            },
        )
        .collect();
    last.sort_unstable();
    let want: Vec<u128> = (33..40).flat_map(|i| [i, i]).collect();
    assert_eq!(last, want);
}

/// `at-block` reads the state at the end of the block named, sees that block's heights,
/// not this transaction's writes, and refuses an unknown block and a contract deployed
/// later.
#[test]
fn at_block_reads_the_state_of_a_past_block() {
    let mut t = T::new();
    t.host.end_block(); // block 5: before the contract
    t.deploy(
        "hist",
        "(define-data-var n uint u0)
         (define-map m uint uint)
         (define-public (bump) (begin (var-set n (+ (var-get n) u1)) (map-set m u1 (var-get n)) (ok (var-get n))))
         (define-read-only (id (h uint)) (unwrap-panic (get-block-info? id-header-hash h)))
         (define-read-only (seen (h uint))
           (at-block (id h) {n: (var-get n), m: (map-get? m u1), height: block-height,
                             burn: burn-block-height, later: (get-block-info? time block-height),
                             stx: (stx-get-balance tx-sender)}))
         (define-public (bump-and-look (h uint))
           (begin (try! (bump)) (ok (at-block (id h) (var-get n)))))
         (define-read-only (look-at (hash (buff 32))) (at-block hash (var-get n)))",
    );
    let id = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.hist").unwrap();
    let call = |t: &mut T, f: &str, args: &[&str]| {
        let out =
            t.vm.call(&mut t.host, &id, f, args, &alice(), false)
                .unwrap();
        t.host.apply(&out.writes);
        match out.result {
            Some(v) => v.to_string(),
            None => format!("ERROR {}", out.error.unwrap_or_default()),
        }
    };
    t.host.end_block(); // block 6: deployed, n = 0
    assert_eq!(call(&mut t, "bump", &[]), "(ok u1)");
    t.host.end_block(); // block 7: n = 1
    t.host.set_stx(&alice(), 5);
    assert_eq!(call(&mut t, "bump", &[]), "(ok u2)"); // block 8, not ended
    assert_eq!(
        call(&mut t, "seen", &["u7"]),
        "{burn: u7, height: u7, later: none, m: (some u1), n: u1, stx: u1000000}"
    );
    assert_eq!(
        call(&mut t, "seen", &["u6"]),
        "{burn: u6, height: u6, later: none, m: none, n: u0, stx: u1000000}"
    );
    // this transaction's own write is not part of a past block's state
    assert_eq!(call(&mut t, "bump-and-look", &["u7"]), "(ok u1)");
    assert!(call(&mut t, "seen", &["u5"]).contains("no contract"));
    assert!(call(&mut t, "seen", &["u8"]).contains("ERROR")); // the current block
    assert!(call(&mut t, "look-at", &[&format!("0x{}", "ab".repeat(32))]).contains("no block 0x"));
    assert_eq!(
        t.eval("(contract-call? .hist look-at (contract-call? .hist id u7))"),
        "u1"
    );
}

/// Reading a local costs one runtime unit, plus one per 64 bytes of a large value, whether
/// it is found at its slot (fixed-size values, answered inline) or looked up by name; and
/// gives the right binding. Each pair of functions below differs only by three more
/// reads of one local.
/// `(list u0 u1 ... u{n-1})`.
fn uint_list(n: u32) -> String {
    let items: Vec<String> = (0..n).map(|i| format!("u{i}")).collect();
    format!("(list {})", items.join(" "))
}

#[test]
fn local_reads_cost_the_same_on_every_path() {
    let mut t = T::new();
    t.deploy(
        "reads",
        "(define-read-only (one (a uint) (p principal) (o (optional uint)) (l (list 20 uint)))
           (let ((b (+ a u1))) (match o v (begin b p l v) (begin b p l u0))))
         (define-read-only (uint4 (a uint) (p principal) (o (optional uint)) (l (list 20 uint)))
           (let ((b (+ a u1))) (match o v (begin b b b b p l v) (begin b b b b p l u0))))
         (define-read-only (principal4 (a uint) (p principal) (o (optional uint)) (l (list 20 uint)))
           (let ((b (+ a u1))) (match o v (begin b p p p p l v) (begin b p p p p l u0))))
         (define-read-only (list4 (a uint) (p principal) (o (optional uint)) (l (list 20 uint)))
           (let ((b (+ a u1))) (match o v (begin b p l l l l v) (begin b p l l l l u0))))
         (define-read-only (some4 (a uint) (p principal) (o (optional uint)) (l (list 20 uint)))
           (let ((b (+ a u1))) (match o v (begin b p l v v v v) (begin b p l u0 u0 u0 u0))))
         (define-read-only (nested (a uint))
           (let ((b (+ a u1))) (let ((c (* b u10))) (+ a b c))))",
    );
    let id = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.reads").unwrap();
    let list = uint_list(20);
    let mut run = |f: &str, o: &str| {
        let args = [
            "u7",
            "'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG",
            o,
            list.as_str(),
        ];
        let out =
            t.vm.call(&mut t.host, &id, f, &args, &alice(), true)
                .unwrap();
        (out.result.unwrap().to_string(), out.cost.runtime)
    };
    for o in ["(some u5)", "none"] {
        let (base_v, base) = run("one", o);
        assert_eq!(base_v, if o == "none" { "u0" } else { "u5" });
        for f in ["uint4", "principal4", "some4"] {
            let (v, c) = run(f, o);
            assert_eq!(v, base_v, "{f} {o}");
            // The `none` branch of some4 reads literals instead: one unit each as well.
            assert_eq!(c, base + 3, "{f} {o}");
        }
        // A list of 20 uints is 5 + 20 * 17 = 345 bytes: 1 + 345 / 64 = 6 units a read.
        let (v, c) = run("list4", o);
        assert_eq!(v, base_v);
        assert_eq!(c, base + 3 * 6, "list4 {o}");
    }
    let out =
        t.vm.call(&mut t.host, &id, "nested", &["u7"], &alice(), true)
            .unwrap();
    assert_eq!(out.result.unwrap().to_string(), "u95");
}

/// `is-eq` of two operands read in place (`tx-sender`, `contract-caller`, a local number or
/// principal) answers and costs what evaluating both operands and comparing gives: one unit
/// per operand and one for the comparison, as `(begin a b)` costs its two operands and its
/// own node. Operands that are not read in place (a list, a literal) take the evaluated path.
#[test]
fn is_eq_in_place_answers_and_costs_as_evaluated() {
    let mut t = T::new();
    let forms = [
        ("tx-sender", "p"),
        ("p", "tx-sender"),
        ("contract-caller", "q"),
        ("x", "y"),
        ("p", "q"),
        ("tx-sender", "contract-caller"),
        ("l", "l"),
        ("x", "u7"),
    ];
    let mut src = String::new();
    for (i, (a, b)) in forms.iter().enumerate() {
        src += &format!(
            "(define-read-only (eq{i} (x uint) (y uint) (p principal) (q principal) (l (list 20 uint))) (begin (is-eq {a} {b})))
             (define-read-only (both{i} (x uint) (y uint) (p principal) (q principal) (l (list 20 uint))) (begin (begin {a} {b})))\n"
        );
    }
    t.deploy("eqs", &src);
    let id = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.eqs").unwrap();
    let list = uint_list(20);
    let me = "'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM";
    let other = "'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG";
    let want = [
        [
            "true", "true", "false", "true", "false", "true", "true", "true",
        ],
        [
            "false", "false", "true", "false", "false", "true", "true", "false",
        ],
    ];
    for (case, (x, p, q)) in [("u7", me, other), ("u8", other, me)]
        .into_iter()
        .enumerate()
    {
        let y = if case == 0 { "u7" } else { "u9" };
        for i in 0..forms.len() {
            let args = [x, y, p, q, list.as_str()];
            let eq =
                t.vm.call(&mut t.host, &id, &format!("eq{i}"), &args, &alice(), true)
                    .unwrap();
            let both =
                t.vm.call(&mut t.host, &id, &format!("both{i}"), &args, &alice(), true)
                    .unwrap();
            assert_eq!(
                eq.result.unwrap().to_string(),
                want[case][i],
                "{:?} case {case}",
                forms[i]
            );
            assert_eq!(
                eq.cost.runtime,
                both.cost.runtime + 1,
                "{:?} case {case}",
                forms[i]
            );
        }
    }
}

/// Token builtins whose arguments are locals read them in place: the same answers, events,
/// writes and costs as with the arguments evaluated (`(begin amount)` costs one unit more
/// than `amount`, its own node), for transfers, mints and burns that pass and that fail, and
/// balance reads.
#[test]
fn token_arguments_in_place_answer_and_cost_as_evaluated() {
    let mut t = T::new();
    let mut src = String::from("(define-fungible-token tok)\n");
    let forms = [
        (
            "transfer",
            "(ft-transfer? tok amount sender recipient)",
            "(ft-transfer? tok (begin amount) sender recipient)",
        ),
        (
            "mint",
            "(ft-mint? tok amount recipient)",
            "(ft-mint? tok (begin amount) recipient)",
        ),
        (
            "burn",
            "(ft-burn? tok amount sender)",
            "(ft-burn? tok (begin amount) sender)",
        ),
        (
            "balance",
            "(ok (ft-get-balance tok sender))",
            "(ok (ft-get-balance tok (begin sender)))",
        ),
    ];
    for (name, in_place, evaluated) in forms {
        src += &format!(
            "(define-public ({name} (amount uint) (sender principal) (recipient principal)) {in_place})
             (define-public ({name}-evaluated (amount uint) (sender principal) (recipient principal)) {evaluated})\n"
        );
    }
    t.deploy("toks", &src);
    let id = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.toks").unwrap();
    let me = "'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM";
    let bob = "'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG";
    let calls = [
        ("mint", ["u100", me, me]),
        ("transfer", ["u30", me, bob]),
        ("transfer", ["u0", me, bob]),
        ("transfer", ["u500", me, bob]),
        ("transfer", ["u5", me, me]),
        ("burn", ["u10", me, bob]),
        ("burn", ["u1000", me, bob]),
        ("balance", ["u0", me, bob]),
        ("balance", ["u0", bob, me]),
    ];
    for (f, args) in calls {
        // Each form on a copy of the same state.
        let mut host = t.host.clone();
        let a =
            t.vm.call(&mut t.host, &id, f, &args, &alice(), false)
                .unwrap();
        let b =
            t.vm.call(
                &mut host,
                &id,
                &format!("{f}-evaluated"),
                &args,
                &alice(),
                false,
            )
            .unwrap();
        assert_eq!(a.result, b.result, "{f} {args:?}");
        assert_eq!(a.events, b.events, "{f} {args:?}");
        assert_eq!(a.writes, b.writes, "{f} {args:?}");
        assert_eq!(a.cost.runtime + 1, b.cost.runtime, "{f} {args:?}");
        if a.committed {
            t.host.apply(&a.writes);
        }
    }
}

/// An `asserts!` or `try!` before the last expression of a sequence runs for its effects
/// without making the value it would give (`Exec::stmt`): it answers, writes, emits and
/// costs what evaluating it as a value does. `(begin S (ok true))` is compared with
/// `(begin (begin S) (ok true))`, where `S` is the inner `begin`'s value: the same, plus
/// the inner `begin`'s one step.
#[test]
fn statements_answer_and_cost_as_evaluated() {
    let mut t = T::new();
    let mut src = String::from("(define-fungible-token tok)\n");
    let forms = [
        "(asserts! (is-eq tx-sender sender) (err u10))",
        "(asserts! (is-eq sender recipient) (err u11))",
        "(asserts! (is-eq amount u30) (err u12))",
        "(asserts! (> amount u3) (err u13))",
        "(try! (ft-transfer? tok amount sender recipient))",
        "(try! (ft-transfer? tok (begin amount) sender recipient))",
        "(try! (ft-mint? tok amount recipient))",
        "(try! (ft-burn? tok amount sender))",
        "(try! (if (> amount u3) (ok amount) (err u14)))",
        "(try! (ft-transfer? tok amount recipient sender))",
        "(match (some amount) x (asserts! (> x u3) (err u15)) false)",
        "(match (if (> amount u3) (ok amount) (err u1)) x (print x) y (print (+ y u1)))",
        "(match (if (> amount u3) none (some amount)) x (print x) u0)",
        "(match (if (> amount u3) (ok amount) (err u16)) x (try! (ft-mint? tok x sender)) y (try! (err y)))",
        "u7",
        "(match memo x (print x) u0)",
        "(match memo x (asserts! (> x u3) (err u17)) (asserts! (> amount u3) (err u18)))",
    ];
    for (i, s) in forms.iter().enumerate() {
        src += &format!(
            "(define-public (s{i} (amount uint) (sender principal) (recipient principal) (memo (optional uint))) (begin {s} (ok true)))
             (define-public (v{i} (amount uint) (sender principal) (recipient principal) (memo (optional uint))) (begin (begin {s}) (ok true)))\n"
        );
    }
    src += "(define-public (mint (amount uint) (to principal)) (ft-mint? tok amount to))\n";
    t.deploy("stmts", &src);
    let id = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.stmts").unwrap();
    let me = "'ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM";
    let bob = "'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG";
    let minted =
        t.vm.call(&mut t.host, &id, "mint", &["u100", me], &alice(), false)
            .unwrap();
    t.host.apply(&minted.writes);
    let mut results = std::collections::BTreeSet::new();
    for args in [
        ["u30", me, bob, "none"],
        ["u0", me, bob, "(some u4)"],
        ["u2", me, bob, "none"],
        ["u500", me, bob, "(some u0)"],
        ["u5", me, me, "none"],
        ["u5", bob, me, "(some u2)"],
    ] {
        for (i, form) in forms.iter().enumerate() {
            // Both forms on a copy of the same state.
            let mut host = t.host.clone();
            let s =
                t.vm.call(
                    &mut t.host.clone(),
                    &id,
                    &format!("s{i}"),
                    &args,
                    &alice(),
                    false,
                )
                .unwrap();
            let v =
                t.vm.call(&mut host, &id, &format!("v{i}"), &args, &alice(), false)
                    .unwrap();
            let what = format!("{form} {args:?}");
            assert_eq!(s.result, v.result, "{what}");
            assert_eq!(s.error, v.error, "{what}");
            assert_eq!(s.committed, v.committed, "{what}");
            assert_eq!(s.events, v.events, "{what}");
            assert_eq!(s.writes, v.writes, "{what}");
            assert_eq!(s.cost.runtime + 1, v.cost.runtime, "{what}");
            assert_eq!(s.cost.read_count, v.cost.read_count, "{what}");
            assert_eq!(s.cost.write_count, v.cost.write_count, "{what}");
            results.insert(s.result.map(|r| r.to_string()));
        }
    }
    // The cases reach every way out: passing, each token error, each thrown error.
    for want in [
        "(ok true)",
        "(err u1)",
        "(err u2)",
        "(err u3)",
        "(err u10)",
        "(err u11)",
        "(err u12)",
        "(err u13)",
        "(err u14)",
        "(err u15)",
        "(err u16)",
        "(err u17)",
        "(err u18)",
    ] {
        assert!(
            results.contains(&Some(want.to_string())),
            "{want} not reached: {results:?}"
        );
    }
}

/// A function body that is a `begin` runs its sequence without evaluating the `begin` node
/// (`Exec::call_bound`), costing what evaluating it does: one step more than the same body
/// without the `begin`.
#[test]
fn begin_bodies_cost_one_step() {
    let mut t = T::new();
    let bodies = [
        "(ok true)",
        "(ok (+ x u1))",
        "(if (> x u3) (ok x) (err u1))",
        "(let ((y (* x u2))) (ok y))",
    ];
    let mut src = String::new();
    for (i, b) in bodies.iter().enumerate() {
        src += &format!(
            "(define-public (with{i} (x uint)) (begin {b}))
             (define-public (bare{i} (x uint)) {b})\n"
        );
    }
    t.deploy("bodies", &src);
    let id = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.bodies").unwrap();
    for (i, b) in bodies.iter().enumerate() {
        for x in ["u2", "u9"] {
            let with =
                t.vm.call(&mut t.host, &id, &format!("with{i}"), &[x], &alice(), false)
                    .unwrap();
            let bare =
                t.vm.call(&mut t.host, &id, &format!("bare{i}"), &[x], &alice(), false)
                    .unwrap();
            assert_eq!(with.result, bare.result, "{b} {x}");
            assert_eq!(with.cost.runtime, bare.cost.runtime + 1, "{b} {x}");
        }
    }
}

/// The last expression of a sequence made without evaluating its nodes (`Exec::tail`:
/// `ok`, `err` or `some` of `true`, `false` or a local) gives and costs what evaluating it
/// does: `(begin T)` is compared with `(begin (if true T T))`, where `T` is a branch of the
/// `if` (evaluated), costing two steps more (the `if` node and `true`).
#[test]
fn tails_answer_and_cost_as_evaluated() {
    let mut t = T::new();
    let tails = [
        "(ok true)",
        "(ok false)",
        "(err true)",
        "(ok x)",
        "(err x)",
        "(ok p)",
        "(ok o)",
        "(ok l)",
        "(ok u3)",
        "(ok (+ x u1))",
    ];
    let mut src = String::new();
    for (i, tail) in tails.iter().enumerate() {
        let sig = "(x uint) (p principal) (o (optional uint)) (l (list 3 uint))";
        src += &format!(
            "(define-read-only (t{i} {sig}) (begin {tail}))
             (define-read-only (e{i} {sig}) (begin (if true {tail} {tail})))\n"
        );
    }
    t.deploy("tails", &src);
    let id = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.tails").unwrap();
    let args = [
        "u5",
        "'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG",
        "none",
        "(list u1 u2)",
    ];
    for (i, tail) in tails.iter().enumerate() {
        let call = |t: &mut T, f: &str| {
            t.vm.call(&mut t.host, &id, &format!("{f}{i}"), &args, &alice(), true)
                .unwrap()
        };
        let (made, evaluated) = (call(&mut t, "t"), call(&mut t, "e"));
        assert!(made.result.is_some(), "{tail}: {:?}", made.error);
        assert_eq!(made.result, evaluated.result, "{tail}");
        assert_eq!(made.cost.runtime + 2, evaluated.cost.runtime, "{tail}");
    }
}

/// A call's locals end in an empty buffer that keeps their allocation (`recycle_env`), so
/// the next call binds its arguments without allocating.
#[test]
fn call_locals_keep_their_allocation() {
    let names: Vec<Name> = ["a", "b", "c"].iter().map(|n| Name::from(*n)).collect();
    let mut env: eval::Env<'_> = eval::Env::in_buffer(Vec::new(), 8);
    for (i, n) in names.iter().enumerate() {
        env.push(n, Value::UInt(i as u128));
    }
    env.push(&names[0], Value::Ascii(b"dropped with the scope".to_vec()));
    let buffer = eval::recycle_env(env);
    assert!(buffer.is_empty());
    assert!(buffer.capacity() >= 8, "capacity {}", buffer.capacity());
    let again: eval::Env<'_> = eval::Env::in_buffer(buffer, 4);
    assert!(again.is_empty());
}

/// Asset events carry `asset_identifier` (`contract::token`) as their first field, counted
/// in the transaction's event bytes by the size of that string.
#[test]
fn asset_events_name_their_asset() {
    assert_eq!(
        eval::asset_id_size("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.tok", "fai-coin"),
        eval::asset_id("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.tok", "fai-coin").size()
    );
    let mut t = T::new();
    t.deploy(
        "tok",
        "(define-fungible-token fai-coin)
         (define-non-fungible-token badge uint)
         (define-public (go)
           (begin
             (try! (ft-mint? fai-coin u10 tx-sender))
             (try! (ft-transfer? fai-coin u4 tx-sender 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG))
             (try! (ft-burn? fai-coin u1 tx-sender))
             (try! (nft-mint? badge u7 tx-sender))
             (try! (nft-transfer? badge u7 tx-sender 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG))
             (try! (stx-transfer? u5 tx-sender 'ST2CY5V39NHDPWSXMW9QDT3HC3GD6Q6XX4CFRK9AG))
             (ok (print u1))))",
    );
    let id = Principal::parse("ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.tok").unwrap();
    let out =
        t.vm.call(&mut t.host, &id, "go", &[] as &[&str], &alice(), false)
            .unwrap();
    assert!(out.committed, "{:?}", out.error);
    let got: Vec<(&str, Option<String>)> = out
        .events
        .iter()
        .map(|e| (e.kind, e.asset_identifier().map(|v| v.to_string())))
        .collect();
    let ft = Some("\"ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.tok::fai-coin\"".to_string());
    let nft = Some("\"ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.tok::badge\"".to_string());
    assert_eq!(
        got,
        vec![
            ("ft_mint_event", ft.clone()),
            ("ft_transfer_event", ft.clone()),
            ("ft_burn_event", ft),
            ("nft_mint_event", nft.clone()),
            ("nft_transfer_event", nft),
            ("stx_transfer_event", None),
            ("print", None),
        ]
    );
    // The other fields follow, without the identifier.
    let transfer = &out.events[1];
    let names: Vec<&str> = transfer.fields.iter().map(|(k, _)| *k).collect();
    assert_eq!(names, ["sender", "recipient", "amount"]);
}

/// A trait reference passes for another trait when their functions' signatures match, a
/// trait inside a signature by the same rule. Each pair of traits is compared once (a chain
/// of traits whose two functions each take the one before stays linear), and a chain nested
/// deeper than MAX_TRAIT_DEPTH is refused rather than walked.
#[test]
fn trait_compatibility_through_signatures_is_memoised_and_bounded() {
    let chain = |n: usize| {
        let mut src = String::from(
            "(define-trait a0 ((f () (response bool uint))))
             (define-trait b0 ((f () (response bool uint))))\n",
        );
        for i in 1..=n {
            for s in ["a", "b"] {
                src += &format!(
                    "(define-trait {s}{i} ((f (<{s}{p}>) (response bool uint)) (g (<{s}{p}>) (response bool uint))))\n",
                    p = i - 1
                );
            }
        }
        src += &format!(
            "(define-private (take (x <a{n}>)) (ok true))
             (define-public (pass (x <b{n}>)) (take x))"
        );
        src
    };
    let mut t = T::new();
    // 30 levels, two functions each: 2^30 comparisons without the memo.
    t.deploy("chain30", &chain(30));
    let deep = t.check_err(&chain(40));
    assert!(deep.contains("is not compatible with"), "{deep}");
    let other = chain(3).replacen("(response bool uint))))", "(response uint uint))))", 1);
    assert!(t.check_err(&other).contains("is not compatible with"));
}
