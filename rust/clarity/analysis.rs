//! The static type checker, run at deploy: every definition, every expression, every
//! builtin's argument types, read-only purity, recursion, trait conformance and the limits
//! on type sizes. Anything it does not know is refused with a positioned error.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::contract::{Access, Contract, FnDef, TopItem, TraitFn, TraitSig};
use super::ops;
use super::parser::{Diagnostic, Expr, ExprKind, Span};
use super::scope::Scope;
use super::slots;
use super::types::{Name, Principal, TraitId, Type, Value, MAX_VALUE_SIZE};

/// Finds deployed contracts (for `contract-call?`, `use-trait`, `impl-trait`).
pub trait Resolver {
    fn contract(&mut self, id: &Principal) -> Option<Arc<Contract>>;
}

type CResult<T> = Result<T, Diagnostic>;

fn err<T>(span: Span, msg: impl Into<String>) -> CResult<T> {
    Err(Diagnostic::new(span, msg))
}

/// Most allowances in one `restrict-assets?` or `as-contract?` (the reference's).
pub const MAX_ALLOWANCES: usize = 128;
/// Most identifiers a `with-nft` allowance lists.
pub const MAX_NFT_IDENTIFIERS: usize = 128;
/// Longest token name an allowance gives (`(string-ascii 128)`).
const TOKEN_NAME_MAX: u32 = 128;
/// Largest buffer `to-ascii?` takes: its `0x`-prefixed hex fits a value
/// (`(MAX_VALUE_SIZE - 5 - 2) / 2`, the reference's).
pub const MAX_TO_ASCII_BUFFER: u32 = 524_284;

/// Keywords (atoms with a value).
pub const KEYWORDS: &[&str] = &[
    "tx-sender",
    "contract-caller",
    "block-height",
    "burn-block-height",
    "stx-liquid-supply",
    "is-in-mainnet",
    "is-in-regtest",
    "chain-id",
    "true",
    "false",
    "none",
    "tx-sponsor?",
];

/// Every builtin function and special form this VM implements up to Clarity 3 (Clarity 4's
/// are [`ops::CLARITY4_FUNCTIONS`]; [`is_builtin`] asks both).
pub const BUILTINS: &[&str] = &[
    "+",
    "-",
    "*",
    "/",
    "mod",
    "pow",
    "sqrti",
    "log2",
    "bit-and",
    "bit-or",
    "bit-xor",
    "xor",
    "bit-not",
    "bit-shift-left",
    "bit-shift-right",
    "<",
    "<=",
    ">",
    ">=",
    "is-eq",
    "and",
    "or",
    "not",
    "to-int",
    "to-uint",
    "int-to-ascii",
    "int-to-utf8",
    "string-to-int?",
    "string-to-uint?",
    "buff-to-int-le",
    "buff-to-int-be",
    "buff-to-uint-le",
    "buff-to-uint-be",
    "to-consensus-buff?",
    "from-consensus-buff?",
    "list",
    "len",
    "element-at",
    "element-at?",
    "index-of",
    "index-of?",
    "slice?",
    "concat",
    "append",
    "replace-at?",
    "as-max-len?",
    "map",
    "filter",
    "fold",
    "ok",
    "err",
    "some",
    "is-ok",
    "is-err",
    "is-some",
    "is-none",
    "unwrap-panic",
    "unwrap-err-panic",
    "unwrap!",
    "unwrap-err!",
    "try!",
    "asserts!",
    "default-to",
    "match",
    "if",
    "let",
    "begin",
    "tuple",
    "get",
    "merge",
    "print",
    "var-get",
    "var-set",
    "map-get?",
    "map-set",
    "map-insert",
    "map-delete",
    "ft-get-balance",
    "ft-get-supply",
    "ft-mint?",
    "ft-transfer?",
    "ft-burn?",
    "nft-get-owner?",
    "nft-mint?",
    "nft-transfer?",
    "nft-burn?",
    "stx-get-balance",
    "stx-transfer?",
    "stx-transfer-memo?",
    "stx-burn?",
    "stx-account",
    "contract-call?",
    "as-contract",
    "contract-of",
    "principal-of?",
    "is-standard",
    "principal-destruct?",
    "principal-construct?",
    "sha256",
    "sha512",
    "sha512/256",
    "keccak256",
    "hash160",
    "secp256k1-recover?",
    "secp256k1-verify",
    "get-block-info?",
    "get-burn-block-info?",
];

/// Is `name` a builtin function or special form of this VM: [`BUILTINS`], or one Clarity 4
/// added ([`ops::CLARITY4_FUNCTIONS`]; ordinary names in older code: `ops::absent_in`)?
fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name) || ops::CLARITY4_FUNCTIONS.contains(&name)
}

const DEFINES: &[&str] = &[
    "define-constant",
    "define-data-var",
    "define-map",
    "define-public",
    "define-read-only",
    "define-private",
    "define-fungible-token",
    "define-non-fungible-token",
    "define-trait",
    "use-trait",
    "impl-trait",
];

/// Names of later Clarity versions, with the message an unbound use in Clarity 2 code gets
/// (they are builtins in code of their own version).
const REFUSED: &[(&str, &str)] = &[
    // `at-block` is checked (see `Checker::apply`) and aborts when evaluated; it stays a
    // reserved name.
    ("at-block", "at-block is a special form"),
    (
        "get-stacks-block-info?",
        "get-stacks-block-info? is Clarity 3; use get-block-info?, or deploy as Clarity 3",
    ),
    (
        "get-tenure-info?",
        "get-tenure-info? is Clarity 3; use get-block-info?, or deploy as Clarity 3",
    ),
    (
        "stacks-block-height",
        "stacks-block-height is Clarity 3; use block-height, or deploy as Clarity 3",
    ),
    (
        "tenure-height",
        "tenure-height is Clarity 3; use block-height, or deploy as Clarity 3",
    ),
    (
        "secp256r1-verify",
        "secp256r1-verify is Clarity 4; deploy as Clarity 4",
    ),
    (
        "contract-hash?",
        "contract-hash? is Clarity 4; deploy as Clarity 4",
    ),
    ("to-ascii?", "to-ascii? is Clarity 4; deploy as Clarity 4"),
    (
        "restrict-assets?",
        "restrict-assets? is Clarity 4; deploy as Clarity 4",
    ),
    (
        "as-contract?",
        "as-contract? is Clarity 4; deploy as Clarity 4",
    ),
    (
        "stacks-block-time",
        "stacks-block-time is Clarity 4; deploy as Clarity 4",
    ),
    (
        "current-contract",
        "current-contract is Clarity 4; deploy as Clarity 4",
    ),
];

/// Names whose write access makes a function non-read-only.
const WRITERS: &[&str] = &[
    "var-set",
    "map-set",
    "map-insert",
    "map-delete",
    "ft-mint?",
    "ft-transfer?",
    "ft-burn?",
    "nft-mint?",
    "nft-transfer?",
    "nft-burn?",
    "stx-transfer?",
    "stx-transfer-memo?",
    "stx-burn?",
];

/// Names a Clarity 2 contract may not define or bind. The keywords and functions of later
/// Clarity versions (`current-contract`, `stacks-block-height`, ...) are ordinary names in
/// Clarity 2 code, as in the reference implementation; used without a binding they are still
/// refused with the message that names their version.
pub fn is_reserved(name: &str) -> bool {
    KEYWORDS.contains(&name)
        || is_builtin(name)
        || DEFINES.contains(&name)
        || REFUSED
            .iter()
            .any(|(n, msg)| *n == name && !msg.contains("is Clarity "))
}

/// `is_reserved` for code of Clarity `version`: the builtins and keywords of other versions
/// only are ordinary names (Clarity 2's in Clarity 1 code, Clarity 3's before it, those
/// Clarity 3 removed from then on, Clarity 4's before it and `as-contract` from it);
/// Clarity 3's are reserved in Clarity 3 code and later, Clarity 4's in Clarity 4 code.
pub fn is_reserved_in(name: &str, version: u8) -> bool {
    if (version >= 3 && ops::CLARITY3_ONLY.contains(&name))
        || (version >= 4 && ops::clarity4_only(name))
    {
        return true;
    }
    is_reserved(name) && !ops::absent_in(name, version)
}

/// `is_unbindable` for code of Clarity `version` (see [`is_reserved_in`]).
pub fn is_unbindable_in(name: &str, version: u8) -> bool {
    if (version >= 3 && matches!(name, "stacks-block-height" | "tenure-height"))
        || (version >= 4 && ops::CLARITY4_KEYWORDS.contains(&name))
    {
        return true;
    }
    is_unbindable(name) && !ops::absent_in(name, version)
}

/// Names a Clarity 2 contract may not use for a `let`/`match` binding. The reference's
/// analysis only refuses names the contract defines there; the names of builtin functions
/// (`err`, `list`, `map`, ...) pass it, and its evaluator refuses such a binding when it is
/// made (`NameAlreadyUsed` at run time), as ours does. (A function argument so named passes
/// its analysis too, but its evaluator refuses to define the function at deploy: arguments
/// are checked with [`is_reserved_in`].) Keywords (`tx-sender`, `none`, ...), `define-*` and
/// the refused functions stay refused here: such a binding could never be used as a
/// variable.
pub fn is_unbindable(name: &str) -> bool {
    is_reserved(name) && !is_builtin(name)
}

/// Properties of `get-block-info?` and their types.
pub fn block_info_type(prop: &str) -> Option<Type> {
    Some(match prop {
        "time" | "block-reward" | "miner-spend-total" | "miner-spend-winner" => Type::UInt,
        "header-hash" | "burnchain-header-hash" | "id-header-hash" | "vrf-seed" => Type::Buff(32),
        "miner-address" => Type::Principal,
        _ => return None,
    })
}

/// Properties of `get-stacks-block-info?` (Clarity 3) and their types.
pub fn stacks_block_info_type(prop: &str) -> Option<Type> {
    match prop {
        "id-header-hash" | "header-hash" | "time" => block_info_type(prop),
        _ => None,
    }
}

/// Properties of `get-tenure-info?` (Clarity 3) and their types.
pub fn tenure_info_type(prop: &str) -> Option<Type> {
    match prop {
        "burnchain-header-hash"
        | "miner-address"
        | "time"
        | "vrf-seed"
        | "block-reward"
        | "miner-spend-total"
        | "miner-spend-winner" => block_info_type(prop),
        _ => None,
    }
}

/// The type of property `prop` of block-information function `f`.
pub fn info_type(f: &str, prop: &str) -> Option<Type> {
    match f {
        "get-block-info?" => block_info_type(prop),
        "get-burn-block-info?" => burn_block_info_type(prop),
        "get-stacks-block-info?" => stacks_block_info_type(prop),
        "get-tenure-info?" => tenure_info_type(prop),
        _ => None,
    }
}

/// Properties of `get-burn-block-info?` and their types.
pub fn burn_block_info_type(prop: &str) -> Option<Type> {
    match prop {
        "header-hash" => Some(Type::Buff(32)),
        // The reference's type; FAI's ledger has no proof-of-transfer, so its value is
        // always an empty address list and a zero payout (see `Exec`).
        "pox-addrs" => {
            let addr = Type::Tuple(BTreeMap::from([
                (Name::from("hashbytes"), Type::Buff(32)),
                (Name::from("version"), Type::Buff(1)),
            ]));
            Some(Type::Tuple(BTreeMap::from([
                (Name::from("addrs"), Type::list(addr, 2)),
                (Name::from("payout"), Type::UInt),
            ])))
        }
        _ => None,
    }
}

pub fn literal_type(v: &Value) -> Type {
    match v {
        Value::List(_) | Value::Tuple(_) | Value::Optional(_) | Value::Response(..) => Type::NoType,
        scalar => super::types::value_type(scalar).unwrap_or(Type::NoType),
    }
}

fn is_int(t: &Type) -> bool {
    matches!(t, Type::Int | Type::UInt)
}

fn seq_elem(t: &Type) -> Option<Type> {
    Some(match t {
        Type::List(e, _) => (**e).clone(),
        Type::Buff(_) => Type::Buff(1),
        Type::Ascii(_) => Type::Ascii(1),
        Type::Utf8(_) => Type::Utf8(1),
        _ => return None,
    })
}

fn seq_len(t: &Type) -> Option<u32> {
    match t {
        Type::List(_, n) | Type::Buff(n) | Type::Ascii(n) | Type::Utf8(n) => Some(*n),
        _ => None,
    }
}

fn with_len(t: &Type, n: u32) -> Type {
    match t {
        Type::List(e, _) => Type::List(e.clone(), n),
        Type::Buff(_) => Type::Buff(n),
        Type::Ascii(_) => Type::Ascii(n),
        Type::Utf8(_) => Type::Utf8(n),
        other => other.clone(),
    }
}

fn destruct_tuple() -> Type {
    let mut m = BTreeMap::new();
    m.insert(Name::from("hash-bytes"), Type::Buff(20));
    m.insert(Name::from("name"), Type::optional(Type::Ascii(40)));
    m.insert(Name::from("version"), Type::Buff(1));
    Type::Tuple(m)
}

fn stx_account_tuple() -> Type {
    let mut m = BTreeMap::new();
    m.insert(Name::from("locked"), Type::UInt);
    m.insert(Name::from("unlock-height"), Type::UInt);
    m.insert(Name::from("unlocked"), Type::UInt);
    Type::Tuple(m)
}

