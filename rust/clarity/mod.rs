//! A Clarity 2 smart-contract VM: parser with source positions ([`parser`]), static type
//! checker run at deploy ([`analysis`]), local slots of function bodies ([`slots`]),
//! evaluator with write rollback, events and cost accounting ([`eval`], [`costs`]), c32check
//! principals ([`c32`]).
//!
//! State and chain data come from a [`Host`]; the [`Vm`] keeps analysed contracts cached and
//! returns each transaction's writes for the caller to apply (only when it commits).

pub mod allowances;
pub mod analysis;
pub mod c32;
pub mod contract;
pub mod costs;
pub mod eval;
pub mod ops;
pub mod parser;
pub mod scope;
pub mod slots;
pub mod types;

use std::collections::BTreeMap;

// Keyed (randomly seeded per process) hashing: keys here can be chosen by contract authors
// and callers. foldhash hashes the ~80-byte state keys in about half ahash's portable
// fallback's instructions (the wheel is built without AES instructions).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::sync::Arc;

pub use analysis::Resolver;
use contract::FnDef;
pub use contract::{Access, Contract};
pub use costs::Cost;
pub use eval::{Abort, Event, Host};
pub use parser::{Diagnostic, Span};
pub use types::{Name, Principal, StandardPrincipal, Type, Value};

use analysis::Checker;
use eval::{call_env, contract_key, Env, Exec, Frame};
use parser::{Expr, ExprKind};

/// Name of the transient contract that console expressions and call arguments run in.
const TRANSIENT: &str = "__transient";
/// Deepest chain of contracts loaded from the store while loading one contract.
const MAX_LOAD_DEPTH: u32 = 64;

/// The outcome of a transaction (deploy, call, read-only call, expression).
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The result, unless the call aborted.
    pub result: Option<Value>,
    /// Why it aborted (runtime error, cost limit, host failure).
    pub error: Option<String>,
    /// True when the writes are to be applied.
    pub committed: bool,
    pub events: Vec<Event>,
    pub cost: Cost,
    /// The writes to apply (empty unless committed), in key order; `None` deletes. (An
    /// outcome of [`Vm::call_batch`] has them in the order written: see
    /// [`Outcome::writes_by_key`].)
    pub writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Outcome {
    /// The writes as [`Vm::call`] gives them: the last value of each key, in key order. Of
    /// writes in the order written (a batch's outcomes) and of writes already by key alike.
    pub fn writes_by_key(&self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        // The journal's own reduction: the innermost (last) write of each key, by key.
        let journal: scope::Scope<Option<Vec<u8>>, Vec<u8>> = self.writes.iter().cloned().collect();
        journal.into_innermost()
    }

    /// A copy of this outcome with its writes by key ([`Outcome::writes_by_key`]).
    pub fn with_writes_by_key(&self) -> Outcome {
        Outcome {
            result: self.result.clone(),
            error: self.error.clone(),
            committed: self.committed,
            events: self.events.clone(),
            cost: self.cost,
            writes: self.writes_by_key(),
        }
    }
}

/// Host plus the contract cache: what the checker and evaluator resolve against.
struct Ctx<'a> {
    host: &'a mut dyn Host,
    cache: &'a mut ContractCache,
    loading: u32,
}

/// The chain-view methods of a [`Host`] wrapper, answered by its `host` field.
macro_rules! chain_view_of_host {
    () => {
        fn block_height(&mut self) -> Result<u128, String> {
            self.host.block_height()
        }
        fn burn_block_height(&mut self) -> Result<u128, String> {
            self.host.burn_block_height()
        }
        fn block_info(&mut self, prop: &str, height: u128) -> Result<Option<Value>, String> {
            self.host.block_info(prop, height)
        }
        fn burn_block_info(&mut self, prop: &str, height: u128) -> Result<Option<Value>, String> {
            self.host.burn_block_info(prop, height)
        }
        fn block_time(&mut self) -> Result<u128, String> {
            self.host.block_time()
        }
        fn at_block(&mut self, hash: &[u8]) -> Result<Option<(u128, u128)>, String> {
            self.host.at_block(hash)
        }
        fn get_at(
            &mut self,
            key: &[u8],
            height: u128,
            use_bytes: &mut dyn FnMut(Option<&[u8]>),
        ) -> Result<(), String> {
            self.host.get_at(key, height, use_bytes)
        }
    };
}

impl Host for Ctx<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        self.host.get(key)
    }
    fn get_with(
        &mut self,
        key: &[u8],
        use_bytes: &mut dyn FnMut(Option<&[u8]>),
    ) -> Result<(), String> {
        self.host.get_with(key, use_bytes)
    }
    fn held(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        self.host.held(key)
    }
    chain_view_of_host!();
}

