//! Local slots: where in a call's bindings each name a function body reads will be.
//!
//! A call's locals ([`super::eval`]'s `Env`) are its arguments, in order, then the `let` and
//! `match` names bound so far, innermost last; nothing else binds. So the position of the
//! binding a name refers to is known from the body alone. [`resolve`] writes it into each
//! atom ([`Expr::slot`]) once, when the contract has been analysed, and makes the atom's name
//! the very `Arc` the binding will carry. The evaluator takes the binding at that slot when its
//! name is that same `Arc` (pointer equality, no string comparison) and otherwise looks the
//! name up as before, so a slot can only ever save a search, never change an answer.

use super::ops;
use super::parser::{Expr, ExprKind};
use super::scope::Scope;
use super::types::Name;

/// The names bound at a point of the body, innermost last (indexed like the evaluator's,
/// so a body with tens of thousands of bindings is resolved in linear time).
type Names = Scope<(), Name>;

/// Largest slot written (beyond it, names are looked up).
const MAX_SLOT: usize = (Expr::NO_SLOT - 1) as usize;

/// Whether the reference's evaluator refuses a `let`/`match` binding of this name when it is
/// made (`NameAlreadyUsed`), given whether the name is already bound in the call.
pub type Refused<'a> = &'a dyn Fn(&str, bool) -> bool;

/// Writes the local slots of a function body whose arguments are `args` (in order), or of a
/// form run at deploy (no arguments), and marks ([`ops::USED_NAME`]) the `let` and `match`
/// binding names that `refused` names: the evaluator aborts the call (or the deploy) when it
/// reaches one (analysis, once every function of the contract is known, passes the
/// reference's rule: a name of a function of the contract, any in a body and those defined
/// before the form at deploy, and in Clarity 2 and later a name already bound).
pub fn resolve(body: &mut Expr, args: &[Name], refused: Refused<'_>) {
    let mut scope = Names::with_capacity(args.len());
    for a in args {
        scope.push(a.clone(), ());
    }
    walk(body, &mut scope, refused);
}

/// Marks the binding name `name` when `refused` names it (see [`resolve`]).
fn mark(name: &mut Expr, scope: &Names, refused: Refused<'_>) {
    if let Some(n) = name.atom() {
        if name.op == ops::PLAIN && refused(n, scope.get(n.as_ref()).is_some()) {
            name.op = ops::USED_NAME;
        }
    }
}

fn walk(e: &mut Expr, scope: &mut Names, refused: Refused<'_>) {
    let op = e.op;
    match &mut e.kind {
        ExprKind::Atom(n) => {
            // `tx-sender`, `contract-caller`, `true`, `false` and `none` are answered
            // before any local (and cannot be bound).
            if matches!(
                op,
                ops::TX_SENDER | ops::CONTRACT_CALLER | ops::TRUE | ops::FALSE | ops::NONE
            ) {
                return;
            }
            let Some(i) = scope.position(n.as_ref()).filter(|&i| i <= MAX_SLOT) else {
                return;
            };
            if let Some((bound, ())) = scope.at(i) {
                e.slot = i as u16;
                *n = bound.clone();
            }
        }
        ExprKind::List(items) => match items.first().map(|h| h.op) {
            Some(ops::LET) => walk_let(items, scope, refused),
            Some(ops::MATCH) => walk_match(items, scope, refused),
            // The head is a name, not a value; the rest are evaluated where they stand.
            _ => {
                for a in items.iter_mut().skip(1) {
                    walk(a, scope, refused);
                }
            }
        },
        _ => {}
    }
}

/// `(let ((n1 e1) (n2 e2) ...) body...)`: each `e` sees the names bound before it, the body
/// all of them. A malformed binding aborts the call where it stands, so nothing after it
/// is given slots.
fn walk_let(items: &mut [Expr], scope: &mut Names, refused: Refused<'_>) {
    let at = scope.len();
    let well_formed = match items.get_mut(1).map(|b| &mut b.kind) {
        Some(ExprKind::List(binds)) => binds.iter_mut().all(|b| bind(b, scope, refused)),
        _ => true,
    };
    if well_formed {
        for body in items.iter_mut().skip(2) {
            walk(body, scope, refused);
        }
    }
    scope.truncate(at);
}

/// One `(name value)` binding of a `let`: the value's slots, then the name bound. False for
/// a malformed binding.
fn bind(b: &mut Expr, scope: &mut Names, refused: Refused<'_>) -> bool {
    let ExprKind::List(pair) = &mut b.kind else {
        return false;
    };
    let [name, value] = pair.as_mut_slice() else {
        return false;
    };
    walk(value, scope, refused);
    mark(name, scope, refused);
    let Some(n) = name.atom() else {
        return false;
    };
    scope.push(n.clone(), ());
    true
}