fn limited(span: Span, t: Type) -> CResult<Type> {
    t.check_limits().map_err(|m| Diagnostic::new(span, m))?;
    Ok(t)
}

fn arity(span: Span, name: &str, args: &[Expr], n: usize) -> CResult<()> {
    if args.len() != n {
        return err(
            span,
            format!("{name} expects {n} argument(s), got {}", args.len()),
        );
    }
    Ok(())
}

fn min_arity(span: Span, name: &str, args: &[Expr], n: usize) -> CResult<()> {
    if args.len() < n {
        return err(
            span,
            format!(
                "{name} expects at least {n} argument(s), got {}",
                args.len()
            ),
        );
    }
    Ok(())
}

/// Deepest nesting of trait compatibility checks (a trait whose functions take a trait
/// whose functions take a trait ...).
const MAX_TRAIT_DEPTH: u32 = 32;

/// A `let` binding that may stand where a trait is expected: in Clarity 2 the reference
/// types it with the contract principals it holds.
enum LetBound {
    /// A contract principal literal: passed where a trait is expected, the contract must
    /// implement it.
    Contract(Principal),
    /// A literal constructor (`list`, `tuple`, `some`, `ok`, `err`), with an id of its own:
    /// checked part by part through this defining expression, as a constant is (a mainnet
    /// lending contract binds a list of tuples of token, pool and oracle contracts and
    /// passes it to a list-of-tuples-of-traits parameter).
    Parts(u64, Expr),
}

/// A literal constructor form (`list`, `tuple`, `some`, `ok`, `err`): what
/// [`Checker::check_param`] walks part by part where a trait is expected.
fn is_constructor(e: &Expr) -> bool {
    e.list()
        .and_then(|l| l.first())
        .and_then(Expr::atom)
        .is_some_and(|h| matches!(h.as_ref(), "list" | "tuple" | "some" | "ok" | "err"))
}

fn atom_arg<'e>(e: &'e Expr, what: &str) -> CResult<&'e Name> {
    e.atom()
        .ok_or_else(|| Diagnostic::new(e.span, format!("expected {what}")))
}

fn uint_literal(e: &Expr) -> CResult<u32> {
    match &e.kind {
        ExprKind::Literal(Value::UInt(n)) => {
            u32::try_from(*n).map_err(|_| Diagnostic::new(e.span, "length too large"))
        }
        ExprKind::Literal(Value::Int(n)) if *n >= 0 => {
            u32::try_from(*n).map_err(|_| Diagnostic::new(e.span, "length too large"))
        }
        _ => err(e.span, "expected a non-negative integer literal"),
    }
}

/// Everything a checker needs from the enclosing contract.
pub struct Checker<'a> {
    pub c: Contract,
    r: &'a mut dyn Resolver,
    locals: Scope<Type>,
    /// How many of `locals` are the checked function's arguments (the first ones).
    nargs: usize,
    returns: Vec<Type>,
    read_only: bool,
    writes: bool,
    trait_cache: BTreeMap<TraitId, TraitSig>,
    /// Constants bound to a contract principal literal (directly or through another such
    /// constant): in Clarity 2 their type is that contract, so they may be a static
    /// `contract-call?` target and may stand where a trait is expected.
    const_principals: BTreeMap<Name, Principal>,
    /// The defining expression of each constant checked so far: a constant holding contract
    /// principal literals inside a list, tuple, optional or response is checked part by part
    /// where a trait is expected, as a literal written there would be (the reference types
    /// such a constant with its contract principals, and its Clarity 2 argument check
    /// `clarity2_inner_type_check_type` walks into them).
    const_exprs: BTreeMap<Name, Expr>,
    /// `let` bindings that may stand where a trait is expected, by their index in `locals`
    /// (see [`LetBound`]).
    lets: Vec<(usize, LetBound)>,
    /// The id the next [`LetBound::Parts`] gets.
    next_let: u64,
    /// What was found to fit where a trait is expected, each checked once (a large constant
    /// list passed a thousand times would otherwise be walked a thousand times): contract
    /// principals that implement a trait, and "constant or binding | expected type" keys.
    implements: BTreeSet<(Principal, TraitId)>,
    fits: BTreeSet<String>,
    /// Pairs of traits found compatible (actual, expected), and how many such checks are
    /// open (see [`Checker::traits_compatible`]).
    compatible: BTreeSet<(TraitId, TraitId)>,
    trait_depth: u32,
    /// Each top-level definition's place in the reference's order, and the place of the
    /// form being checked (none outside a contract's analysis).
    def_rank: BTreeMap<Name, usize>,
    cur_rank: Option<usize>,
}

/// The first argument name that a later argument repeats, if any.
fn duplicate_arg(params: &[(Name, Type)]) -> Option<Name> {
    params
        .iter()
        .enumerate()
        .find(|(i, (n, _))| params[i + 1..].iter().any(|(m, _)| m == n))
        .map(|(_, (n, _))| n.clone())
}

/// Analyses a parsed contract; on success the contract is ready to deploy.
pub fn analyze(
    id: Principal,
    source: String,
    version: u8,
    exprs: &[Expr],
    r: &mut dyn Resolver,
) -> Result<Contract, Vec<Diagnostic>> {
    let mut contract = Contract::new(id, source);
    contract.version = version;
    let mut ck = Checker::new(contract, r);
    let mut diags = Vec::new();
    let mut impls: Vec<(Span, TraitId)> = Vec::new();
    let mut constants: Vec<(Name, Expr)> = Vec::new();
    let mut names: BTreeSet<Name> = BTreeSet::new();
    // Clarity 1 keeps an imported trait under its own name, not the `use-trait` alias (the
    // reference's `TraitContext::Clarity1`): that name, not the alias, is then taken.
    let mut clarity1_trait_names: Vec<Name> = Vec::new();

    let mut declare = |n: &Name, span: Span, diags: &mut Vec<Diagnostic>| -> bool {
        if is_reserved_in(n, version) {
            diags.push(Diagnostic::new(span, format!("'{n}' is a reserved name")));
            false
        } else if !names.insert(n.clone()) {
            diags.push(Diagnostic::new(span, format!("'{n}' is already defined")));
            false
        } else {
            true
        }
    };

    // The reference's top-level order: every top-level form after the definitions it names
    // (a trait may name a trait defined later, a constant a variable defined later, ...); a
    // definition that names itself, directly or through others, is refused first of all.
    let order = match definition_order(exprs) {
        Ok(o) => o,
        Err(d) => return Err(vec![d]),
    };
    let mut rank = vec![0usize; exprs.len()];
    for (pos, &i) in order.iter().enumerate() {
        rank[i] = pos;
        if let Some(n) = defined_name(&exprs[i]) {
            ck.def_rank.insert(n.clone(), pos);
        }
    }

    // Traits first, in that order: function signatures may name them, and a trait's
    // signatures may name the traits it comes after.
    for e in order.iter().map(|&i| &exprs[i]) {
        let Some((head, args)) = define_form(e) else {
            continue;
        };
        let res = match head {
            "define-trait" => ck.define_trait(e.span, args).map(|(n, sig)| {
                if declare(&n, e.span, &mut diags) {
                    ck.c.traits.insert(n, sig);
                }
            }),
            "use-trait" if version < 2 => ck.use_trait(e.span, args).map(|(n, id)| {
                clarity1_trait_names.push(id.name.clone());
                ck.c.use_traits.insert(n, id);
            }),
            "use-trait" => ck.use_trait(e.span, args).map(|(n, id)| {
                if declare(&n, e.span, &mut diags) {
                    ck.c.use_traits.insert(n, id);
                }
            }),
            _ => Ok(()),
        };
        if let Err(d) = res {
            diags.push(d);
        }
    }
    // Deploy-time forms with their source index, run in the reference's order.
    let mut tops: Vec<(usize, TopItem)> = Vec::new();
    for (idx, e) in exprs.iter().enumerate() {
        let Some((head, args)) = define_form(e) else {
            match &e.kind {
                // A bare literal or name is an expression too: the reference checks and
                // evaluates it (mainnet holds contracts that are one string literal).
                ExprKind::List(items) if items.first().and_then(Expr::atom).is_some() => {
                    tops.push((idx, TopItem::Expr(e.clone())))
                }
                ExprKind::Literal(_) | ExprKind::Atom(_) => {
                    tops.push((idx, TopItem::Expr(e.clone())))
                }
                _ => diags.push(Diagnostic::new(
                    e.span,
                    "expected a definition or a function call",
                )),
            }
            continue;
        };
        let res: CResult<()> = (|| {
            match head {
                "define-trait" | "use-trait" => {}
                "impl-trait" => {
                    arity(e.span, head, args, 1)?;
                    match &args[0].kind {
                        ExprKind::TraitLiteral(id) => impls.push((args[0].span, id.clone())),
                        _ => return err(args[0].span, "impl-trait expects a trait reference"),
                    }
                }
                "define-constant" => {
                    arity(e.span, head, args, 2)?;
                    let n = atom_arg(&args[0], "a constant name")?;
                    if declare(n, e.span, &mut diags) {
                        constants.push((n.clone(), args[1].clone()));
                        tops.push((idx, TopItem::Constant(n.clone(), args[1].clone())));
                    }
                }
                "define-data-var" => {
                    arity(e.span, head, args, 3)?;
                    let n = atom_arg(&args[0], "a variable name")?;
                    let t = ck.parse_type(&args[1], false)?;
                    if declare(n, e.span, &mut diags) {
                        ck.c.vars.insert(n.clone(), t);
                        tops.push((idx, TopItem::DataVar(n.clone(), args[2].clone())));
                    }
                }
                "define-map" => {
                    arity(e.span, head, args, 3)?;
                    let n = atom_arg(&args[0], "a map name")?;
                    let k = ck.parse_type(&args[1], false)?;
                    let v = ck.parse_type(&args[2], false)?;
                    if declare(n, e.span, &mut diags) {
                        ck.c.maps.insert(n.clone(), (k, v));
                    }
                }
                "define-fungible-token" => {
                    if args.is_empty() || args.len() > 2 {
                        return err(
                            e.span,
                            "define-fungible-token expects a name and an optional supply",
                        );
                    }
                    let n = atom_arg(&args[0], "a token name")?;
                    if declare(n, e.span, &mut diags) {
                        ck.c.fts.insert(n.clone(), args.len() == 2);
                        tops.push((idx, TopItem::Ft(n.clone(), args.get(1).cloned())));
                    }
                }
                "define-non-fungible-token" => {
                    arity(e.span, head, args, 2)?;
                    let n = atom_arg(&args[0], "a token name")?;
                    let t = ck.parse_type(&args[1], false)?;
                    if declare(n, e.span, &mut diags) {
                        ck.c.nfts.insert(n.clone(), t);
                    }
                }
                "define-public" | "define-read-only" | "define-private" => {
                    let access = match head {
                        "define-public" => Access::Public,
                        "define-read-only" => Access::ReadOnly,
                        _ => Access::Private,
                    };
                    if args.len() != 2 {
                        return err(
                            e.span,
                            format!("{head} expects a signature and exactly one body expression"),
                        );
                    }
                    let sig = args[0].list().filter(|l| !l.is_empty()).ok_or_else(|| {
                        Diagnostic::new(args[0].span, "expected (name (arg type) ...)")
                    })?;
                    let n = atom_arg(&sig[0], "a function name")?;
                    let mut params: Vec<(Name, Type)> = Vec::new();
                    for p in &sig[1..] {
                        let pl = p.list().filter(|l| l.len() == 2).ok_or_else(|| {
                            Diagnostic::new(p.span, "expected (argument-name type)")
                        })?;
                        let pn = atom_arg(&pl[0], "an argument name")?;
                        // The reference's evaluator defines a function only if no argument
                        // is named like a builtin (`check_legal_define` at deploy: its
                        // analysis lets `list` or `map` pass, the deployment then fails).
                        if is_reserved_in(pn, version) {
                            return err(pl[0].span, format!("'{pn}' is a reserved name"));
                        }
                        // Two arguments of one name pass the reference's analysis (the
                        // later one's type is the name's); calling such a function fails
                        // (`NameAlreadyUsed` in its `execute_apply`), here likewise.
                        params.push((pn.clone(), ck.parse_type(&pl[1], true)?));
                    }
                    let dup = duplicate_arg(&params);
                    if declare(n, e.span, &mut diags) {
                        let body = args[1].clone();
                        ck.c.fns.insert(
                            n.clone(),
                            Arc::new(FnDef {
                                name: n.clone(),
                                access,
                                args: params,
                                ret: Type::NoType,
                                body,
                                span: e.span,
                                writes: false,
                                duplicate_arg: dup,
                            }),
                        );
                    }
                }
                _ => return err(e.span, format!("unknown definition {head}")),
            }
            Ok(())
        })();
        if let Err(d) = res {
            diags.push(d);
        }
    }
    names.extend(clarity1_trait_names);
    tops.sort_by_key(|(i, _)| rank[*i]);
    let top_ranks: Vec<usize> = tops.iter().map(|(i, _)| rank[*i]).collect();
    ck.c.top = tops.into_iter().map(|(_, t)| t).collect();
    // An argument may not be named like a definition that comes before its function in the
    // reference's order: its type checker compares argument names with the names defined so
    // far (check_name_used), and its evaluator, defining the function at deploy, with every
    // definition made so far, read-only functions included (`check_legal_define`). Zest's
    // pool-borrow names a function and its argument `flashloan`, defined in that order.
    for f in ck.c.fns.values() {
        let f_rank = ck.def_rank.get(&f.name).copied();
        for (a, _) in &f.args {
            let earlier = match (ck.def_rank.get(a), f_rank) {
                (Some(&r), Some(fr)) => r < fr,
                _ => true,
            };
            if names.contains(a) && earlier {
                diags.push(Diagnostic::new(
                    f.span,
                    format!("argument '{a}' shadows a definition"),
                ));
            }
        }
    }
    if !diags.is_empty() {
        return Err(diags);
    }

    // Functions and constants in dependency order (callees first); cycles are recursion.
    let order = match ck.dependency_order(&constants) {
        Ok(o) => o,
        Err(d) => return Err(vec![d]),
    };
    // A definition that failed leaves a placeholder type; an error in a definition that uses
    // one is derived from the first (an unknown type) and is not reported: the first error
    // stays the real cause (a missing contract, say).
    let mut failed: BTreeSet<Name> = BTreeSet::new();
    let uses_failed = |e: &Expr, failed: &BTreeSet<Name>| -> bool {
        if failed.is_empty() {
            return false;
        }
        let mut atoms = BTreeSet::new();
        collect_atoms(e, &mut atoms);
        atoms.iter().any(|a| failed.contains(a))
    };
    let constant_exprs: BTreeMap<&Name, &Expr> = constants.iter().map(|(n, e)| (n, e)).collect();
    for name in order {
        ck.cur_rank = ck.def_rank.get(&name).copied();
        let res = if let Some(f) = ck.c.fns.get(&name).cloned() {
            ck.check_function(&f)
        } else if let Some(e) = constant_exprs.get(&name) {
            ck.check_top(e, true).map(|t| {
                if let Some(p) = ck.contract_principal_of(e) {
                    ck.const_principals.insert(name.clone(), p);
                }
                ck.const_exprs.insert(name.clone(), (*e).clone());
                ck.c.const_types.insert(name.clone(), t);
            })
        } else {
            Ok(())
        };
        let derived = match ck.c.fns.get(&name) {
            Some(f) => uses_failed(&f.body, &failed),
            None => constant_exprs
                .get(&name)
                .is_some_and(|e| uses_failed(e, &failed)),
        };
        // A definition that checks but names a failed one has a type built on its
        // placeholder: what uses it is derived too (a chain of calls to a function refused
        // for a later version's keyword must report that keyword, not a caller's "get
        // expects a tuple, got none").
        if derived && res.is_ok() {
            failed.insert(name.clone());
        }
        if let Err(d) = res {
            if !derived {
                diags.push(d);
            }
            failed.insert(name.clone());
            // A failed definition gets a placeholder so later errors stay meaningful.
            if !ck.c.const_types.contains_key(&name) && !ck.c.fns.contains_key(&name) {
                ck.c.const_types.insert(name, Type::NoType);
            }
        }
    }
    let top = ck.c.top.clone();
    for (item, &r) in top.iter().zip(&top_ranks) {
        ck.cur_rank = Some(r);
        let res = match item {
            TopItem::DataVar(n, e) => ck.check_top(e, true).and_then(|t| {
                let want = &ck.c.vars[n];
                if want.admits(&t) {
                    Ok(())
                } else {
                    err(
                        e.span,
                        format!("initial value of '{n}' has type {t}, expected {want}"),
                    )
                }
            }),
            TopItem::Ft(_, Some(e)) => ck.check_top(e, true).and_then(|t| {
                if t == Type::UInt {
                    Ok(())
                } else {
                    err(e.span, format!("token supply must be a uint, got {t}"))
                }
            }),
            TopItem::Expr(e) => ck.check_top(e, false).map(|_| ()),
            _ => Ok(()),
        };
        let expr = match item {
            TopItem::DataVar(_, e) | TopItem::Ft(_, Some(e)) | TopItem::Expr(e) => Some(e),
            _ => None,
        };
        if let Err(d) = res {
            if !expr.is_some_and(|e| uses_failed(e, &failed)) {
                diags.push(d);
            }
        }
    }
    ck.cur_rank = None;
    for (span, id) in impls {
        let res = ck
            .trait_sig(span, &id)
            .and_then(|sig| ck.c.conforms_to(&sig).map_err(|m| Diagnostic::new(span, m)));
        match res {
            Ok(()) => ck.c.impl_traits.push(id),
            Err(d) => diags.push(d),
        }
    }
    if diags.is_empty() {
        let fns: BTreeSet<Name> = ck.c.fns.keys().cloned().collect();
        let rebinding_refused = ck.c.version >= 2;
        // Local slots, and the binding names the reference's evaluator refuses, written
        // once every function is known (see `slots::resolve`).
        for f in ck.c.fns.values_mut() {
            let f = Arc::make_mut(f);
            let args: Vec<Name> = f.args.iter().map(|(n, _)| n.clone()).collect();
            slots::resolve(&mut f.body, &args, &|n, bound| {
                fns.contains(n) || (rebinding_refused && bound)
            });
        }
        // The forms run at deploy see the functions defined before them in the reference's
        // order (read-only ones included: the checker's rule leaves those to the evaluator).
        let def_rank = &ck.def_rank;
        for (item, &r) in ck.c.top.iter_mut().zip(&top_ranks) {
            let (TopItem::Constant(_, e)
            | TopItem::DataVar(_, e)
            | TopItem::Ft(_, Some(e))
            | TopItem::Expr(e)) = item
            else {
                continue;
            };
            slots::resolve(e, &[], &|n, bound| {
                let earlier = def_rank.get(n).is_some_and(|&d| d < r);
                (fns.contains(n) && earlier) || (rebinding_refused && bound)
            });
        }
        Ok(ck.c)
    } else {
        diags.sort_by_key(|d| d.span);
        Err(diags)
    }
}