/// Analysed contracts by principal, each with the hash of the stored record it was analysed
/// from.
#[derive(Default)]
pub struct ContractCache {
    map: HashMap<Principal, (Arc<Contract>, [u8; 32])>,
    /// The contract found last (a block's calls mostly go to a few contracts), kept only
    /// while the map does not change.
    last: Option<(Principal, Arc<Contract>)>,
    /// Check every hit against the record in the store (see [`Vm::validate_cache`]).
    pub validate: bool,
    /// Contracts parsed and analysed from the store so far (cache misses).
    pub loads: u64,
}

impl ContractCache {
    fn insert(&mut self, id: Principal, c: Arc<Contract>, record: &[u8]) {
        self.last = None;
        self.map.insert(id, (c, *blake3::hash(record).as_bytes()));
    }

    fn remove(&mut self, id: &Principal) {
        self.last = None;
        self.map.remove(id);
    }

    pub fn clear(&mut self) {
        self.last = None;
        self.map.clear();
    }
}

impl Resolver for Ctx<'_> {
    fn contract(&mut self, id: &Principal) -> Option<Arc<Contract>> {
        let mut record = None;
        if !self.cache.validate {
            if let Some((last, c)) = &self.cache.last {
                if last == id {
                    return Some(c.clone());
                }
            }
        }
        if let Some((c, hash)) = self.cache.map.get(id) {
            if !self.cache.validate {
                let c = c.clone();
                self.cache.last = Some((id.clone(), c.clone()));
                return Some(c);
            }
            // The record can change under the same principal only through a rollback of the
            // store: a hit counts only if the record is still the one analysed.
            let stored = self.host.get(&contract_key(id)).ok()??;
            if blake3::hash(&stored).as_bytes() == hash {
                return Some(c.clone());
            }
            self.cache.remove(id);
            record = Some(stored);
        }
        if self.loading >= MAX_LOAD_DEPTH {
            return None;
        }
        let record = match record {
            Some(r) => r,
            None => self.host.get(&contract_key(id)).ok()??,
        };
        self.cache.loads += 1;
        let (source, version, constants) = decode_record(&record)?;
        let issuer = id.issuer().clone();
        let exprs = parse_versioned(&source, &issuer, version).ok()?;
        self.loading += 1;
        let analysed = analysis::analyze(id.clone(), source, version, &exprs, self);
        self.loading -= 1;
        let mut c = analysed.ok()?;
        c.constants = constants;
        let c = Arc::new(c);
        self.cache.insert(id.clone(), c.clone(), &record);
        Some(c)
    }
}

/// Parses `source`; names that are builtins only in other Clarity versions than `version`
/// are ordinary names in it.
fn parse_versioned(
    source: &str,
    issuer: &StandardPrincipal,
    version: u8,
) -> Result<Vec<parser::Expr>, Diagnostic> {
    let mut exprs = parser::parse(source, issuer)?;
    ops::demote_for_version(&mut exprs, version);
    Ok(exprs)
}

/// The stored record of a contract: a magic naming its Clarity version, its source and its
/// constants. Clarity 2 records (the first format, all the inference chain stores) begin
/// with `CLAR1`, Clarity 1 records with `CLAV1`, Clarity 3 and 4 ones with `CLAV3`, `CLAV4`.
const RECORD_CLARITY2: &[u8] = b"CLAR1";
const RECORD_CLARITY1: &[u8] = b"CLAV1";
const RECORD_CLARITY3: &[u8] = b"CLAV3";
const RECORD_CLARITY4: &[u8] = b"CLAV4";

fn encode_record(source: &str, version: u8, constants: &BTreeMap<Name, Value>) -> Vec<u8> {
    let magic = match version {
        1 => RECORD_CLARITY1,
        3 => RECORD_CLARITY3,
        4 => RECORD_CLARITY4,
        _ => RECORD_CLARITY2,
    };
    let mut out = magic.to_vec();
    out.extend_from_slice(&(source.len() as u32).to_be_bytes());
    out.extend_from_slice(source.as_bytes());
    for (k, v) in constants {
        out.push(k.len() as u8);
        out.extend_from_slice(k.as_bytes());
        let b = v.serialize();
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        out.extend_from_slice(&b);
    }
    out
}