/// `(match opt some-name some-branch none-branch)` and
/// `(match resp ok-name ok-branch err-name err-branch)`: the input sees the enclosing
/// names, each branch those plus its own. Any other shape is left to the evaluator.
fn walk_match(items: &mut [Expr], scope: &mut Names, refused: Refused<'_>) {
    fn branch(name: &mut Expr, body: &mut Expr, scope: &mut Names, refused: Refused<'_>) {
        mark(name, scope, refused);
        if let Some(n) = name.atom() {
            let at = scope.len();
            scope.push(n.clone(), ());
            walk(body, scope, refused);
            scope.truncate(at);
        }
    }
    match items {
        [_, input, some, some_body, none_body] => {
            walk(input, scope, refused);
            branch(some, some_body, scope, refused);
            walk(none_body, scope, refused);
        }
        [_, input, ok, ok_body, err, err_body] => {
            walk(input, scope, refused);
            branch(ok, ok_body, scope, refused);
            branch(err, err_body, scope, refused);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clarity::parser::parse;
    use crate::clarity::types::StandardPrincipal;

    /// Every atom of `e` with its slot (None: looked up), in source order.
    fn atoms(e: &Expr, out: &mut Vec<(String, Option<u16>)>) {
        match &e.kind {
            ExprKind::Atom(n) => {
                out.push((n.to_string(), (e.slot != Expr::NO_SLOT).then_some(e.slot)))
            }
            ExprKind::List(items) => items.iter().for_each(|i| atoms(i, out)),
            _ => {}
        }
    }

    fn resolved(body: &str, args: &[&str]) -> (Expr, Vec<Name>) {
        let sp = StandardPrincipal {
            version: 26,
            hash: [0; 20],
        };
        let mut e = parse(body, &sp).unwrap().remove(0);
        let names: Vec<Name> = args.iter().map(|a| Name::from(*a)).collect();
        resolve(&mut e, &names, &|_, _| false);
        (e, names)
    }

    /// Arguments, sequential `let` bindings, shadowing, both forms of `match`, and the
    /// names that are not locals (builtins, keywords, binding names, tuple fields).
    #[test]
    fn slots_are_the_innermost_binding_of_each_name() {
        let (e, _) = resolved(
            "(let ((x (+ a b)) (a (* x a)) (y {a: a, k: tx-sender})) \
               (match (some y) a (get a a) x) \
               (match (ok b) v (+ v a) e (- e x)) \
               (c x a))",
            &["a", "b"],
        );
        let mut got = Vec::new();
        atoms(&e, &mut got);
        let slot = |n: &str, s: Option<u16>| (n.to_string(), s);
        let want = vec![
            slot("let", None),
            // x = (+ a b): the arguments
            slot("x", None),
            slot("+", None),
            slot("a", Some(0)),
            slot("b", Some(1)),
            // a = (* x a): x is bound, a is still the argument
            slot("a", None),
            slot("*", None),
            slot("x", Some(2)),
            slot("a", Some(0)),
            // y = {a: a, k: tx-sender}: the field name is not a local; a is the new a
            slot("y", None),
            slot("tuple", None),
            slot("a", None),
            slot("a", Some(3)),
            slot("k", None),
            slot("tx-sender", None),
            // (match (some y) a (get a a) x): the some-branch's a is the match's (the
            // field name gets the slot too: `get` never evaluates it, so it is unused)
            slot("match", None),
            slot("some", None),
            slot("y", Some(4)),
            slot("a", None),
            slot("get", None),
            slot("a", Some(5)),
            slot("a", Some(5)),
            slot("x", Some(2)),
            // (match (ok b) v (+ v a) e (- e x)): each branch its own name at slot 5
            slot("match", None),
            slot("ok", None),
            slot("b", Some(1)),
            slot("v", None),
            slot("+", None),
            slot("v", Some(5)),
            slot("a", Some(3)),
            slot("e", None),
            slot("-", None),
            slot("e", Some(5)),
            slot("x", Some(2)),
            // (c x a): the head is a function name
            slot("c", None),
            slot("x", Some(2)),
            slot("a", Some(3)),
        ];
        assert_eq!(got, want);
    }

    /// A slotted atom carries the very name its binding will (pointer-equal), which is
    /// what the evaluator checks before using the slot.
    #[test]
    fn slotted_names_are_the_bindings_own() {
        let (e, args) = resolved("(+ a (let ((z a)) z))", &["a"]);
        let ExprKind::List(items) = &e.kind else {
            panic!()
        };
        let (ExprKind::Atom(a), ExprKind::List(inner)) = (&items[1].kind, &items[2].kind) else {
            panic!()
        };
        assert!(std::sync::Arc::ptr_eq(a, &args[0]));
        let ExprKind::List(binds) = &inner[1].kind else {
            panic!()
        };
        let ExprKind::List(pair) = &binds[0].kind else {
            panic!()
        };
        let (ExprKind::Atom(bound), ExprKind::Atom(read)) = (&pair[0].kind, &inner[2].kind) else {
            panic!()
        };
        assert_eq!(inner[2].slot, 1);
        assert!(std::sync::Arc::ptr_eq(bound, read));
    }

    /// A malformed `let` binding aborts the call where it stands: nothing after it gets a
    /// slot (the evaluator looks those names up, and never reaches them).
    #[test]
    fn nothing_after_a_malformed_binding_is_slotted() {
        let (e, _) = resolved("(let ((x a) y (z x)) (+ x a))", &["a"]);
        let mut got = Vec::new();
        atoms(&e, &mut got);
        let slotted: Vec<_> = got.iter().filter(|(_, s)| s.is_some()).collect();
        assert_eq!(slotted, vec![&("a".to_string(), Some(0))]);
    }
}