fn define_form(e: &Expr) -> Option<(&str, &[Expr])> {
    let l = e.list()?;
    let head = l.first()?.atom()?;
    if DEFINES.contains(&head.as_ref()) {
        Some((head.as_ref(), &l[1..]))
    } else {
        None
    }
}

/// The name a top-level definition introduces (`use-trait` aliases included).
fn defined_name(e: &Expr) -> Option<&Name> {
    let (_, args) = define_form(e)?;
    let first = args.first()?;
    match first.list() {
        Some(sig) => sig.first()?.atom(),
        None => first.atom(),
    }
}

/// Appends (in reading order) the top-level definitions `e` names, as the reference's
/// definition sorter reads them: names a definition introduces, argument names, binding
/// names, tuple keys, trait function names and the target and function of a
/// `contract-call?` are not references; `<name>` is.
fn probe_refs(e: &Expr, names: &BTreeMap<Name, usize>, out: &mut Vec<usize>) {
    let items = match &e.kind {
        ExprKind::Atom(n) | ExprKind::TraitRef(n) => {
            out.extend(names.get(n).copied());
            return;
        }
        ExprKind::List(items) => items,
        _ => return,
    };
    let args = items.get(1..).unwrap_or_default();
    let mut probe = |x: &Expr| probe_refs(x, names, out);
    match items.first().and_then(Expr::atom).map(|h| h.as_ref()) {
        Some("define-constant" | "define-data-var") => args.iter().skip(1).for_each(probe),
        Some("define-public" | "define-private" | "define-read-only") => {
            if let [sig, body] = args {
                for p in sig.list().unwrap_or_default().iter().skip(1) {
                    if let Some([_, t]) = p.list() {
                        probe(t);
                    }
                }
                probe(body);
            }
        }
        Some("define-map") => {
            if let [_, k, v] = args {
                probe(k);
                probe(v);
            }
        }
        Some("define-trait") => {
            if let [_, fns] = args {
                for f in fns.list().unwrap_or_default() {
                    if let Some([_, ts, ret]) = f.list() {
                        probe(ts);
                        probe(ret);
                    }
                }
            }
        }
        Some("define-fungible-token") => {
            if let [_, supply] = args {
                probe(supply);
            }
        }
        Some("use-trait" | "impl-trait" | "define-non-fungible-token") => {}
        Some("contract-call?") => args.iter().skip(2).for_each(probe),
        Some("let") => {
            if args.len() > 1 {
                for b in args[0].list().unwrap_or_default() {
                    if let Some([_, v]) = b.list() {
                        probe(v);
                    }
                }
                args[1..].iter().for_each(probe);
            }
        }
        Some("get") => {
            if let [_, t] = args {
                probe(t);
            }
        }
        Some("tuple") => {
            for f in args {
                if let Some([_, v]) = f.list() {
                    probe(v);
                }
            }
        }
        _ => items.iter().for_each(probe),
    }
}

/// The order the reference gives a contract's top-level forms: each after the definitions
/// it names (depth first, in source order). A definition that names itself, directly or
/// through others, is an error naming it and every definition that depends on it.
fn definition_order(exprs: &[Expr]) -> CResult<Vec<usize>> {
    let mut names: BTreeMap<Name, usize> = BTreeMap::new();
    for (i, e) in exprs.iter().enumerate() {
        if let Some(n) = defined_name(e) {
            names.insert(n.clone(), i);
        }
    }
    let deps: Vec<Vec<usize>> = exprs
        .iter()
        .map(|e| {
            let mut out = Vec::new();
            probe_refs(e, &names, &mut out);
            out
        })
        .collect();
    let mut seen = vec![false; exprs.len()];
    let mut order = Vec::with_capacity(exprs.len());
    for start in 0..exprs.len() {
        let mut stack = vec![(start, false)];
        while let Some((i, finished)) = stack.pop() {
            if finished {
                order.push(i);
                continue;
            }
            if seen[i] {
                continue;
            }
            seen[i] = true;
            stack.push((i, true));
            stack.extend(
                deps[i]
                    .iter()
                    .rev()
                    .filter(|d| !seen[**d])
                    .map(|d| (*d, false)),
            );
        }
    }
    // A form is settled once everything it names is; what a cycle reaches never is.
    let mut settled = vec![false; exprs.len()];
    for &i in &order {
        settled[i] = deps[i].iter().all(|d| settled[*d]);
    }
    let Some(first) = settled.iter().position(|s| !s) else {
        return Ok(order);
    };
    let cyclic: BTreeSet<&Name> = (0..exprs.len())
        .filter(|i| !settled[*i])
        .filter_map(|i| defined_name(&exprs[i]))
        .collect();
    let list: Vec<&str> = cyclic.iter().map(|n| n.as_ref()).collect();
    err(
        exprs[first].span,
        format!(
            "recursive definition cycle ({}): a definition may not refer to itself, directly \
             or through other definitions (no recursion; a trait may not name itself)",
            list.join(", ")
        ),
    )
}

/// Names an expression refers to (binding names, tuple keys, field names and the function
/// named by a `contract-call?` excluded).
pub fn collect_atoms(e: &Expr, out: &mut BTreeSet<Name>) {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Atom(n) => {
                out.insert(n.clone());
            }
            ExprKind::List(items) => {
                let head = items.first().and_then(Expr::atom).map(|h| h.as_ref());
                match head {
                    Some("get") => stack.extend(items.iter().skip(2)),
                    // the function a contract-call? names belongs to the other contract
                    Some("contract-call?") => {
                        stack.extend(items.get(1));
                        stack.extend(items.iter().skip(3));
                    }
                    Some("tuple") => {
                        for f in &items[1..] {
                            match f.list() {
                                Some([_, v]) => stack.push(v),
                                _ => stack.push(f),
                            }
                        }
                    }
                    Some("let") => {
                        if let Some(binds) = items.get(1).and_then(Expr::list) {
                            for b in binds {
                                match b.list() {
                                    Some([_, v]) => stack.push(v),
                                    _ => stack.push(b),
                                }
                            }
                        }
                        stack.extend(items.iter().skip(2));
                    }
                    Some("match") => {
                        for (i, it) in items.iter().enumerate() {
                            if i != 2 && !(i == 4 && items.len() == 6) {
                                stack.push(it);
                            }
                        }
                    }
                    _ => stack.extend(items.iter()),
                }
            }
            _ => {}
        }
    }
}

impl<'a> Checker<'a> {
    pub fn new(c: Contract, r: &'a mut dyn Resolver) -> Self {
        Checker {
            c,
            r,
            locals: Scope::new(),
            nargs: 0,
            returns: Vec::new(),
            read_only: false,
            writes: false,
            trait_cache: BTreeMap::new(),
            const_principals: BTreeMap::new(),
            const_exprs: BTreeMap::new(),
            lets: Vec::new(),
            next_let: 0,
            implements: BTreeSet::new(),
            fits: BTreeSet::new(),
            compatible: BTreeSet::new(),
            trait_depth: 0,
            def_rank: BTreeMap::new(),
            cur_rank: None,
        }
    }