fn decode_record(b: &[u8]) -> Option<(String, u8, BTreeMap<Name, Value>)> {
    let (version, rest) = if let Some(rest) = b.strip_prefix(RECORD_CLARITY2) {
        (2, rest)
    } else if let Some(rest) = b.strip_prefix(RECORD_CLARITY1) {
        (1, rest)
    } else if let Some(rest) = b.strip_prefix(RECORD_CLARITY4) {
        (4, rest)
    } else {
        (3, b.strip_prefix(RECORD_CLARITY3)?)
    };
    let take = |r: &mut &[u8], n: usize| -> Option<Vec<u8>> {
        if r.len() < n {
            return None;
        }
        let (a, b) = r.split_at(n);
        *r = b;
        Some(a.to_vec())
    };
    let mut r = rest;
    let n = u32::from_be_bytes(take(&mut r, 4)?.try_into().ok()?) as usize;
    let source = String::from_utf8(take(&mut r, n)?).ok()?;
    let mut constants = BTreeMap::new();
    while !r.is_empty() {
        let kl = take(&mut r, 1)?[0] as usize;
        let k = String::from_utf8(take(&mut r, kl)?).ok()?;
        let vl = u32::from_be_bytes(take(&mut r, 4)?.try_into().ok()?) as usize;
        let v = Value::deserialize(&take(&mut r, vl)?).ok()?;
        constants.insert(Name::from(k.as_str()), v);
    }
    Some((source, version, constants))
}

/// The source text of a stored contract record (what `contract-hash?` hashes).
pub(crate) fn record_source(b: &[u8]) -> Option<&[u8]> {
    let rest = b.get(RECORD_CLARITY2.len()..)?;
    let n = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    rest.get(4..4 + n)
}

/// The VM: configuration, budgets and the cache of analysed contracts.
pub struct Vm {
    pub mainnet: bool,
    pub chain_id: u32,
    pub call_limit: Cost,
    pub block_limit: Cost,
    /// Cost used so far in the current block (see [`Vm::new_block`]).
    pub block_used: Cost,
    cache: ContractCache,
    /// Call arguments already parsed that are plain literals (value and literal type);
    /// texts relative to the sender (`.name`) are not kept.
    arg_memo: HashMap<String, (Value, Type)>,
    /// The function called last: (its contract, its name, its definition). The contract is
    /// held, so the pointer cannot name another contract while kept.
    last_fn: Option<(Arc<Contract>, Name, Arc<FnDef>)>,
    /// The allocation of the last call's locals, empty (see [`eval::recycle_env`]).
    spare_env: eval::EnvBuffer,
}

/// Entries kept in [`Vm`]'s argument memo before it is emptied.
const ARG_MEMO_MAX: usize = 1024;

fn diag(msg: impl Into<String>) -> Vec<Diagnostic> {
    vec![Diagnostic::new(Span { line: 1, col: 1 }, msg)]
}

impl Vm {
    pub fn new(mainnet: bool) -> Self {
        Vm {
            mainnet,
            chain_id: if mainnet { 1 } else { 0x8000_0000 },
            call_limit: Cost::CALL_LIMIT,
            block_limit: Cost::BLOCK_LIMIT,
            block_used: Cost::default(),
            cache: ContractCache::default(),
            arg_memo: HashMap::default(),
            last_fn: None,
            spare_env: Vec::new(),
        }
    }

    /// Starts a new block: the block budget is full again.
    pub fn new_block(&mut self) {
        self.block_used = Cost::default();
    }

    /// Whether every use of a cached contract is checked against its record in the store
    /// (one read and a BLAKE3 of the record): then the cache stays right across rollbacks
    /// of the store, and one VM can serve every transaction of a chain.
    pub fn validate_cache(&self) -> bool {
        self.cache.validate
    }

    pub fn set_validate_cache(&mut self, on: bool) {
        self.cache.validate = on;
    }

    /// Contracts parsed and analysed from the store so far (cache misses).
    pub fn contract_loads(&self) -> u64 {
        self.cache.loads
    }

    /// Forgets cached contracts (after the store was rolled back).
    pub fn clear_cache(&mut self) {
        self.cache.clear();
        self.last_fn = None;
    }

    fn budget(&self) -> Cost {
        self.call_limit
            .min(self.block_limit.saturating_sub(self.block_used))
    }

    /// Parses and type-checks a contract of Clarity `version` (1 to 4) without deploying it.
    pub fn check(
        &mut self,
        host: &mut dyn Host,
        id: &Principal,
        source: &str,
        version: u8,
    ) -> Result<Contract, Vec<Diagnostic>> {
        if !(1..=4).contains(&version) {
            return Err(diag(format!(
                "Clarity version {version} is not supported (1 to 4)"
            )));
        }
        let exprs = parse_versioned(source, id.issuer(), version).map_err(|d| vec![d])?;
        let mut ctx = Ctx {
            host,
            cache: &mut self.cache,
            loading: 0,
        };
        analysis::analyze(id.clone(), source.to_string(), version, &exprs, &mut ctx)
    }