    fn dependency_order(&self, constants: &[(Name, Expr)]) -> CResult<Vec<Name>> {
        let mut nodes: BTreeMap<Name, (Span, BTreeSet<Name>)> = BTreeMap::new();
        for (n, f) in &self.c.fns {
            let mut atoms = BTreeSet::new();
            collect_atoms(&f.body, &mut atoms);
            // A function's own name in its body can only be an argument or binding of that
            // name (a call to itself is refused earlier, by definition_order, as the
            // reference's definition sorter refuses it): Zest's pool-borrow does
            // `(contract-call? flashloan ...)` inside `flashloan`.
            atoms.remove(n);
            nodes.insert(n.clone(), (f.span, atoms));
        }
        for (n, e) in constants {
            let mut atoms = BTreeSet::new();
            collect_atoms(e, &mut atoms);
            nodes.insert(n.clone(), (e.span, atoms));
        }
        let keys: BTreeSet<Name> = nodes.keys().cloned().collect();
        for (_, deps) in nodes.values_mut() {
            deps.retain(|d| keys.contains(d));
        }
        // Rounds: each round takes, in name order, every definition whose dependencies were
        // all taken in earlier rounds (Kahn's algorithm by levels: linear in the definitions
        // and references; rescanning every definition per round was quadratic, and a chain of
        // 10,000 constants took 10 s to check).
        let mut waiting: BTreeMap<&Name, usize> = BTreeMap::new();
        let mut users: BTreeMap<&Name, Vec<&Name>> = BTreeMap::new();
        for (n, (_, deps)) in &nodes {
            waiting.insert(n, deps.iter().filter(|d| *d != n).count());
            for d in deps.iter().filter(|d| *d != n) {
                users.entry(d).or_default().push(n);
            }
        }
        let mut round: Vec<&Name> = nodes
            .iter()
            .filter(|(n, (_, deps))| !deps.contains(*n) && waiting[n] == 0)
            .map(|(n, _)| n)
            .collect();
        let mut order = Vec::new();
        let mut done: BTreeSet<Name> = BTreeSet::new();
        while !round.is_empty() {
            let mut next: Vec<&Name> = Vec::new();
            for n in &round {
                done.insert((*n).clone());
                order.push((*n).clone());
                for u in users.get(n).map(Vec::as_slice).unwrap_or(&[]) {
                    if let Some(w) = waiting.get_mut(u) {
                        *w -= 1;
                        if *w == 0 && !nodes[*u].1.contains(*u) {
                            next.push(u);
                        }
                    }
                }
            }
            next.sort();
            round = next;
        }
        if let Some((n, (span, _))) = nodes.iter().find(|(n, _)| !done.contains(*n)) {
            return err(
                *span,
                format!("'{n}' is part of a recursive definition cycle (recursion is not allowed)"),
            );
        }
        Ok(order)
    }

    fn check_function(&mut self, f: &FnDef) -> CResult<()> {
        self.locals = f.args.iter().cloned().collect();
        self.nargs = f.args.len();
        self.lets.clear();
        self.returns.clear();
        self.read_only = f.access == Access::ReadOnly;
        self.writes = false;
        let body_t = self.check(&f.body)?;
        // The reference's order: the early exits in the order met, then the body, each
        // against the type so far by its 2.1 supertype (`track_return_type`).
        let mut ret = Type::NoType;
        for r in std::mem::take(&mut self.returns)
            .into_iter()
            .chain([body_t])
        {
            ret = Type::union_default_to(&ret, &r).ok_or_else(|| {
                Diagnostic::new(
                    f.span,
                    format!("'{}' returns incompatible types {ret} and {r}", f.name),
                )
            })?;
        }
        if f.access == Access::Public && !matches!(ret, Type::Response(..)) {
            return err(
                f.span,
                format!(
                    "public function '{}' must return a response, not {ret}",
                    f.name
                ),
            );
        }
        self.locals.clear();
        self.nargs = 0;
        self.lets.clear();
        let mut nf = f.clone();
        nf.ret = ret;
        nf.writes = self.writes;
        self.c.fns.insert(f.name.clone(), Arc::new(nf));
        Ok(())
    }

    /// Checks a top-level expression (constant, initial value, or a deploy-time call).
    pub fn check_top(&mut self, e: &Expr, read_only: bool) -> CResult<Type> {
        self.locals.clear();
        self.nargs = 0;
        self.lets.clear();
        self.returns.clear();
        self.read_only = read_only;
        self.writes = false;
        let t = self.check(e)?;
        // An early exit (`try!`, `unwrap!`, `asserts!`, ...) outside a function body has no
        // function to return from: at deploy time it aborts the deployment. Its type does not
        // join the expression's (the reference type checker ignores it too).
        self.returns.clear();
        Ok(t)
    }

    fn define_trait(&mut self, span: Span, args: &[Expr]) -> CResult<(Name, TraitSig)> {
        arity(span, "define-trait", args, 2)?;
        let n = atom_arg(&args[0], "a trait name")?.clone();
        let fns = args[1].list().ok_or_else(|| {
            Diagnostic::new(args[1].span, "expected a list of function signatures")
        })?;
        let mut sig = TraitSig::new();
        for f in fns {
            let l = f.list().filter(|l| l.len() == 3).ok_or_else(|| {
                Diagnostic::new(f.span, "expected (name (arg-types ...) (response ...))")
            })?;
            let fname = atom_arg(&l[0], "a function name")?;
            let targs = l[1]
                .list()
                .ok_or_else(|| Diagnostic::new(l[1].span, "expected a list of argument types"))?;
            let mut ts = Vec::new();
            for t in targs {
                ts.push(self.parse_type_in_trait(t)?);
            }
            // Clarity 2: the result may hold trait references too, `(response <t> uint)`.
            let ret = self.parse_type_in_trait(&l[2])?;
            if !matches!(ret, Type::Response(..)) {
                return err(l[2].span, "trait functions must return a response");
            }
            // Clarity 1 keeps the last of two signatures of one name (the reference's
            // Clarity 1 trait parser); Clarity 2 refuses the second.
            if sig
                .insert(fname.clone(), TraitFn { args: ts, ret })
                .is_some()
                && self.c.version >= 2
            {
                return err(l[0].span, format!("duplicate trait function '{fname}'"));
            }
        }
        Ok((n, sig))
    }

    /// A type in a trait's signatures (argument or result): a trait reference may stand
    /// anywhere in it and names a `use-trait` alias or a trait of this contract. Traits are
    /// defined in the reference's order, so the traits a signature names are known here; a
    /// trait naming itself (or a trait that names it) was refused as a definition cycle.
    fn parse_type_in_trait(&mut self, t: &Expr) -> CResult<Type> {
        let c = &self.c;
        let mut resolve = |e: &Expr, r: &Name| -> CResult<Type> {
            if let Some(id) = c.use_traits.get(r) {
                return Ok(Type::Trait(id.clone()));
            }
            if c.traits.contains_key(r) {
                return Ok(Type::Trait(TraitId {
                    contract: c.id.clone(),
                    name: r.clone(),
                }));
            }
            err(
                e.span,
                format!("unknown trait <{r}> (declare it with use-trait)"),
            )
        };
        let ty = type_inner(t, &mut resolve)?;
        limited(t.span, ty)
    }

    fn use_trait(&mut self, span: Span, args: &[Expr]) -> CResult<(Name, TraitId)> {
        arity(span, "use-trait", args, 2)?;
        let n = atom_arg(&args[0], "a trait alias")?.clone();
        let ExprKind::TraitLiteral(id) = &args[1].kind else {
            return err(
                args[1].span,
                "use-trait expects a trait reference like .contract.trait",
            );
        };
        self.trait_sig(args[1].span, id)?;
        Ok((n, id.clone()))
    }

    /// A trait reference is used (`contract-call?` through it, `contract-of`) only where its
    /// trait is defined or imported with `use-trait` (a trait reached through another
    /// contract's result type is not: the reference refuses it, TraitReferenceUnknown).
    fn trait_in_scope(&self, span: Span, id: &TraitId) -> CResult<()> {
        if (id.contract == self.c.id && self.c.traits.contains_key(&id.name))
            || self.c.use_traits.values().any(|u| u == id)
        {
            return Ok(());
        }
        err(
            span,
            format!("trait {id} is not defined or imported here (declare it with use-trait)"),
        )
    }

    fn trait_sig(&mut self, span: Span, id: &TraitId) -> CResult<TraitSig> {
        if id.contract == self.c.id {
            return self.c.traits.get(&id.name).cloned().ok_or_else(|| {
                Diagnostic::new(span, format!("no trait '{}' in this contract", id.name))
            });
        }
        if let Some(s) = self.trait_cache.get(id) {
            return Ok(s.clone());
        }
        let c = self
            .r
            .contract(&id.contract)
            .ok_or_else(|| Diagnostic::new(span, format!("no such contract {}", id.contract)))?;
        let sig = c.traits.get(&id.name).cloned().ok_or_else(|| {
            Diagnostic::new(
                span,
                format!("contract {} defines no trait '{}'", id.contract, id.name),
            )
        })?;
        self.trait_cache.insert(id.clone(), sig.clone());
        Ok(sig)
    }

    /// Parses a type signature. `allow_trait`: `<trait>` is allowed (function arguments).
    pub fn parse_type(&mut self, e: &Expr, allow_trait: bool) -> CResult<Type> {
        let t = self.parse_type_inner(e, allow_trait)?;
        limited(e.span, t)
    }

    fn parse_type_inner(&mut self, e: &Expr, allow_trait: bool) -> CResult<Type> {
        let c = &self.c;
        // A trait reference may stand anywhere inside a function argument type (Clarity 2):
        // `<t>`, `(list 5 <t>)`, `{token: <t>}`, `(optional <t>)`, `(response <t> uint)`.
        let mut resolve = |t: &Expr, r: &Name| -> CResult<Type> {
            if !allow_trait {
                return err(
                    t.span,
                    "a trait type is only allowed in a function argument type",
                );
            }
            if let Some(id) = c.use_traits.get(r) {
                return Ok(Type::Trait(id.clone()));
            }
            if c.traits.contains_key(r) {
                return Ok(Type::Trait(TraitId {
                    contract: c.id.clone(),
                    name: r.clone(),
                }));
            }
            err(
                t.span,
                format!("unknown trait <{r}> (declare it with use-trait)"),
            )
        };
        type_inner(e, &mut resolve)
    }
}

/// Parses a type signature that contains no trait references.
pub fn plain_type(e: &Expr) -> CResult<Type> {
    let t = type_inner(e, &mut |t, _| err(t.span, "malformed type"))?;
    limited(e.span, t)
}

/// A type signature; `trait_ref` resolves a `<trait>` reference wherever one appears.
fn type_inner(e: &Expr, trait_ref: &mut dyn FnMut(&Expr, &Name) -> CResult<Type>) -> CResult<Type> {
    match &e.kind {
        ExprKind::TraitRef(r) => trait_ref(e, r),
        ExprKind::Atom(a) => match a.as_ref() {
            "int" => Ok(Type::Int),
            "uint" => Ok(Type::UInt),
            "bool" => Ok(Type::Bool),
            "principal" => Ok(Type::Principal),
            other => err(e.span, format!("unknown type '{other}'")),
        },
        ExprKind::List(items) => {
            let Some(head) = items.first().and_then(Expr::atom) else {
                return err(e.span, "malformed type");
            };
            let args = &items[1..];
            match head.as_ref() {
                "buff" | "string-ascii" | "string-utf8" => {
                    arity(e.span, head, args, 1)?;
                    let n = uint_literal(&args[0])?;
                    Ok(match head.as_ref() {
                        "buff" => Type::Buff(n),
                        "string-ascii" => Type::Ascii(n),
                        _ => Type::Utf8(n),
                    })
                }
                "list" => {
                    arity(e.span, head, args, 2)?;
                    let n = uint_literal(&args[0])?;
                    Ok(Type::list(type_inner(&args[1], trait_ref)?, n))
                }
                "optional" => {
                    arity(e.span, head, args, 1)?;
                    Ok(Type::optional(type_inner(&args[0], trait_ref)?))
                }
                "response" => {
                    arity(e.span, head, args, 2)?;
                    Ok(Type::response(
                        type_inner(&args[0], trait_ref)?,
                        type_inner(&args[1], trait_ref)?,
                    ))
                }
                "tuple" => {
                    if args.is_empty() {
                        return err(e.span, "a tuple type needs at least one field");
                    }
                    let mut m = BTreeMap::new();
                    for f in args {
                        let l = f
                            .list()
                            .filter(|l| l.len() == 2)
                            .ok_or_else(|| Diagnostic::new(f.span, "expected (name type)"))?;
                        let k = atom_arg(&l[0], "a field name")?;
                        let t = type_inner(&l[1], trait_ref)?;
                        if m.insert(k.clone(), t).is_some() {
                            return err(f.span, format!("duplicate tuple field '{k}'"));
                        }
                    }
                    Ok(Type::Tuple(m))
                }
                other => err(e.span, format!("unknown type '{other}'")),
            }
        }
        _ => err(e.span, "malformed type"),
    }
}

impl<'a> Checker<'a> {
    fn mark_write(&mut self, span: Span, what: &str) -> CResult<()> {
        self.writes = true;
        if self.read_only {
            return err(
                span,
                format!("{what} writes state and cannot be used in a read-only context"),
            );
        }
        Ok(())
    }

    /// The type of the local a name stands for. As in the reference's checker, trait
    /// references live apart from other locals and are looked up first: a trait-typed
    /// argument (in Clarity 2 code, any trait-typed binding) is what its name means even
    /// where a `let` or `match` has bound the name again (see [`Checker::bind`]).
    fn lookup_local(&self, n: &str) -> Option<&Type> {
        self.local_position(n)
            .and_then(|i| self.locals.at(i))
            .map(|(_, t)| t)
    }

    /// Where the local a name stands for is in `locals` (see [`Checker::lookup_local`]).
    fn local_position(&self, n: &str) -> Option<usize> {
        self.locals
            .position_where(n, |i, t| self.is_trait_ref(i, t))
            .or_else(|| self.locals.position(n))
    }

    /// Whether the local at `position` of type `t` is a trait reference in the reference's
    /// sense (its `traits_references`, apart from the variables): a trait-typed function
    /// argument, or in Clarity 2 and later any trait-typed `let`/`match` binding.
    fn is_trait_ref(&self, position: usize, t: &Type) -> bool {
        matches!(t, Type::Trait(_)) && (position < self.nargs || self.c.version >= 2)
    }

    /// A `contract-call?` target or `contract-of` argument naming a trait reference that a
    /// `let` or `match` inside its scope bound again: the reference calls the trait
    /// reference, this evaluator would take the newer binding; refused rather than run
    /// differently.
    fn trait_ref_not_rebound(&self, e: &Expr) -> CResult<()> {
        if let Some(a) = e.atom() {
            if self.local_position(a) != self.locals.position(a.as_ref()) {
                return err(
                    e.span,
                    format!(
                        "'{a}' names a trait reference that a let or match binds again: \
                         a contract-call? or contract-of through it is not supported"
                    ),
                );
            }
        }
        Ok(())
    }

    /// The contract a contract principal literal, or a constant bound to one, stands for.
    /// A `contract-call?` through a constant needs the constant first in the reference's
    /// order: its definition sorter does not count a call's target as a reference, and its
    /// type checker, going in that order, does not know a later constant's type yet
    /// (TraitReferenceUnknown).
    fn constant_target_defined_first(&self, target: &Expr) -> CResult<()> {
        let Some(a) = target.atom() else {
            return Ok(());
        };
        match (self.cur_rank, self.def_rank.get(a)) {
            (Some(cur), Some(&r)) if r > cur => err(
                target.span,
                format!(
                    "constant '{a}' is a contract-call? target before its definition: define it \
                     before the forms that call through it"
                ),
            ),
            _ => Ok(()),
        }
    }

    fn contract_principal_of(&self, e: &Expr) -> Option<Principal> {
        match &e.kind {
            ExprKind::Literal(Value::Principal(p @ Principal::Contract(..))) => Some(p.clone()),
            ExprKind::Atom(a) if self.lookup_local(a).is_none() => {
                self.const_principals.get(a).cloned()
            }
            _ => None,
        }
    }

    fn bind(&mut self, span: Span, n: &Name, t: Type) -> CResult<()> {
        if is_unbindable_in(n, self.c.version) {
            return err(span, format!("'{n}' is a reserved name"));
        }
        // The reference's `check_name_used` does not look at read-only functions: a binding
        // may be named like one at deploy (its evaluator, which knows every function, then
        // refuses the binding when it is made: `slots::resolve`). It sees the
        // definitions checked so far, in its order: not the function being checked (its
        // type is recorded after its body), nor later ones (a mainnet contract binds the
        // name of the very function it is in).
        let earlier = match (self.cur_rank, self.def_rank.get(n)) {
            (Some(cur), Some(&r)) => r < cur,
            _ => true,
        };
        let names_fn = self
            .c
            .fns
            .get(n)
            .is_some_and(|f| f.access != Access::ReadOnly);
        let defined = self.c.const_types.contains_key(n)
            || names_fn
            || self.c.vars.contains_key(n)
            || self.c.maps.contains_key(n);
        // Its local check looks at the variables only, not at trait references: a `let`
        // may bind the name of a trait-typed argument (a CityCoins DAO template rebinds
        // `token-contract` to `(contract-of token-contract)`).
        let variable = self
            .locals
            .position_where(n, |i, t| !self.is_trait_ref(i, t))
            .is_some();
        if variable || (defined && earlier) {
            return err(span, format!("'{n}' shadows an existing name"));
        }
        self.locals.push(n.clone(), t);
        Ok(())
    }

    /// Type of one expression.
    pub fn check(&mut self, e: &Expr) -> CResult<Type> {
        match &e.kind {
            ExprKind::Literal(v) => Ok(literal_type(v)),
            ExprKind::Atom(n) => self.atom_type(e.span, n),
            ExprKind::TraitRef(_) | ExprKind::TraitLiteral(_) => {
                err(e.span, "a trait reference is not a value")
            }
            ExprKind::List(items) => {
                let Some((head, args)) = items.split_first() else {
                    return err(e.span, "empty expression '()'");
                };
                let Some(name) = head.atom() else {
                    return err(head.span, "expected a function name");
                };
                self.apply(e.span, name, args)
            }
        }
    }

    fn atom_type(&mut self, span: Span, n: &Name) -> CResult<Type> {
        if let Some(t) = self.lookup_local(n) {
            return Ok(t.clone());
        }
        if ops::absent_in(n, self.c.version) {
            // A keyword of another version (`chain-id` in Clarity 1, `block-height` in
            // Clarity 3, `stacks-block-height` before it): a name the contract may define.
            if let Some(t) = self.c.const_types.get(n) {
                return Ok(t.clone());
            }
            return err(span, self.other_version(n));
        }
        Ok(match n.as_ref() {
            "stacks-block-height" | "tenure-height" | "stacks-block-time" => Type::UInt,
            "tx-sender" | "contract-caller" | "current-contract" => Type::Principal,
            "block-height" | "burn-block-height" | "stx-liquid-supply" | "chain-id" => Type::UInt,
            "is-in-mainnet" | "is-in-regtest" | "true" | "false" => Type::Bool,
            "none" => Type::optional(Type::NoType),
            "tx-sponsor?" => Type::optional(Type::Principal),
            _ => {
                if let Some(t) = self.c.const_types.get(n) {
                    return Ok(t.clone());
                }
                if let Some((_, msg)) = REFUSED.iter().find(|(r, _)| *r == n.as_ref()) {
                    return err(span, *msg);
                }
                return err(span, format!("use of unresolved variable '{n}'"));
            }
        })
    }

    fn check_all(&mut self, args: &[Expr]) -> CResult<Vec<Type>> {
        args.iter().map(|a| self.check(a)).collect()
    }

    /// A body sequence: intermediate responses must be handled.
    fn check_seq(&mut self, exprs: &[Expr]) -> CResult<Type> {
        let mut last = Type::NoType;
        for (i, e) in exprs.iter().enumerate() {
            last = self.check(e)?;
            if i + 1 < exprs.len() && matches!(last, Type::Response(..)) {
                return err(e.span, "unchecked intermediary response: handle it with try!, unwrap!, match or asserts!");
            }
        }
        Ok(last)
    }

    fn expect(&mut self, want: &Type, e: &Expr) -> CResult<Type> {
        let t = self.check(e)?;
        if !want.admits(&t) {
            return err(e.span, format!("expected type {want}, got {t}"));
        }
        Ok(t)
    }

    /// Checks a call argument against a parameter type (trait conformance included).
    pub fn check_param_pub(&mut self, want: &Type, e: &Expr) -> CResult<()> {
        self.locals.clear();
        self.nargs = 0;
        self.lets.clear();
        self.returns.clear();
        self.read_only = true;
        self.check_param(want, e)
    }

    /// Checks an argument against a parameter type, including trait conformance. A trait
    /// reference may sit inside a compound parameter type (Clarity 2): a contract principal
    /// literal in such a position must implement the trait, as a top-level one must.
    fn check_param(&mut self, want: &Type, e: &Expr) -> CResult<()> {
        if !want.has_trait() {
            return self.expect(want, e).map(|_| ());
        }
        if let Type::Trait(tid) = want {
            if let Some(p) = self.contract_principal_of(e) {
                return self.literal_implements(e.span, &p, tid);
            }
            if let Some(p) = self.let_principal(e) {
                return self.literal_implements(e.span, &p, tid);
            }
        }
        // A `let` binding of a literal constructor, or a constant (not shadowed by a local),
        // is checked through its defining expression, once per expected type.
        if let ExprKind::Atom(a) = &e.kind {
            let defined = if self.lookup_local(a).is_some() {
                match self.let_bound(a) {
                    Some(LetBound::Parts(id, d)) => Some((format!("let {id}|{want}"), d, false)),
                    _ => None,
                }
            } else {
                self.const_exprs
                    .get(a)
                    .map(|d| (format!("constant {a}|{want}"), d, true))
            };
            if let Some((key, def, constant)) = defined {
                if self.fits.contains(&key) {
                    return Ok(());
                }
                let def = def.clone();
                let (writes, returns) = (self.writes, self.returns.len());
                let r = if constant {
                    let saved = std::mem::take(&mut self.locals);
                    let saved_lets = std::mem::take(&mut self.lets);
                    let saved_nargs = std::mem::replace(&mut self.nargs, 0);
                    let r = self.check_param(want, &def);
                    self.locals = saved;
                    self.lets = saved_lets;
                    self.nargs = saved_nargs;
                    r
                } else {
                    self.check_param(want, &def)
                };
                // Kept only when checking again would change nothing else either.
                if r.is_ok() && self.writes == writes && self.returns.len() == returns {
                    self.fits.insert(key);
                }
                return r.map_err(|d| Diagnostic::new(e.span, d.message));
            }
        }
        // Literal constructors are checked part by part, so that the contract principal
        // literals inside them meet their trait.
        if let Some((head, parts)) = e
            .list()
            .and_then(|l| l.split_first())
            .and_then(|(h, rest)| h.atom().map(|h| (h.as_ref(), rest)))
        {
            match (want, head) {
                (Type::Tuple(m), "tuple") => {
                    let mut seen = BTreeSet::new();
                    for f in parts {
                        let l = f
                            .list()
                            .filter(|l| l.len() == 2)
                            .ok_or_else(|| Diagnostic::new(f.span, "expected (name value)"))?;
                        let k = atom_arg(&l[0], "a field name")?;
                        let Some(ft) = m.get(k) else {
                            return err(
                                f.span,
                                format!("expected type {want}, but the tuple has field '{k}'"),
                            );
                        };
                        if !seen.insert(k.clone()) {
                            return err(f.span, format!("duplicate tuple field '{k}'"));
                        }
                        self.check_param(ft, &l[1])?;
                    }
                    if seen.len() != m.len() {
                        return err(e.span, format!("expected type {want}, a field is missing"));
                    }
                    return Ok(());
                }
                (Type::List(t, n), "list") => {
                    if parts.len() as u64 > u64::from(*n) {
                        return err(
                            e.span,
                            format!("expected type {want}, got a list of {}", parts.len()),
                        );
                    }
                    for p in parts {
                        self.check_param(t, p)?;
                    }
                    return Ok(());
                }
                (Type::Optional(t), "some") | (Type::Response(t, _), "ok") if parts.len() == 1 => {
                    return self.check_param(t, &parts[0]);
                }
                (Type::Response(_, t), "err") if parts.len() == 1 => {
                    return self.check_param(t, &parts[0]);
                }
                _ => {}
            }
        }
        let t = self.check(e)?;
        self.trait_admits(e.span, want, &t)
    }

    /// What a `let` bound the local `a` to, when it may stand where a trait is expected.
    fn let_bound(&self, a: &str) -> Option<&LetBound> {
        let i = self.local_position(a)?;
        self.lets
            .iter()
            .rev()
            .find(|(j, _)| *j == i)
            .map(|(_, b)| b)
    }

    /// The contract principal literal a `let` bound the local `e` names to, if any.
    fn let_principal(&self, e: &Expr) -> Option<Principal> {
        match self.let_bound(e.atom()?)? {
            LetBound::Contract(p) => Some(p.clone()),
            LetBound::Parts(..) => None,
        }
    }

    /// A contract principal literal passed where `tid` is expected must implement it.
    fn literal_implements(&mut self, span: Span, p: &Principal, tid: &TraitId) -> CResult<()> {
        let pair = (p.clone(), tid.clone());
        if self.implements.contains(&pair) {
            return Ok(());
        }
        let sig = self.trait_sig(span, tid)?;
        let c = self
            .r
            .contract(p)
            .ok_or_else(|| Diagnostic::new(span, format!("no such contract {p}")))?;
        c.conforms_to(&sig).map_err(|m| Diagnostic::new(span, m))?;
        self.implements.insert(pair);
        Ok(())
    }

    /// A reference to trait `actual` may stand where trait `expected` is asked for: `actual`
    /// has every function of `expected`, each argument and result admitted as an argument
    /// is (a trait inside a signature by this same rule, not by identity: two deployers'
    /// copies of Pyth's traits name their own copy of Wormhole's trait). The reference's
    /// `clarity2_trait_check_trait_compliance`. Each pair is checked once.
    fn traits_compatible(
        &mut self,
        span: Span,
        actual: &TraitId,
        expected: &TraitId,
    ) -> CResult<()> {
        let pair = (actual.clone(), expected.clone());
        if actual == expected || self.compatible.contains(&pair) {
            return Ok(());
        }
        // Traits name only traits deployed before them, so this cannot loop; the bound
        // keeps a long chain of such traits from going deep.
        if self.trait_depth >= MAX_TRAIT_DEPTH {
            return err(span, format!("traits nested deeper than {MAX_TRAIT_DEPTH}"));
        }
        let a = self.trait_sig(span, actual)?;
        let b = self.trait_sig(span, expected)?;
        self.trait_depth += 1;
        let r = (|| {
            for (name, want) in &b {
                let Some(have) = a.get(name) else {
                    return err(span, format!("no function '{name}'"));
                };
                if have.args.len() != want.args.len() {
                    return err(span, format!("'{name}' takes other arguments"));
                }
                for (w, h) in want.args.iter().zip(&have.args) {
                    self.trait_admits(span, w, h)?;
                }
                self.trait_admits(span, &want.ret, &have.ret)?;
            }
            Ok(())
        })();
        self.trait_depth -= 1;
        r?;
        self.compatible.insert(pair);
        Ok(())
    }