    /// Looks up a deployed contract.
    pub fn contract(&mut self, host: &mut dyn Host, id: &Principal) -> Option<Arc<Contract>> {
        let mut ctx = Ctx {
            host,
            cache: &mut self.cache,
            loading: 0,
        };
        ctx.contract(id)
    }

    /// Deploys `source`, Clarity `version` code, as `sender.name`. Analysis errors come
    /// back as `Err`; a deploy that fails at runtime comes back as an uncommitted outcome.
    pub fn deploy(
        &mut self,
        host: &mut dyn Host,
        name: &str,
        source: &str,
        sender: &Principal,
        version: u8,
    ) -> Result<(Arc<Contract>, Outcome), Vec<Diagnostic>> {
        let Principal::Standard(issuer) = sender else {
            return Err(diag("the deployer must be a standard principal"));
        };
        if !types::valid_contract_name(name) {
            return Err(diag(format!("invalid contract name {name:?}")));
        }
        let id = Principal::Contract(issuer.clone(), name.into());
        match host.get(&contract_key(&id)) {
            Ok(Some(_)) => return Err(diag(format!("contract {id} already exists"))),
            Ok(None) => {}
            Err(e) => return Err(diag(format!("host error: {e}"))),
        }
        let mut contract = self.check(host, &id, source, version)?;
        let budget = self.budget();
        let (mainnet, chain_id) = (self.mainnet, self.chain_id);
        let mut ctx = Ctx {
            host,
            cache: &mut self.cache,
            loading: 0,
        };
        let mut exec = Exec::new(&mut ctx, budget, mainnet, chain_id);
        let r = exec.deploy(&contract, sender);
        let mut written_record = None;
        let outcome = match r {
            Ok(constants) => {
                contract.constants = constants;
                let rec = encode_record(source, version, &contract.constants);
                written_record = Some(rec.clone());
                let written = exec.write(contract_key(&id), Some(rec));
                match written {
                    Ok(()) => finish(&mut exec, Ok(Value::Bool(true))),
                    Err(e) => finish(&mut exec, Err(e)),
                }
            }
            Err(e) => finish(&mut exec, Err(e)),
        };
        self.block_used = self.block_used.saturating_add(outcome.cost);
        let contract = Arc::new(contract);
        if let (true, Some(rec)) = (outcome.committed, written_record) {
            self.cache.insert(id.clone(), contract.clone(), &rec);
        }
        Ok((contract, outcome))
    }