    /// Does a value of type `have` fit `want`, where `want` has trait references somewhere?
    /// Only a trait-typed value (of the same or a compatible trait) fits a trait position.
    fn trait_admits(&mut self, span: Span, want: &Type, have: &Type) -> CResult<()> {
        let mismatch = || err(span, format!("expected type {want}, got {have}"));
        match (want, have) {
            (_, Type::NoType) => Ok(()),
            (Type::Trait(tid), Type::Trait(h)) => {
                if h == tid {
                    return Ok(());
                }
                self.traits_compatible(span, h, tid)
                    .or_else(|_| err(span, format!("trait {h} is not compatible with {tid}")))
            }
            (Type::Trait(tid), _) => err(
                span,
                format!("expected a contract implementing {tid}, got {have}"),
            ),
            (Type::List(we, wn), Type::List(he, hn)) => {
                if hn > wn {
                    return mismatch();
                }
                if *hn == 0 {
                    return Ok(());
                }
                self.trait_admits(span, we, he).or_else(|_| mismatch())
            }
            (Type::Tuple(wm), Type::Tuple(hm)) => {
                if wm.len() != hm.len() || wm.keys().ne(hm.keys()) {
                    return mismatch();
                }
                for (w, h) in wm.values().zip(hm.values()) {
                    self.trait_admits(span, w, h).or_else(|_| mismatch())?;
                }
                Ok(())
            }
            (Type::Optional(w), Type::Optional(h)) => {
                self.trait_admits(span, w, h).or_else(|_| mismatch())
            }
            (Type::Response(w1, w2), Type::Response(h1, h2)) => {
                self.trait_admits(span, w1, h1).or_else(|_| mismatch())?;
                self.trait_admits(span, w2, h2).or_else(|_| mismatch())
            }
            _ if !want.has_trait() && want.admits(have) => Ok(()),
            _ => mismatch(),
        }
    }

    fn apply(&mut self, span: Span, name: &Name, args: &[Expr]) -> CResult<Type> {
        let n = name.as_ref();
        if ops::absent_in(n, self.c.version) {
            // A builtin of another version: an ordinary name here, its own function or
            // unknown.
            if self.c.fns.contains_key(name) {
                return self.apply_user(span, name, args);
            }
            return err(span, self.other_version(n));
        }
        if WRITERS.contains(&n) {
            self.mark_write(span, n)?;
        }
        match n {
            "let" => {
                min_arity(span, n, args, 2)?;
                let binds = args[0]
                    .list()
                    .ok_or_else(|| Diagnostic::new(args[0].span, "expected a list of bindings"))?;
                let mark = self.locals.len();
                let res = (|| {
                    for b in binds {
                        let l = b
                            .list()
                            .filter(|l| l.len() == 2)
                            .ok_or_else(|| Diagnostic::new(b.span, "expected (name value)"))?;
                        let bn = atom_arg(&l[0], "a variable name")?;
                        let t = self.check(&l[1])?;
                        self.bind(l[0].span, bn, t)?;
                        let at = self.locals.len() - 1;
                        if let Some(p) = self.contract_principal_of(&l[1]) {
                            self.lets.push((at, LetBound::Contract(p)));
                        } else if is_constructor(&l[1]) {
                            self.lets
                                .push((at, LetBound::Parts(self.next_let, l[1].clone())));
                            self.next_let += 1;
                        }
                    }
                    self.check_seq(&args[1..])
                })();
                self.locals.truncate(mark);
                self.lets.retain(|(i, _)| *i < mark);
                res
            }
            "begin" => {
                min_arity(span, n, args, 1)?;
                self.check_seq(args)
            }
            "if" => {
                arity(span, n, args, 3)?;
                self.expect(&Type::Bool, &args[0])?;
                let a = self.check(&args[1])?;
                let b = self.check(&args[2])?;
                Type::union_default_to(&a, &b).ok_or_else(|| {
                    Diagnostic::new(
                        span,
                        format!("if branches have incompatible types {a} and {b}"),
                    )
                })
            }
            "match" => {
                let input = args
                    .first()
                    .map(|a| self.check(a))
                    .transpose()?
                    .ok_or_else(|| Diagnostic::new(span, "match expects an input"))?;
                let (a, b) = match input {
                    Type::Optional(t) => {
                        arity(span, "match on an optional", args, 4)?;
                        let bn = atom_arg(&args[1], "a binding name")?;
                        let mark = self.locals.len();
                        self.bind(args[1].span, bn, *t)?;
                        let a = self.check(&args[2]);
                        self.locals.truncate(mark);
                        (a?, self.check(&args[3])?)
                    }
                    Type::Response(ok, er) => {
                        arity(span, "match on a response", args, 5)?;
                        let on = atom_arg(&args[1], "a binding name")?;
                        let en = atom_arg(&args[3], "a binding name")?;
                        let mark = self.locals.len();
                        self.bind(args[1].span, on, *ok)?;
                        let a = self.check(&args[2]);
                        self.locals.truncate(mark);
                        let a = a?;
                        self.bind(args[3].span, en, *er)?;
                        let b = self.check(&args[4]);
                        self.locals.truncate(mark);
                        (a, b?)
                    }
                    other => {
                        return err(
                            args[0].span,
                            format!("match expects an optional or a response, got {other}"),
                        )
                    }
                };
                Type::union_default_to(&a, &b).ok_or_else(|| {
                    Diagnostic::new(
                        span,
                        format!("match branches have incompatible types {a} and {b}"),
                    )
                })
            }
            "asserts!" => {
                arity(span, n, args, 2)?;
                self.expect(&Type::Bool, &args[0])?;
                let t = self.check(&args[1])?;
                self.returns.push(t);
                Ok(Type::Bool)
            }
            "unwrap!" | "unwrap-err!" => {
                arity(span, n, args, 2)?;
                let input = self.check(&args[0])?;
                let thrown = self.check(&args[1])?;
                self.returns.push(thrown);
                match (n, input) {
                    ("unwrap!", Type::Optional(t)) | ("unwrap!", Type::Response(t, _)) => Ok(*t),
                    ("unwrap-err!", Type::Response(_, t)) => Ok(*t),
                    (_, t) => err(args[0].span, format!("{n} cannot unwrap {t}")),
                }
            }
            "try!" => {
                arity(span, n, args, 1)?;
                match self.check(&args[0])? {
                    Type::Optional(t) => {
                        self.returns.push(Type::optional(Type::NoType));
                        Ok(*t)
                    }
                    Type::Response(ok, e) => {
                        self.returns.push(Type::Response(Box::new(Type::NoType), e));
                        Ok(*ok)
                    }
                    t => err(
                        args[0].span,
                        format!("try! expects an optional or a response, got {t}"),
                    ),
                }
            }
            "tuple" => {
                min_arity(span, n, args, 1)?;
                let mut m = BTreeMap::new();
                for f in args {
                    let l = f
                        .list()
                        .filter(|l| l.len() == 2)
                        .ok_or_else(|| Diagnostic::new(f.span, "expected (name value)"))?;
                    let k = atom_arg(&l[0], "a field name")?;
                    let t = self.check(&l[1])?;
                    if m.insert(k.clone(), t).is_some() {
                        return err(f.span, format!("duplicate tuple field '{k}'"));
                    }
                }
                limited(span, Type::Tuple(m))
            }
            "get" => {
                arity(span, n, args, 2)?;
                let k = atom_arg(&args[0], "a field name")?;
                let field = |t: &Type| -> CResult<Type> {
                    match t {
                        Type::Tuple(m) => m.get(k).cloned().ok_or_else(|| {
                            Diagnostic::new(args[0].span, format!("tuple has no field '{k}'"))
                        }),
                        other => err(args[1].span, format!("get expects a tuple, got {other}")),
                    }
                };
                match self.check(&args[1])? {
                    Type::Optional(t) => Ok(Type::optional(field(&t)?)),
                    t => field(&t),
                }
            }
            "var-get" | "var-set" => {
                // The reference checks `var-set`, the map functions and `get-block-info?`
                // for at least their arguments and never looks at more (its evaluator then
                // aborts the call that has more: `extra_arguments_abort` in eval.rs).
                if n == "var-get" {
                    arity(span, n, args, 1)?;
                } else {
                    min_arity(span, n, args, 2)?;
                }
                let v = atom_arg(&args[0], "a variable name")?;
                let t = self.c.vars.get(v).cloned().ok_or_else(|| {
                    Diagnostic::new(args[0].span, format!("no data variable '{v}'"))
                })?;
                if n == "var-get" {
                    return Ok(t);
                }
                self.expect(&t, &args[1])?;
                Ok(Type::Bool)
            }
            "map-get?" | "map-set" | "map-insert" | "map-delete" => {
                let want = if matches!(n, "map-get?" | "map-delete") {
                    2
                } else {
                    3
                };
                min_arity(span, n, args, want)?;
                let m = atom_arg(&args[0], "a map name")?;
                let (kt, vt) = self
                    .c
                    .maps
                    .get(m)
                    .cloned()
                    .ok_or_else(|| Diagnostic::new(args[0].span, format!("no map '{m}'")))?;
                self.expect(&kt, &args[1])?;
                if want == 3 {
                    self.expect(&vt, &args[2])?;
                }
                Ok(if n == "map-get?" {
                    Type::optional(vt)
                } else {
                    Type::Bool
                })
            }
            "ft-get-balance" | "ft-get-supply" | "ft-mint?" | "ft-transfer?" | "ft-burn?" => {
                let shape: &[Type] = match n {
                    "ft-get-balance" => &[Type::Principal],
                    "ft-get-supply" => &[],
                    "ft-transfer?" => &[Type::UInt, Type::Principal, Type::Principal],
                    _ => &[Type::UInt, Type::Principal],
                };
                arity(span, n, args, shape.len() + 1)?;
                let tok = atom_arg(&args[0], "a token name")?;
                if !self.c.fts.contains_key(tok) {
                    return err(args[0].span, format!("no fungible token '{tok}'"));
                }
                for (t, a) in shape.iter().zip(&args[1..]) {
                    self.expect(t, a)?;
                }
                Ok(if n.ends_with('?') {
                    Type::response(Type::Bool, Type::UInt)
                } else {
                    Type::UInt
                })
            }
            "nft-get-owner?" | "nft-mint?" | "nft-transfer?" | "nft-burn?" => {
                let extra = match n {
                    "nft-get-owner?" => 0,
                    "nft-transfer?" => 2,
                    _ => 1,
                };
                arity(span, n, args, 2 + extra)?;
                let tok = atom_arg(&args[0], "a token name")?;
                let at = self.c.nfts.get(tok).cloned().ok_or_else(|| {
                    Diagnostic::new(args[0].span, format!("no non-fungible token '{tok}'"))
                })?;
                self.expect(&at, &args[1])?;
                for a in &args[2..] {
                    self.expect(&Type::Principal, a)?;
                }
                Ok(if n == "nft-get-owner?" {
                    Type::optional(Type::Principal)
                } else {
                    Type::response(Type::Bool, Type::UInt)
                })
            }
            "contract-call?" => self.check_contract_call(span, args),
            "as-contract" => {
                arity(span, n, args, 1)?;
                self.check(&args[0])
            }
            "restrict-assets?" => {
                min_arity(span, n, args, 3)?;
                self.expect(&Type::Principal, &args[0])?;
                self.allowances(n, &args[1], false)?;
                let body = self.guarded_body(&args[2..])?;
                Ok(Type::response(body, Type::UInt))
            }
            "as-contract?" => {
                min_arity(span, n, args, 2)?;
                self.allowances(n, &args[0], true)?;
                let body = self.guarded_body(&args[1..])?;
                Ok(Type::response(body, Type::UInt))
            }
            "with-stx" | "with-ft" | "with-nft" | "with-stacking" | "with-all-assets-unsafe" => {
                err(
                    span,
                    format!(
                        "{n}: allowance expressions are only allowed in the allowance list of \
                     restrict-assets? or as-contract?"
                    ),
                )
            }
            "contract-of" => {
                arity(span, n, args, 1)?;
                self.trait_ref_not_rebound(&args[0])?;
                match self.check(&args[0])? {
                    Type::Trait(tid) => {
                        self.trait_in_scope(args[0].span, &tid)?;
                        Ok(Type::Principal)
                    }
                    t => err(
                        args[0].span,
                        format!("contract-of expects a trait reference, got {t}"),
                    ),
                }
            }
            "map" => {
                min_arity(span, n, args, 2)?;
                let f = atom_arg(&args[0], "a function name")?;
                let mut elems = Vec::new();
                let mut len = u32::MAX;
                for a in &args[1..] {
                    let t = self.check(a)?;
                    let el = seq_elem(&t).ok_or_else(|| {
                        Diagnostic::new(a.span, format!("map expects sequences, got {t}"))
                    })?;
                    len = len.min(seq_len(&t).unwrap_or(0));
                    elems.push(el);
                }
                let r = self.apply_fn_types(args[0].span, f, &elems)?;
                limited(span, Type::list(r, len))
            }
            "filter" => {
                arity(span, n, args, 2)?;
                let f = atom_arg(&args[0], "a function name")?;
                let t = self.check(&args[1])?;
                let el = seq_elem(&t).ok_or_else(|| {
                    Diagnostic::new(args[1].span, format!("filter expects a sequence, got {t}"))
                })?;
                let r = self.apply_fn_types(args[0].span, f, &[el])?;
                if r != Type::Bool {
                    return err(
                        args[0].span,
                        format!("filter function must return bool, not {r}"),
                    );
                }
                Ok(t)
            }
            "fold" => {
                arity(span, n, args, 3)?;
                let f = atom_arg(&args[0], "a function name")?;
                let t = self.check(&args[1])?;
                let el = seq_elem(&t).ok_or_else(|| {
                    Diagnostic::new(args[1].span, format!("fold expects a sequence, got {t}"))
                })?;
                let init = self.check(&args[2])?;
                let r1 = self.apply_fn_types(args[0].span, f, &[el.clone(), init.clone()])?;
                let acc = Type::union(&init, &r1).ok_or_else(|| {
                    Diagnostic::new(
                        span,
                        format!("fold accumulator {init} and result {r1} differ"),
                    )
                })?;
                let r2 = self.apply_fn_types(args[0].span, f, &[el, acc.clone()])?;
                Type::union(&acc, &r2).ok_or_else(|| {
                    Diagnostic::new(
                        span,
                        format!("fold accumulator {acc} and result {r2} differ"),
                    )
                })
            }
            "get-block-info?"
            | "get-burn-block-info?"
            | "get-stacks-block-info?"
            | "get-tenure-info?" => {
                if n == "get-block-info?" {
                    min_arity(span, n, args, 2)?;
                } else {
                    arity(span, n, args, 2)?;
                }
                let p = atom_arg(&args[0], "a property name")?;
                let t = info_type(n, p);
                let t = t.ok_or_else(|| {
                    Diagnostic::new(args[0].span, format!("{n} property '{p}' is not supported"))
                })?;
                self.expect(&Type::UInt, &args[1])?;
                Ok(Type::optional(t))
            }
            "from-consensus-buff?" => {
                arity(span, n, args, 2)?;
                let t = self.parse_type(&args[0], false)?;
                match self.check(&args[1])? {
                    Type::Buff(_) => Ok(Type::optional(t)),
                    o => err(
                        args[1].span,
                        format!("from-consensus-buff? expects a buffer, got {o}"),
                    ),
                }
            }
            "at-block" => {
                // The reference's rule: a block hash and a read-only expression, whose type
                // is the result's. This VM keeps no historical state: evaluating it aborts.
                arity(span, n, args, 2)?;
                self.expect(&Type::Buff(32), &args[0])?;
                let outer = self.read_only;
                self.read_only = true;
                let t = self.check(&args[1]);
                self.read_only = outer;
                t
            }
            "as-max-len?" => {
                arity(span, n, args, 2)?;
                let t = self.check(&args[0])?;
                let len = uint_literal(&args[1])?;
                if seq_len(&t).is_none() {
                    return err(
                        args[0].span,
                        format!("as-max-len? expects a sequence, got {t}"),
                    );
                }
                if !matches!(&args[1].kind, ExprKind::Literal(Value::UInt(_))) {
                    return err(args[1].span, "as-max-len? expects a uint literal length");
                }
                limited(span, Type::optional(with_len(&t, len)))
            }
            _ => {
                if self.c.fns.contains_key(name) {
                    return self.apply_user(span, name, args);
                }
                if DEFINES.contains(&n) {
                    return err(span, format!("{n} is only allowed at the top level"));
                }
                // (A name of another version only was answered above; a keyword of this
                // one, `(stacks-block-time)` in Clarity 4 code, is no function.)
                if !is_builtin(n) {
                    return err(span, format!("unknown or unsupported function '{n}'"));
                }
                let ts = self.check_all(args)?;
                self.apply_simple(span, n, &ts)
            }
        }
    }

    /// The allowance list of `restrict-assets?` or `as-contract?` (`form`): a literal list
    /// of at most [`MAX_ALLOWANCES`] allowances, each with arguments of its types;
    /// `with-all-assets-unsafe` only in `as-contract?`, and alone.
    fn allowances(&mut self, form: &str, e: &Expr, as_contract: bool) -> CResult<()> {
        let Some(items) = e.list() else {
            return err(
                e.span,
                format!("{form} expects a list of asset allowances, such as ((with-stx u100))"),
            );
        };
        if items.len() > MAX_ALLOWANCES {
            return err(
                e.span,
                format!(
                    "too many allowances specified, the maximum is {MAX_ALLOWANCES}, found {}",
                    items.len()
                ),
            );
        }
        for a in items {
            let Some((head, xs)) = a.list().and_then(<[Expr]>::split_first) else {
                return err(a.span, "expected an allowance such as (with-stx u100)");
            };
            let Some(name) = head.atom() else {
                return err(head.span, "expected an allowance such as (with-stx u100)");
            };
            let name = name.as_ref();
            match name {
                "with-stx" | "with-stacking" => {
                    arity(a.span, name, xs, 1)?;
                    self.expect(&Type::UInt, &xs[0])?;
                }
                "with-ft" | "with-nft" => {
                    arity(a.span, name, xs, 3)?;
                    self.expect(&Type::Principal, &xs[0])?;
                    self.expect(&Type::Ascii(TOKEN_NAME_MAX), &xs[1])?;
                    if name == "with-ft" {
                        self.expect(&Type::UInt, &xs[2])?;
                    } else {
                        match self.check(&xs[2])? {
                            Type::List(_, len) if len as usize <= MAX_NFT_IDENTIFIERS => {}
                            Type::List(_, len) => {
                                return err(
                                    xs[2].span,
                                    format!(
                                        "with-nft allowance identifiers list must not exceed \
                                         {MAX_NFT_IDENTIFIERS} elements, got {len}"
                                    ),
                                )
                            }
                            _ => {
                                return err(
                                    xs[2].span,
                                    "with-nft allowance must include a list of asset identifiers",
                                )
                            }
                        }
                    }
                }
                "with-all-assets-unsafe" => {
                    arity(a.span, name, xs, 0)?;
                    if !as_contract {
                        return err(
                            a.span,
                            "with-all-assets-unsafe is not allowed here, only in the allowance \
                             list of as-contract?",
                        );
                    }
                    if items.len() > 1 {
                        return err(
                            a.span,
                            "with-all-assets-unsafe must not be used along with other allowances",
                        );
                    }
                }
                other => {
                    return err(
                        head.span,
                        format!("expected an allowance expression, got: {other}"),
                    )
                }
            }
        }
        Ok(())
    }

    /// The body of `restrict-assets?` or `as-contract?`: no expression of it, the last
    /// included, may be a response (the form's own response carries the last value).
    fn guarded_body(&mut self, exprs: &[Expr]) -> CResult<Type> {
        let mut last = Type::NoType;
        for e in exprs {
            last = self.check(e)?;
            if matches!(last, Type::Response(..)) {
                return err(
                    e.span,
                    "intermediary responses in consecutive statements must be checked: no \
                     expression of a restrict-assets? or as-contract? body may be a response \
                     (handle it with try!, unwrap!, match or asserts!)",
                );
            }
        }
        Ok(last)
    }

    /// Why `n`, a builtin or keyword of another Clarity version only, cannot be used here
    /// (Clarity 2 code keeps the messages of `REFUSED`, which say what to use instead).
    fn other_version(&self, n: &str) -> String {
        let version = self.c.version;
        match REFUSED.iter().find(|(r, _)| *r == n) {
            Some((_, msg)) if version == 2 => (*msg).to_string(),
            _ => ops::version_note(n, version),
        }
    }

    /// A call of one of this contract's functions.
    fn apply_user(&mut self, span: Span, name: &Name, args: &[Expr]) -> CResult<Type> {
        let Some(f) = self.c.fns.get(name).cloned() else {
            return err(span, format!("unknown function '{name}'"));
        };
        // The reference's analysis checks the arguments a call gives against the
        // parameters pairwise and does not compare their numbers
        // (type_check_function_application zips them); a call with too few or
        // too many fails when it runs (DefinedFunction::execute_apply).
        for ((_, t), a) in f.args.iter().zip(args) {
            self.check_param(t, a)?;
        }
        if f.writes {
            self.mark_write(span, &format!("'{name}'"))?;
        }
        Ok(f.ret.clone())
    }

    fn apply_fn_types(&mut self, span: Span, f: &Name, ts: &[Type]) -> CResult<Type> {
        if let Some(def) = self.c.fns.get(f).cloned() {
            if def.args.len() != ts.len() {
                return err(
                    span,
                    format!(
                        "'{f}' expects {} argument(s), got {}",
                        def.args.len(),
                        ts.len()
                    ),
                );
            }
            for ((_, want), t) in def.args.iter().zip(ts) {
                let fits = if want.has_trait() {
                    self.trait_admits(span, want, t).is_ok()
                } else {
                    want.admits(t)
                };
                if !fits {
                    return err(
                        span,
                        format!("'{f}' cannot take an argument of type {t} (expects {want})"),
                    );
                }
            }
            if def.writes {
                self.mark_write(span, &format!("'{f}'"))?;
            }
            return Ok(def.ret.clone());
        }
        const SPECIAL: &[&str] = &[
            "let",
            "begin",
            "if",
            "match",
            "asserts!",
            "unwrap!",
            "unwrap-err!",
            "try!",
            "tuple",
            "get",
            "var-get",
            "var-set",
            "map-get?",
            "map-set",
            "map-insert",
            "map-delete",
            "contract-call?",
            "as-contract",
            "as-contract?",
            "restrict-assets?",
            "with-stx",
            "with-ft",
            "with-nft",
            "with-stacking",
            "with-all-assets-unsafe",
            "to-ascii?",
            "secp256r1-verify",
            "contract-of",
            "map",
            "filter",
            "fold",
            "get-block-info?",
            "get-burn-block-info?",
            "get-stacks-block-info?",
            "get-tenure-info?",
            "from-consensus-buff?",
            "as-max-len?",
        ];
        let n = f.as_ref();
        if ops::absent_in(n, self.c.version) {
            return err(span, ops::version_note(n, self.c.version));
        }
        if is_builtin(n) && !SPECIAL.contains(&n) && !n.starts_with("ft-") && !n.starts_with("nft-")
        {
            if WRITERS.contains(&n) {
                self.mark_write(span, n)?;
            }
            return self.apply_simple(span, n, ts);
        }
        err(span, format!("'{f}' cannot be used as a function argument"))
    }

    fn check_contract_call(&mut self, span: Span, args: &[Expr]) -> CResult<Type> {
        min_arity(span, "contract-call?", args, 2)?;
        let fname = atom_arg(&args[1], "a function name")?;
        let call_args = &args[2..];
        // Clarity 2: a constant bound to a contract principal is a static target too.
        let target = self.contract_principal_of(&args[0]);
        match (&args[0].kind, target) {
            (_, Some(ref p)) => {
                self.constant_target_defined_first(&args[0])?;
                if *p == self.c.id {
                    return err(args[0].span, "a contract cannot contract-call? itself");
                }
                let c = self.r.contract(p).ok_or_else(|| {
                    Diagnostic::new(args[0].span, format!("no such contract {p}"))
                })?;
                let f = c.fns.get(fname).cloned().ok_or_else(|| {
                    Diagnostic::new(
                        args[1].span,
                        format!("contract {p} has no function '{fname}'"),
                    )
                })?;
                if f.access == Access::Private {
                    return err(args[1].span, format!("'{fname}' is private in {p}"));
                }
                if f.args.len() != call_args.len() {
                    return err(
                        span,
                        format!(
                            "'{fname}' expects {} argument(s), got {}",
                            f.args.len(),
                            call_args.len()
                        ),
                    );
                }
                for ((_, t), a) in f.args.iter().zip(call_args) {
                    self.check_param(t, a)?;
                }
                if f.access == Access::Public && f.writes {
                    self.mark_write(span, &format!("contract-call? to '{fname}'"))?;
                }
                Ok(f.ret.clone())
            }
            (ExprKind::Atom(a), None) => {
                self.trait_ref_not_rebound(&args[0])?;
                let t = self.lookup_local(a).cloned();
                let Some(Type::Trait(tid)) = t else {
                    return err(args[0].span, "contract-call? expects a contract principal literal or a trait reference argument");
                };
                self.trait_in_scope(args[0].span, &tid)?;
                let sig = self.trait_sig(args[0].span, &tid)?;
                let tf = sig.get(fname).cloned().ok_or_else(|| {
                    Diagnostic::new(
                        args[1].span,
                        format!("trait {tid} has no function '{fname}'"),
                    )
                })?;
                if tf.args.len() != call_args.len() {
                    return err(
                        span,
                        format!(
                            "'{fname}' expects {} argument(s), got {}",
                            tf.args.len(),
                            call_args.len()
                        ),
                    );
                }
                for (t, a) in tf.args.iter().zip(call_args) {
                    self.check_param(t, a)?;
                }
                self.mark_write(span, "a dynamic contract-call?")?;
                Ok(tf.ret)
            }
            _ => err(
                args[0].span,
                "contract-call? expects a contract principal literal or a trait reference argument",
            ),
        }
    }