    /// Parses, checks and evaluates the arguments (literal expressions) of a call of `def`,
    /// bound to its parameters.
    fn arguments<'d>(
        &mut self,
        host: &mut dyn Host,
        sender: &Principal,
        def: &'d FnDef,
        args: &[impl AsRef<str>],
    ) -> Result<Env<'d>, Vec<Diagnostic>> {
        let params = &def.args;
        if params.len() != args.len() {
            return Err(diag(format!(
                "expected {} argument(s), got {}",
                params.len(),
                args.len()
            )));
        }
        let mut out = call_env(def, std::mem::take(&mut self.spare_env));
        for ((n, t), a) in params.iter().zip(args) {
            let a = a.as_ref();
            if let Some(v) = plain_literal(a, t) {
                out.push(n, v);
                continue;
            }
            if let Some((v, vt)) = self.arg_memo.get(a) {
                // (the simple types compared in line: the general comparison is a call)
                let simple = matches!(
                    (vt, t),
                    (Type::Principal, Type::Principal)
                        | (Type::UInt, Type::UInt)
                        | (Type::Int, Type::Int)
                        | (Type::Bool, Type::Bool)
                );
                if simple || vt == t || !t.has_trait() && t.admits(vt) {
                    out.push(n, v.clone());
                    continue;
                }
            }
            let e = single_expr(a, sender.issuer())?;
            // A literal of the parameter's type (no trait to conform to) is its own value:
            // checking and evaluating it in the transient contract would give the same.
            if !t.has_trait() {
                let lit = match &e.kind {
                    ExprKind::Literal(v) => Some((v.clone(), analysis::literal_type(v))),
                    ExprKind::Atom(n) => match n.as_ref() {
                        "none" => Some((Value::none(), Type::optional(Type::NoType))),
                        "true" => Some((Value::Bool(true), Type::Bool)),
                        "false" => Some((Value::Bool(false), Type::Bool)),
                        _ => None,
                    },
                    _ => None,
                };
                if let Some((v, vt)) = lit {
                    if vt != Type::NoType && t.admits(&vt) {
                        if !a.trim_start().starts_with('.') {
                            if self.arg_memo.len() >= ARG_MEMO_MAX {
                                self.arg_memo.clear();
                            }
                            self.arg_memo.insert(a.to_string(), (v.clone(), vt));
                        }
                        out.push(n, v);
                        continue;
                    }
                }
            }
            let transient = self.transient(sender);
            let mut ctx = Ctx {
                host: &mut *host,
                cache: &mut self.cache,
                loading: 0,
            };
            let mut ck = Checker::new(transient.clone(), &mut ctx);
            ck.check_param_pub(t, &e).map_err(|d| vec![d])?;
            drop(ck);
            let mut exec = Exec::new(&mut ctx, Cost::CALL_LIMIT, self.mainnet, self.chain_id);
            let frame = Frame {
                contract: &transient,
                sender,
                caller: sender,
                read_only: true,
            };
            match exec.eval_top(&frame, &e) {
                Ok(v) => out.push(n, v),
                Err(e) => {
                    return Err(diag(format!(
                        "argument could not be evaluated: {}",
                        abort_msg(&e)
                    )))
                }
            }
        }
        Ok(out)
    }

    fn transient(&self, sender: &Principal) -> Contract {
        Contract::new(
            Principal::Contract(sender.issuer().clone(), TRANSIENT.into()),
            String::new(),
        )
    }

    /// Calls a public (or, with `read_only`, a read-only) function as `sender`.
    pub fn call(
        &mut self,
        host: &mut dyn Host,
        contract: &Principal,
        function: &str,
        args: &[impl AsRef<str>],
        sender: &Principal,
        read_only: bool,
    ) -> Result<Outcome, Vec<Diagnostic>> {
        self.call_with(
            host,
            contract,
            function,
            args,
            sender,
            read_only,
            Writes::ByKey,
        )
    }

    /// [`Vm::call`], its outcome's writes in `order`.
    #[allow(clippy::too_many_arguments)]
    fn call_with(
        &mut self,
        host: &mut dyn Host,
        contract: &Principal,
        function: &str,
        args: &[impl AsRef<str>],
        sender: &Principal,
        read_only: bool,
        order: Writes,
    ) -> Result<Outcome, Vec<Diagnostic>> {
        let (c, def) = self.function(host, contract, function)?;
        self.call_def(host, &c, &def, function, args, sender, read_only, order)
    }

    /// The deployed contract `contract` and its function `function`.
    fn function(
        &mut self,
        host: &mut dyn Host,
        contract: &Principal,
        function: &str,
    ) -> Result<(Arc<Contract>, Arc<FnDef>), Vec<Diagnostic>> {
        let Some(c) = self.contract(host, contract) else {
            return Err(diag(format!("no such contract {contract}")));
        };
        let def = match &self.last_fn {
            Some((lc, ln, def)) if Arc::ptr_eq(lc, &c) && ln.as_ref() == function => def.clone(),
            _ => {
                let Some((name, def)) = c.fns.get_key_value(function) else {
                    return Err(diag(format!("{contract} has no function '{function}'")));
                };
                let def = def.clone();
                self.last_fn = Some((c.clone(), name.clone(), def.clone()));
                def
            }
        };
        Ok((c, def))
    }

    /// Calls `def`, the function `function` of `c`, as [`Vm::call_with`] does.
    #[allow(clippy::too_many_arguments)]
    fn call_def(
        &mut self,
        host: &mut dyn Host,
        c: &Contract,
        def: &FnDef,
        function: &str,
        args: &[impl AsRef<str>],
        sender: &Principal,
        read_only: bool,
        order: Writes,
    ) -> Result<Outcome, Vec<Diagnostic>> {
        match (def.access, read_only) {
            (Access::Private, _) => return Err(diag(format!("'{function}' is private"))),
            (Access::Public, true) => {
                return Err(diag(format!("'{function}' is public, not read-only")))
            }
            _ => {}
        }
        let env = self.arguments(host, sender, def, args)?;
        let budget = self.budget();
        let (mainnet, chain_id) = (self.mainnet, self.chain_id);
        let mut ctx = Ctx {
            host,
            cache: &mut self.cache,
            loading: 0,
        };
        let mut exec = Exec::new(&mut ctx, budget, mainnet, chain_id);
        let frame = Frame {
            contract: c,
            sender,
            caller: sender,
            read_only: read_only || def.access == Access::ReadOnly,
        };
        let r = exec.call_public_bound(&frame, def, env);
        let mut out = finish_with(&mut exec, r, order);
        self.spare_env = std::mem::take(&mut exec.spare_env);
        if read_only {
            out.writes.clear();
        }
        self.block_used = self.block_used.saturating_add(out.cost);
        Ok(out)
    }

    /// Evaluates a console expression as a transaction by `sender` (`.name` refers to the
    /// sender's contracts). Committed unless it aborts or returns `err`.
    pub fn eval(
        &mut self,
        host: &mut dyn Host,
        source: &str,
        sender: &Principal,
        read_only: bool,
    ) -> Result<Outcome, Vec<Diagnostic>> {
        let e = single_expr(source, sender.issuer())?;
        let transient = self.transient(sender);
        let budget = self.budget();
        let (mainnet, chain_id) = (self.mainnet, self.chain_id);
        let mut ctx = Ctx {
            host,
            cache: &mut self.cache,
            loading: 0,
        };
        let mut ck = Checker::new(transient.clone(), &mut ctx);
        ck.check_top(&e, read_only).map_err(|d| vec![d])?;
        drop(ck);
        let mut exec = Exec::new(&mut ctx, budget, mainnet, chain_id);
        let frame = Frame {
            contract: &transient,
            sender,
            caller: sender,
            read_only,
        };
        let mark = exec.begin();
        let r = exec.eval_top(&frame, &e);
        match &r {
            Ok(Value::Response(false, _)) | Err(_) => exec.rollback(mark),
            Ok(_) => exec.commit(),
        }
        let out = finish(&mut exec, r);
        self.block_used = self.block_used.saturating_add(out.cost);
        Ok(out)
    }
}

/// One call of a batch (see [`Vm::call_batch`]).
pub struct BatchCall<'a> {
    /// The contract, or why its text is not a contract principal (the call is refused).
    pub contract: &'a Result<Principal, String>,
    pub function: &'a str,
    pub args: &'a [&'a str],
    /// The sender, or why its text is not a principal (the call is refused).
    pub sender: &'a Result<Principal, String>,
    pub read_only: bool,
}

/// The state a batch of calls runs against: the host's state with the writes of the
/// batch's committed calls on top. The host's answers are remembered (nothing else writes
/// the host's state while a batch runs), so each key crosses to the host at most once.
pub struct BatchHost<'a> {
    host: &'a mut dyn Host,
    /// Key -> (value, written by a committed call of this batch).
    state: HashMap<Vec<u8>, (Option<Vec<u8>>, bool)>,
}

impl<'a> BatchHost<'a> {
    pub fn new(host: &'a mut dyn Host) -> Self {
        BatchHost {
            host,
            state: HashMap::default(),
        }
    }

    fn apply(&mut self, writes: &[(Vec<u8>, Option<Vec<u8>>)]) {
        for (k, v) in writes {
            match self.state.get_mut(k.as_slice()) {
                // `clone_from` reuses the old value's buffer.
                Some(slot) => {
                    slot.0.clone_from(v);
                    slot.1 = true;
                }
                None => {
                    self.state.insert(k.clone(), (v.clone(), true));
                }
            }
        }
    }

    /// The batch's writes, one per key (the last), in key order.
    pub fn into_writes(self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut out: Vec<_> = self
            .state
            .into_iter()
            .filter(|(_, (_, dirty))| *dirty)
            .map(|(k, (v, _))| (k, v))
            .collect();
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl Host for BatchHost<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let mut out = None;
        self.get_with(key, &mut |v| out = v.map(<[u8]>::to_vec))?;
        Ok(out)
    }
    fn get_with(
        &mut self,
        key: &[u8],
        use_bytes: &mut dyn FnMut(Option<&[u8]>),
    ) -> Result<(), String> {
        if let Some((v, _)) = self.state.get(key) {
            use_bytes(v.as_deref());
            return Ok(());
        }
        let v = self.host.get(key)?;
        use_bytes(v.as_deref());
        self.state.insert(key.to_vec(), (v, false));
        Ok(())
    }
    fn held(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        self.state.get(key).map(|(v, _)| v.as_deref())
    }
    chain_view_of_host!();
}