    /// Type rule of a builtin whose arguments are all evaluated.
    fn apply_simple(&mut self, span: Span, n: &str, ts: &[Type]) -> CResult<Type> {
        let count = |k: usize| -> CResult<()> {
            if ts.len() != k {
                return err(
                    span,
                    format!("{n} expects {k} argument(s), got {}", ts.len()),
                );
            }
            Ok(())
        };
        let at_least = |k: usize| -> CResult<()> {
            if ts.len() < k {
                return err(
                    span,
                    format!("{n} expects at least {k} argument(s), got {}", ts.len()),
                );
            }
            Ok(())
        };
        let same_int = || -> CResult<Type> {
            let first = &ts[0];
            if !is_int(first) || ts.iter().any(|t| t != first) {
                let list: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
                return err(
                    span,
                    format!(
                        "{n} expects int or uint arguments of one type, got {}",
                        list.join(", ")
                    ),
                );
            }
            Ok(first.clone())
        };
        let bad = |what: &str| -> CResult<Type> {
            let list: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
            err(span, format!("{n} expects {what}, got {}", list.join(", ")))
        };
        let buff_max = |t: &Type, max: u32| matches!(t, Type::Buff(k) if *k <= max);
        Ok(match n {
            "+" | "-" | "*" | "/" | "bit-and" | "bit-or" | "bit-xor" => {
                at_least(1)?;
                same_int()?
            }
            "mod" | "pow" | "xor" => {
                count(2)?;
                same_int()?
            }
            "sqrti" | "log2" | "bit-not" => {
                count(1)?;
                same_int()?
            }
            "bit-shift-left" | "bit-shift-right" => {
                count(2)?;
                if !is_int(&ts[0]) || ts[1] != Type::UInt {
                    return bad("(int or uint, uint)");
                }
                ts[0].clone()
            }
            "<" | "<=" | ">" | ">=" => {
                count(2)?;
                let ok = matches!(
                    (&ts[0], &ts[1]),
                    (Type::Int, Type::Int)
                        | (Type::UInt, Type::UInt)
                        | (Type::Ascii(_), Type::Ascii(_))
                        | (Type::Utf8(_), Type::Utf8(_))
                        | (Type::Buff(_), Type::Buff(_))
                );
                if !ok {
                    return bad("two values of one comparable type");
                }
                Type::Bool
            }
            "is-eq" => {
                at_least(1)?;
                // The reference folds its 2.1 supertype over the arguments, each one against
                // the type so far (each field of a tuple argument must be in the tuples
                // before it: a 7-field draft compared with a 5-field one checks).
                let mut u = ts[0].clone();
                for t in &ts[1..] {
                    u = match Type::union_default_to(t, &u) {
                        Some(x) => x,
                        None => return bad("values of one type"),
                    };
                }
                Type::Bool
            }
            "and" | "or" => {
                at_least(1)?;
                if ts.iter().any(|t| *t != Type::Bool) {
                    return bad("bool arguments");
                }
                Type::Bool
            }
            "not" => {
                count(1)?;
                if ts[0] != Type::Bool {
                    return bad("a bool");
                }
                Type::Bool
            }
            "to-int" => {
                count(1)?;
                if ts[0] != Type::UInt {
                    return bad("a uint");
                }
                Type::Int
            }
            "to-uint" => {
                count(1)?;
                if ts[0] != Type::Int {
                    return bad("an int");
                }
                Type::UInt
            }
            "int-to-ascii" | "int-to-utf8" => {
                count(1)?;
                same_int()?;
                if n == "int-to-ascii" {
                    Type::Ascii(40)
                } else {
                    Type::Utf8(40)
                }
            }
            "string-to-int?" | "string-to-uint?" => {
                count(1)?;
                if !matches!(ts[0], Type::Ascii(_) | Type::Utf8(_)) {
                    return bad("a string");
                }
                Type::optional(if n == "string-to-int?" {
                    Type::Int
                } else {
                    Type::UInt
                })
            }
            "buff-to-int-le" | "buff-to-int-be" | "buff-to-uint-le" | "buff-to-uint-be" => {
                count(1)?;
                if !buff_max(&ts[0], 16) {
                    return bad("a buffer of at most 16 bytes");
                }
                if n.starts_with("buff-to-int") {
                    Type::Int
                } else {
                    Type::UInt
                }
            }
            "to-consensus-buff?" => {
                count(1)?;
                let size = ts[0].max_size().min(MAX_VALUE_SIZE) as u32;
                Type::optional(Type::Buff(size))
            }
            "list" => {
                let mut u = Type::NoType;
                for t in ts {
                    u = match Type::union_default_to(&u, t) {
                        Some(x) => x,
                        None => return bad("list elements of one type"),
                    };
                }
                limited(span, Type::list(u, ts.len() as u32))?
            }
            "len" => {
                count(1)?;
                if seq_len(&ts[0]).is_none() {
                    return bad("a sequence");
                }
                Type::UInt
            }
            "element-at" | "element-at?" => {
                count(2)?;
                match (seq_elem(&ts[0]), &ts[1]) {
                    (Some(e), Type::UInt) => Type::optional(e),
                    _ => return bad("(sequence, uint)"),
                }
            }
            "index-of" | "index-of?" => {
                count(2)?;
                match seq_elem(&ts[0]) {
                    Some(e) if Type::union(&e, &ts[1]).is_some() => Type::optional(Type::UInt),
                    _ => return bad("(sequence, element)"),
                }
            }
            "slice?" => {
                count(3)?;
                if seq_len(&ts[0]).is_none() || ts[1] != Type::UInt || ts[2] != Type::UInt {
                    return bad("(sequence, uint, uint)");
                }
                Type::optional(ts[0].clone())
            }
            "concat" => {
                count(2)?;
                let (a, b) = (&ts[0], &ts[1]);
                let sum = |x: u32, y: u32| x.saturating_add(y);
                let t = match (a, b) {
                    (Type::Buff(x), Type::Buff(y)) => Type::Buff(sum(*x, *y)),
                    (Type::Ascii(x), Type::Ascii(y)) => Type::Ascii(sum(*x, *y)),
                    (Type::Utf8(x), Type::Utf8(y)) => Type::Utf8(sum(*x, *y)),
                    (Type::List(e1, x), Type::List(e2, y)) => {
                        match Type::union_default_to(e1, e2) {
                            Some(e) => Type::list(e, sum(*x, *y)),
                            None => return bad("two sequences of one type"),
                        }
                    }
                    _ => return bad("two sequences of one type"),
                };
                limited(span, t)?
            }
            "append" => {
                count(2)?;
                match &ts[0] {
                    // The reference's 2.1 supertype (as `default-to`'s): a tuple element with
                    // more fields than the list's tuples is appended as the list's type.
                    Type::List(e, k) => match Type::union_default_to(e, &ts[1]) {
                        Some(u) => limited(span, Type::list(u, k.saturating_add(1)))?,
                        None => return bad("(list, element of the list's type)"),
                    },
                    _ => return bad("(list, element)"),
                }
            }
            "replace-at?" => {
                count(3)?;
                match seq_elem(&ts[0]) {
                    Some(e) if ts[1] == Type::UInt && e.admits(&ts[2]) => {
                        Type::optional(ts[0].clone())
                    }
                    _ => return bad("(sequence, uint, element)"),
                }
            }
            "ok" | "err" | "some" => {
                count(1)?;
                let t = ts[0].clone();
                match n {
                    "ok" => Type::response(t, Type::NoType),
                    "err" => Type::response(Type::NoType, t),
                    _ => Type::optional(t),
                }
            }
            "is-ok" | "is-err" => {
                count(1)?;
                if !matches!(ts[0], Type::Response(..)) {
                    return bad("a response");
                }
                Type::Bool
            }
            "is-some" | "is-none" => {
                count(1)?;
                if !matches!(ts[0], Type::Optional(_)) {
                    return bad("an optional");
                }
                Type::Bool
            }
            "unwrap-panic" => {
                count(1)?;
                match &ts[0] {
                    Type::Optional(t) | Type::Response(t, _) => (**t).clone(),
                    _ => return bad("an optional or a response"),
                }
            }
            "unwrap-err-panic" => {
                count(1)?;
                match &ts[0] {
                    Type::Response(_, t) => (**t).clone(),
                    _ => return bad("a response"),
                }
            }
            "default-to" => {
                count(2)?;
                match &ts[1] {
                    Type::Optional(t) => match Type::union_default_to(&ts[0], t) {
                        Some(u) => u,
                        None => return bad("(default, optional of the same type)"),
                    },
                    _ => return bad("(default, optional)"),
                }
            }
            "sha256" | "sha512" | "sha512/256" | "keccak256" | "hash160" => {
                count(1)?;
                if !matches!(ts[0], Type::Buff(_) | Type::Int | Type::UInt) {
                    return bad("a buffer, int or uint");
                }
                Type::Buff(match n {
                    "sha512" => 64,
                    "hash160" => 20,
                    _ => 32,
                })
            }
            "secp256k1-recover?" => {
                count(2)?;
                if !buff_max(&ts[0], 32) || !buff_max(&ts[1], 65) {
                    return bad("(buff 32, buff 65)");
                }
                Type::response(Type::Buff(33), Type::UInt)
            }
            "secp256k1-verify" => {
                count(3)?;
                if !buff_max(&ts[0], 32) || !buff_max(&ts[1], 65) || !buff_max(&ts[2], 33) {
                    return bad("(buff 32, buff 65, buff 33)");
                }
                Type::Bool
            }
            "secp256r1-verify" => {
                count(3)?;
                if !buff_max(&ts[0], 32) || !buff_max(&ts[1], 64) || !buff_max(&ts[2], 33) {
                    return bad("(buff 32, buff 64, buff 33)");
                }
                Type::Bool
            }
            "contract-hash?" => {
                count(1)?;
                if ts[0] != Type::Principal {
                    return bad("a principal");
                }
                Type::response(Type::Buff(32), Type::UInt)
            }
            "to-ascii?" => {
                count(1)?;
                let len = match &ts[0] {
                    Type::Int | Type::UInt => 40,
                    Type::Bool => 5,
                    Type::Principal | Type::Trait(_) => 170,
                    Type::Buff(l) if *l <= MAX_TO_ASCII_BUFFER => 2 * l + 2,
                    Type::Utf8(l) => *l,
                    _ => {
                        return bad(&format!(
                            "int, uint, bool, principal, (buff {MAX_TO_ASCII_BUFFER}) or \
                             string-utf8"
                        ))
                    }
                };
                Type::response(Type::Ascii(len), Type::UInt)
            }
            "principal-of?" => {
                count(1)?;
                if !buff_max(&ts[0], 33) {
                    return bad("a (buff 33) public key");
                }
                Type::response(Type::Principal, Type::UInt)
            }
            "is-standard" | "stx-get-balance" | "stx-account" | "principal-destruct?" => {
                count(1)?;
                if !Type::Principal.admits(&ts[0]) {
                    return bad("a principal");
                }
                match n {
                    "is-standard" => Type::Bool,
                    "stx-get-balance" => Type::UInt,
                    "stx-account" => stx_account_tuple(),
                    _ => Type::response(destruct_tuple(), destruct_tuple()),
                }
            }
            "principal-construct?" => {
                if ts.len() != 2 && ts.len() != 3 {
                    return bad("(buff 1, buff 20 [, string-ascii 40])");
                }
                if !buff_max(&ts[0], 1)
                    || !buff_max(&ts[1], 20)
                    || ts.get(2).is_some_and(|t| !Type::Ascii(40).admits(t))
                {
                    return bad("(buff 1, buff 20 [, string-ascii 40])");
                }
                let mut m = BTreeMap::new();
                m.insert(Name::from("error_code"), Type::UInt);
                m.insert(Name::from("value"), Type::optional(Type::Principal));
                Type::response(Type::Principal, Type::Tuple(m))
            }
            "stx-transfer?" | "stx-transfer-memo?" | "stx-burn?" => {
                let want: &[Type] = match n {
                    "stx-transfer?" => &[Type::UInt, Type::Principal, Type::Principal],
                    "stx-burn?" => &[Type::UInt, Type::Principal],
                    _ => &[Type::UInt, Type::Principal, Type::Principal, Type::Buff(34)],
                };
                count(want.len())?;
                if want.iter().zip(ts).any(|(w, t)| !w.admits(t)) {
                    return bad("(uint, principal, ...)");
                }
                Type::response(Type::Bool, Type::UInt)
            }
            "print" => {
                count(1)?;
                ts[0].clone()
            }
            "merge" => {
                count(2)?;
                match (&ts[0], &ts[1]) {
                    (Type::Tuple(a), Type::Tuple(b)) => {
                        let mut m = a.clone();
                        m.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
                        Type::Tuple(m)
                    }
                    _ => return bad("two tuples"),
                }
            }
            other => return err(span, format!("'{other}' cannot be used here")),
        })
    }
}