impl Vm {
    /// Runs `calls` in order as separate transactions, each seeing the writes of the
    /// committed ones before it: the same outcomes, costs and final state as calling
    /// [`Vm::call`] once per call and applying each committed call's writes in between
    /// (each outcome's writes in the order written, not sorted and merged per call:
    /// [`Outcome::writes_by_key`] gives what `call` gives).
    /// Returns each call's outcome (or its argument/lookup diagnostics: that call is
    /// skipped) and the batch's writes (last value per key, in key order) for the caller
    /// to apply to the host's state.
    #[allow(clippy::type_complexity)]
    pub fn call_batch(
        &mut self,
        host: &mut dyn Host,
        calls: &[BatchCall<'_>],
    ) -> (
        Vec<Result<Outcome, Vec<Diagnostic>>>,
        Vec<(Vec<u8>, Option<Vec<u8>>)>,
    ) {
        let mut bh = BatchHost::new(host);
        let mut outs = Vec::with_capacity(calls.len());
        // The contract and function of the call before, kept for the next call to the same
        // (a block's calls mostly go to a few): found again only when they change, or on
        // every call while the cache checks each use against the store. Nothing a call runs
        // can change a deployed contract.
        type Found<'b> = (&'b Principal, &'b str, Arc<Contract>, Arc<FnDef>);
        let mut last: Option<Found<'_>> = None;
        for c in calls {
            let r = match (c.contract, c.sender) {
                (Ok(contract), Ok(sender)) => {
                    let same = !self.cache.validate
                        && matches!(&last, Some((p, n, _, _))
                            if (std::ptr::eq(*p, contract) || *p == contract) && *n == c.function);
                    if !same {
                        last = match self.function(&mut bh, contract, c.function) {
                            Ok((k, def)) => Some((contract, c.function, k, def)),
                            Err(d) => {
                                outs.push(Err(d));
                                continue;
                            }
                        };
                    }
                    match &last {
                        Some((_, _, k, def)) => self.call_def(
                            &mut bh,
                            k,
                            def,
                            c.function,
                            c.args,
                            sender,
                            c.read_only,
                            Writes::AsWritten,
                        ),
                        // (not reached: `last` was found just above)
                        None => Err(diag(format!("no such contract {contract}"))),
                    }
                }
                (Err(e), _) => Err(diag(format!("bad contract id: {e}"))),
                (_, Err(e)) => Err(diag(format!("bad sender: {e}"))),
            };
            if let Ok(o) = &r {
                if o.committed {
                    bh.apply(&o.writes);
                }
            }
            outs.push(r);
        }
        (outs, bh.into_writes())
    }
}

/// The value of a call argument written as `none`, `true`, `false` or a number in its
/// canonical form (no sign on a uint, no leading zeros, no `-0`), when the parameter's type
/// is the literal's: what parsing, checking and evaluating it would give, without doing so.
/// Anything else (other forms, other types, out of range) takes the full path.
fn plain_literal(text: &str, t: &Type) -> Option<Value> {
    fn canonical(digits: &[u8]) -> bool {
        !digits.is_empty()
            && digits.len() <= 39
            && digits.iter().all(u8::is_ascii_digit)
            && (digits[0] != b'0' || digits.len() == 1)
    }
    match (text.as_bytes(), t) {
        (b"none", Type::Optional(_)) => Some(Value::none()),
        (b"true", Type::Bool) => Some(Value::Bool(true)),
        (b"false", Type::Bool) => Some(Value::Bool(false)),
        ([b'u', digits @ ..], Type::UInt) if canonical(digits) => {
            text[1..].parse::<u128>().ok().map(Value::UInt)
        }
        ([b'-', digits @ ..], Type::Int) if canonical(digits) && digits != b"0" => {
            text.parse::<i128>().ok().map(Value::Int)
        }
        (digits, Type::Int) if canonical(digits) => text.parse::<i128>().ok().map(Value::Int),
        _ => None,
    }
}

fn single_expr(source: &str, issuer: &StandardPrincipal) -> Result<Expr, Vec<Diagnostic>> {
    let mut exprs = parser::parse(source, issuer).map_err(|d| vec![d])?;
    if exprs.len() != 1 {
        return Err(diag(format!(
            "expected exactly one expression, got {}",
            exprs.len()
        )));
    }
    let e = exprs.remove(0);
    if let ExprKind::List(l) = &e.kind {
        if let Some(h) = l.first().and_then(Expr::atom) {
            if h.starts_with("define-") || h.as_ref() == "use-trait" || h.as_ref() == "impl-trait" {
                return Err(vec![Diagnostic::new(
                    e.span,
                    "definitions are not allowed here",
                )]);
            }
        }
    }
    Ok(e)
}

fn abort_msg(a: &Abort) -> String {
    match a {
        Abort::Return(v) => format!("early return {v}"),
        Abort::Runtime(m) => format!("runtime error: {m}"),
        Abort::Cost(m) => m.clone(),
        Abort::Host(m) => format!("host error: {m}"),
    }
}

/// Whether an outcome's writes are given by key (the last value of each, in key order) or in
/// the order written (a batch's: [`Vm::call_batch`]).
#[derive(Clone, Copy)]
enum Writes {
    ByKey,
    AsWritten,
}

fn writes_of(exec: &mut Exec<'_>, order: Writes) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    match order {
        Writes::ByKey => exec.take_writes(),
        Writes::AsWritten => exec.take_journal(),
    }
}

/// The outcome of a transaction run by `exec` that gave `r` (its writes and events are
/// taken out of `exec`).
fn finish(exec: &mut Exec<'_>, r: Result<Value, Abort>) -> Outcome {
    finish_with(exec, r, Writes::ByKey)
}

fn finish_with(exec: &mut Exec<'_>, r: Result<Value, Abort>, order: Writes) -> Outcome {
    let cost = exec.cost;
    let events = std::mem::take(&mut exec.events);
    match r {
        Ok(v) => {
            let committed = !matches!(v, Value::Response(false, _));
            let writes = if committed {
                writes_of(exec, order)
            } else {
                Vec::new()
            };
            let events = if committed { events } else { Vec::new() };
            Outcome {
                result: Some(v),
                error: None,
                committed,
                events,
                cost,
                writes,
            }
        }
        Err(Abort::Return(v)) => Outcome {
            committed: !matches!(v, Value::Response(false, _)),
            writes: if matches!(v, Value::Response(false, _)) {
                Vec::new()
            } else {
                writes_of(exec, order)
            },
            result: Some(v),
            error: None,
            events,
            cost,
        },
        Err(a) => Outcome {
            result: None,
            error: Some(abort_msg(&a)),
            committed: false,
            events: Vec::new(),
            cost,
            writes: Vec::new(),
        },
    }
}

/// A host with in-memory state and a simple deterministic chain, for tests and tools.
#[derive(Debug, Clone, Default)]
pub struct MemoryHost {
    pub state: BTreeMap<Vec<u8>, Vec<u8>>,
    pub block_height: u128,
    pub burn_block_height: u128,
    /// The state at the end of each block ended with [`MemoryHost::end_block`] (`at-block`).
    pub history: BTreeMap<u128, BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemoryHost {
    /// Ends the current block: its state is kept for `at-block`, and the next block begins.
    pub fn end_block(&mut self) {
        self.history.insert(self.block_height, self.state.clone());
        self.block_height += 1;
    }

    pub fn apply(&mut self, writes: &[(Vec<u8>, Option<Vec<u8>>)]) {
        for (k, v) in writes {
            match v {
                Some(v) => self.state.insert(k.clone(), v.clone()),
                None => self.state.remove(k),
            };
        }
    }

    pub fn set_stx(&mut self, p: &Principal, amount: u128) {
        self.state
            .insert(eval::stx_key(p), Value::UInt(amount).serialize());
    }
}

fn fake_hash(tag: &str, h: u128) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(format!("{tag}:{h}").as_bytes()).to_vec()
}

impl Host for MemoryHost {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        Ok(self.state.get(key).cloned())
    }
    fn block_height(&mut self) -> Result<u128, String> {
        Ok(self.block_height)
    }
    fn burn_block_height(&mut self) -> Result<u128, String> {
        Ok(self.burn_block_height)
    }
    fn block_info(&mut self, prop: &str, height: u128) -> Result<Option<Value>, String> {
        if height >= self.block_height {
            return Ok(None);
        }
        Ok(Some(match prop {
            "time" => Value::UInt(1_700_000_000 + height * 10),
            "miner-address" => Value::Principal(Principal::Standard(StandardPrincipal {
                version: 26,
                hash: [0; 20],
            })),
            "block-reward" | "miner-spend-total" | "miner-spend-winner" => Value::UInt(0),
            other => Value::Buff(fake_hash(other, height)),
        }))
    }
    fn burn_block_info(&mut self, prop: &str, height: u128) -> Result<Option<Value>, String> {
        if height >= self.burn_block_height {
            return Ok(None);
        }
        Ok(Some(Value::Buff(fake_hash(prop, height))))
    }
    fn block_time(&mut self) -> Result<u128, String> {
        Ok(1_700_000_000 + self.block_height * 10)
    }
    fn at_block(&mut self, hash: &[u8]) -> Result<Option<(u128, u128)>, String> {
        let burn = self.burn_block_height;
        Ok(self
            .history
            .keys()
            .find(|h| fake_hash("id-header-hash", **h) == hash)
            .map(|h| (*h, burn.min(*h))))
    }
    fn get_at(
        &mut self,
        key: &[u8],
        height: u128,
        use_bytes: &mut dyn FnMut(Option<&[u8]>),
    ) -> Result<(), String> {
        let Some(state) = self.history.get(&height) else {
            return Err(format!("the state of block {height} is not kept"));
        };
        use_bytes(state.get(key).map(Vec::as_slice));
        Ok(())
    }
}

#[cfg(test)]
mod tests;
