//! Bindings for [`crate::clarity`]: the `ClarityVm` class and principal helpers.
//!
//! The host (state store and chains) is a Python object with `get(key)`, `block_height()`,
//! `burn_block_height()`, `block_info(prop, height)`, `burn_block_info(prop, height)`,
//! `block_time()` (`stacks-block-time`), and for `at-block` `at_block(hash)`
//! (`(height, burn_height)` or None) and `get_at(key, height)`.
//! Outcomes come back as plain dicts; `funai.clarity` wraps them in typed objects.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use super::IntoPyResult;
use crate::clarity::eval::stx_key;
use crate::clarity::{
    BatchCall, Contract, Cost, Diagnostic, Host, Outcome, Principal, StandardPrincipal, Value, Vm,
};
use crate::Error;

/// Adapts a Python host object; the first Python exception is kept and re-raised.
struct PyHost<'py> {
    obj: Bound<'py, PyAny>,
    err: Option<PyErr>,
}

impl PyHost<'_> {
    fn fail<T>(&mut self, e: PyErr) -> Result<T, String> {
        let msg = e.to_string();
        if self.err.is_none() {
            self.err = Some(e);
        }
        Err(msg)
    }

    fn height(&mut self, method: &str) -> Result<u128, String> {
        match self
            .obj
            .call_method0(method)
            .and_then(|v| v.extract::<u128>())
        {
            Ok(h) => Ok(h),
            Err(e) => self.fail(e),
        }
    }

    fn info(&mut self, method: &str, prop: &str, height: u128) -> Result<Option<Value>, String> {
        let r = self.obj.call_method1(method, (prop, height));
        let r = match r {
            Ok(r) => r,
            Err(e) => return self.fail(e),
        };
        if r.is_none() {
            return Ok(None);
        }
        if let Ok(b) = r.cast::<PyBytes>() {
            return Ok(Some(Value::Buff(b.as_bytes().to_vec())));
        }
        if let Ok(s) = r.extract::<String>() {
            return match Principal::parse(s.trim_start_matches('\'')) {
                Ok(p) => Ok(Some(Value::Principal(p))),
                Err(e) => Err(format!("host returned a bad principal: {e}")),
            };
        }
        match r.extract::<u128>() {
            Ok(u) => Ok(Some(Value::UInt(u))),
            Err(e) => self.fail(e),
        }
    }
}

impl Host for PyHost<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let r = self.obj.call_method1(
            intern!(self.obj.py(), "get"),
            (PyBytes::new(self.obj.py(), key),),
        );
        match r.and_then(|v| v.extract::<Option<Vec<u8>>>()) {
            Ok(v) => Ok(v),
            Err(e) => self.fail(e),
        }
    }
    fn block_height(&mut self) -> Result<u128, String> {
        self.height("block_height")
    }
    fn burn_block_height(&mut self) -> Result<u128, String> {
        self.height("burn_block_height")
    }
    fn block_info(&mut self, prop: &str, height: u128) -> Result<Option<Value>, String> {
        self.info("block_info", prop, height)
    }
    fn burn_block_info(&mut self, prop: &str, height: u128) -> Result<Option<Value>, String> {
        self.info("burn_block_info", prop, height)
    }
    fn block_time(&mut self) -> Result<u128, String> {
        self.height("block_time")
    }
    fn at_block(&mut self, hash: &[u8]) -> Result<Option<(u128, u128)>, String> {
        let py = self.obj.py();
        let r = self
            .obj
            .call_method1(intern!(py, "at_block"), (PyBytes::new(py, hash),))
            .and_then(|v| v.extract::<Option<(u128, u128)>>());
        match r {
            Ok(v) => Ok(v),
            Err(e) => self.fail(e),
        }
    }
    fn get_at(
        &mut self,
        key: &[u8],
        height: u128,
        use_bytes: &mut dyn FnMut(Option<&[u8]>),
    ) -> Result<(), String> {
        let py = self.obj.py();
        let r = self
            .obj
            .call_method1(intern!(py, "get_at"), (PyBytes::new(py, key), height));
        // Read as `get` reads: history is read rarely (inside `at-block` only).
        match r.and_then(|v| v.extract::<Option<Vec<u8>>>()) {
            Ok(v) => {
                use_bytes(v.as_deref());
                Ok(())
            }
            Err(e) => self.fail(e),
        }
    }
}

fn principal(text: &str) -> crate::Result<Principal> {
    Principal::parse(text.trim_start_matches('\'')).map_err(Error::malformed)
}

fn cost_dict<'py>(py: Python<'py>, c: &Cost) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "runtime"), c.runtime)?;
    d.set_item(intern!(py, "read_count"), c.read_count)?;
    d.set_item(intern!(py, "read_length"), c.read_length)?;
    d.set_item(intern!(py, "write_count"), c.write_count)?;
    d.set_item(intern!(py, "write_length"), c.write_length)?;
    Ok(d)
}

fn cost_from(d: &Bound<'_, PyDict>, base: Cost) -> PyResult<Cost> {
    let get = |k: &str, dflt: u64| -> PyResult<u64> {
        match d.get_item(k)? {
            Some(v) => v.extract(),
            None => Ok(dflt),
        }
    };
    for k in d.keys() {
        let k: String = k.extract()?;
        if ![
            "runtime",
            "read_count",
            "read_length",
            "write_count",
            "write_length",
        ]
        .contains(&k.as_str())
        {
            return Err(PyValueError::new_err(format!("unknown cost field {k:?}")));
        }
    }
    Ok(Cost {
        runtime: get("runtime", base.runtime)?,
        read_count: get("read_count", base.read_count)?,
        read_length: get("read_length", base.read_length)?,
        write_count: get("write_count", base.write_count)?,
        write_length: get("write_length", base.write_length)?,
    })
}

fn diagnostics<'py>(py: Python<'py>, ds: &[Diagnostic]) -> PyResult<Bound<'py, PyList>> {
    let items: Vec<(u32, u32, String)> = ds
        .iter()
        .map(|d| (d.span.line, d.span.col, d.message.clone()))
        .collect();
    PyList::new(py, items)
}

/// A value's literal text, written into a buffer sized for the usual short values (one
/// allocation instead of one per piece).
fn text(v: &Value) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(64);
    let _ = write!(s, "{v}");
    s
}

/// An event field name as a Python string, interned for the names events use.
fn field_key<'py>(py: Python<'py>, k: &str) -> Bound<'py, PyString> {
    match k {
        "sender" => intern!(py, "sender").clone(),
        "recipient" => intern!(py, "recipient").clone(),
        "amount" => intern!(py, "amount").clone(),
        "asset_identifier" => intern!(py, "asset_identifier").clone(),
        "value" => intern!(py, "value").clone(),
        "memo" => intern!(py, "memo").clone(),
        other => PyString::new(py, other),
    }
}

fn outcome_dict<'py>(py: Python<'py>, o: &Outcome) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "result"), o.result.as_ref().map(text))?;
    d.set_item(intern!(py, "error"), o.error.clone())?;
    d.set_item(intern!(py, "committed"), o.committed)?;
    d.set_item(intern!(py, "cost"), cost_dict(py, &o.cost)?)?;
    let events = PyList::empty(py);
    for e in &o.events {
        let ed = PyDict::new(py);
        ed.set_item(intern!(py, "type"), e.kind)?;
        ed.set_item(intern!(py, "contract"), &*e.contract)?;
        if let Some(a) = e.asset_identifier() {
            ed.set_item(intern!(py, "asset_identifier"), text(&a))?;
        }
        for (k, v) in &e.fields {
            ed.set_item(field_key(py, k), text(v))?;
        }
        events.append(ed)?;
    }
    d.set_item(intern!(py, "events"), events)?;
    let writes = PyList::empty(py);
    for (k, v) in &o.writes {
        writes.append((PyBytes::new(py, k), v.as_ref().map(|v| PyBytes::new(py, v))))?;
    }
    d.set_item(intern!(py, "writes"), writes)?;
    Ok(d)
}

fn interface<'py>(py: Python<'py>, c: &Contract) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("contract", c.id.to_string())?;
    let fns = PyList::empty(py);
    for f in c.fns.values() {
        let fd = PyDict::new(py);
        fd.set_item("name", f.name.as_ref())?;
        fd.set_item("access", f.access.as_str())?;
        let args = PyList::empty(py);
        for (n, t) in &f.args {
            let a = PyDict::new(py);
            a.set_item("name", n.as_ref())?;
            a.set_item("type", t.to_string())?;
            args.append(a)?;
        }
        fd.set_item("args", args)?;
        fd.set_item("outputs", f.ret.to_string())?;
        fns.append(fd)?;
    }
    d.set_item("functions", fns)?;
    let vars: Vec<(String, String)> = c
        .vars
        .iter()
        .map(|(k, t)| (k.to_string(), t.to_string()))
        .collect();
    d.set_item("variables", vars)?;
    let maps: Vec<(String, String, String)> = c
        .maps
        .iter()
        .map(|(k, (a, b))| (k.to_string(), a.to_string(), b.to_string()))
        .collect();
    d.set_item("maps", maps)?;
    let consts: Vec<(String, String)> = c
        .const_types
        .iter()
        .map(|(k, t)| (k.to_string(), t.to_string()))
        .collect();
    d.set_item("constants", consts)?;
    let fts: Vec<String> = c.fts.keys().map(|k| k.to_string()).collect();
    d.set_item("fungible_tokens", fts)?;
    let nfts: Vec<(String, String)> = c
        .nfts
        .iter()
        .map(|(k, t)| (k.to_string(), t.to_string()))
        .collect();
    d.set_item("non_fungible_tokens", nfts)?;
    let traits: Vec<String> = c.traits.keys().map(|k| k.to_string()).collect();
    d.set_item("traits", traits)?;
    let impls: Vec<String> = c.impl_traits.iter().map(|t| t.to_string()).collect();
    d.set_item("implements", impls)?;
    Ok(d)
}

/// Runs `f` with a Python host, re-raising a Python exception the host raised.
fn with_host<'py, T>(
    host: &Bound<'py, PyAny>,
    f: impl FnOnce(&mut PyHost<'py>) -> T,
) -> PyResult<T> {
    let mut h = PyHost {
        obj: host.clone(),
        err: None,
    };
    let r = f(&mut h);
    match h.err {
        Some(e) => Err(e),
        None => Ok(r),
    }
}

/// The Clarity VM: analysed-contract cache, cost budgets, network flag.
#[pyclass(name = "ClarityVm", module = "funai._core")]
pub struct PyVm {
    vm: Vm,
}

#[pymethods]
impl PyVm {
    #[new]
    #[pyo3(signature = (mainnet = false))]
    fn new(mainnet: bool) -> Self {
        PyVm {
            vm: Vm::new(mainnet),
        }
    }

    /// Whether the VM runs as mainnet (`is-in-mainnet`, principal versions).
    #[getter]
    fn mainnet(&self) -> bool {
        self.vm.mainnet
    }

    /// Per-call cost limit (dict of runtime, read_count, read_length, write_count, write_length).
    #[getter]
    fn call_limit<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        cost_dict(py, &self.vm.call_limit)
    }

    #[setter]
    fn set_call_limit(&mut self, limit: &Bound<'_, PyDict>) -> PyResult<()> {
        self.vm.call_limit = cost_from(limit, self.vm.call_limit)?;
        Ok(())
    }

    /// Per-block cost limit.
    #[getter]
    fn block_limit<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        cost_dict(py, &self.vm.block_limit)
    }

    #[setter]
    fn set_block_limit(&mut self, limit: &Bound<'_, PyDict>) -> PyResult<()> {
        self.vm.block_limit = cost_from(limit, self.vm.block_limit)?;
        Ok(())
    }

    /// Cost used so far in the current block.
    #[getter]
    fn block_used<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        cost_dict(py, &self.vm.block_used)
    }

    /// Whether each use of a cached contract is checked against its stored record (so the
    /// cache survives rollbacks of the store; see `Vm::validate_cache`).
    #[getter]
    fn validate_cache(&self) -> bool {
        self.vm.validate_cache()
    }

    #[setter]
    fn set_validate_cache(&mut self, on: bool) {
        self.vm.set_validate_cache(on);
    }

    /// Contracts parsed and analysed from the store so far.
    #[getter]
    fn contract_loads(&self) -> u64 {
        self.vm.contract_loads()
    }

    /// Starts a new block (resets the block budget).
    fn new_block(&mut self) {
        self.vm.new_block();
    }

    /// Forgets cached contracts (after the store was rolled back).
    fn clear_cache(&mut self) {
        self.vm.clear_cache();
    }

    /// Parses and type-checks `source`, Clarity `clarity_version` (1 or 2) code, as contract
    /// `contract_id`; returns `{"errors": [(line, col, message)], "interface": dict | None}`.
    #[pyo3(signature = (host, contract_id, source, clarity_version = 2))]
    fn check<'py>(
        &mut self,
        py: Python<'py>,
        host: &Bound<'py, PyAny>,
        contract_id: &str,
        source: &str,
        clarity_version: u8,
    ) -> PyResult<Bound<'py, PyDict>> {
        let id = principal(contract_id).py_err(py)?;
        if !matches!(id, Principal::Contract(..)) {
            return Err(PyValueError::new_err(
                "contract_id must be a contract principal",
            ));
        }
        let r = with_host(host, |h| self.vm.check(h, &id, source, clarity_version))?;
        let d = PyDict::new(py);
        match r {
            Ok(c) => {
                d.set_item("errors", PyList::empty(py))?;
                d.set_item("interface", interface(py, &c)?)?;
            }
            Err(ds) => {
                d.set_item("errors", diagnostics(py, &ds)?)?;
                d.set_item("interface", py.None())?;
            }
        }
        Ok(d)
    }

    /// Deploys `source`, Clarity `clarity_version` (1 or 2) code, as `sender.name`:
    /// `{"errors", "interface", "outcome"}`.
    #[pyo3(signature = (host, name, source, sender, clarity_version = 2))]
    fn deploy<'py>(
        &mut self,
        py: Python<'py>,
        host: &Bound<'py, PyAny>,
        name: &str,
        source: &str,
        sender: &str,
        clarity_version: u8,
    ) -> PyResult<Bound<'py, PyDict>> {
        let sender = principal(sender).py_err(py)?;
        let r = with_host(host, |h| {
            self.vm.deploy(h, name, source, &sender, clarity_version)
        })?;
        let d = PyDict::new(py);
        match r {
            Ok((c, out)) => {
                d.set_item("errors", PyList::empty(py))?;
                d.set_item("interface", interface(py, &c)?)?;
                d.set_item("outcome", outcome_dict(py, &out)?)?;
            }
            Err(ds) => {
                d.set_item("errors", diagnostics(py, &ds)?)?;
                d.set_item("interface", py.None())?;
                d.set_item("outcome", py.None())?;
            }
        }
        Ok(d)
    }

    /// Interface of a deployed contract, or None.
    fn interface<'py>(
        &mut self,
        py: Python<'py>,
        host: &Bound<'py, PyAny>,
        contract_id: &str,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let id = principal(contract_id).py_err(py)?;
        let c = with_host(host, |h| self.vm.contract(h, &id))?;
        c.map(|c| interface(py, &c)).transpose()
    }

    /// Calls `function` of `contract_id` with Clarity literal `args` as `sender`:
    /// `{"errors", "outcome"}`.
    #[pyo3(signature = (host, contract_id, function, args, sender, read_only = false))]
    #[allow(clippy::too_many_arguments)]
    fn call<'py>(
        &mut self,
        py: Python<'py>,
        host: &Bound<'py, PyAny>,
        contract_id: &str,
        function: &str,
        args: Vec<String>,
        sender: &str,
        read_only: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let id = principal(contract_id).py_err(py)?;
        let sender = principal(sender).py_err(py)?;
        let r = with_host(host, |h| {
            self.vm.call(h, &id, function, &args, &sender, read_only)
        })?;
        result_dict(py, &r)
    }

    /// Runs a batch of calls, each `(contract_id, function, args, sender)`, in order as
    /// separate transactions, each seeing the committed writes of those before it (see
    /// `Vm::call_batch`). Nothing is written to the host: the returned batch holds every
    /// call's outcome and the batch's writes to apply.
    fn call_batch<'py>(
        &mut self,
        host: &Bound<'py, PyAny>,
        calls: &Bound<'py, PyList>,
        literal: &Bound<'py, PyAny>,
    ) -> PyResult<PyBatch> {
        const SHAPE: &str = "each call is a tuple or list (contract_id, function, args, \
                             sender): two str, a sequence of arguments, a str";
        /// The UTF-8 text of `s`, for as long as `s` lives.
        fn text_of<'t>(s: &Bound<'_, PyString>) -> PyResult<&'t str> {
            let t = s.to_str()?;
            // SAFETY: every str read here is an item of a tuple in `held` (or of an argument
            // tuple that is an item of one) or a str in `made` below, all kept until the
            // batch has run and `texts` is dropped; a tuple's items cannot be replaced and a
            // str's text cannot change, so the UTF-8 buffer `t` points into lives as long as
            // the text is used.
            Ok(unsafe { &*std::ptr::from_ref::<str>(t) })
        }
        // The calls' tuples (a list read as a tuple) and argument sequences are held here
        // and their str items read in place, without taking a reference to each; an
        // argument that is not a str is turned into one by `literal` (a Python callable)
        // and kept in `made`. Nothing runs before every call is read. Per call, `texts`
        // holds its contract id, function, sender, then its arguments.
        let mut held: Vec<Bound<'py, PyTuple>> = Vec::with_capacity(calls.len());
        let mut made: Vec<Bound<'py, PyString>> = Vec::new();
        let mut texts: Vec<&str> = Vec::with_capacity(calls.len() * 8);
        // The object each text was read from: a str that is the very object at the same
        // place in the call before (a block built from the same variables) is not read again.
        let mut objs: Vec<*mut pyo3::ffi::PyObject> = Vec::with_capacity(calls.len() * 8);
        let mut shape: Vec<(usize, usize)> = Vec::with_capacity(calls.len());
        let mut prev: Option<(usize, usize)> = None;
        // Reads `s`, the `i`th text of its call.
        fn read(
            s: &Bound<'_, PyString>,
            i: usize,
            prev: Option<(usize, usize)>,
            objs: &mut Vec<*mut pyo3::ffi::PyObject>,
            texts: &mut Vec<&str>,
        ) -> PyResult<()> {
            let p = s.as_ptr();
            let same = prev
                .filter(|&(ps, pn)| i < 3 + pn && objs[ps + i] == p)
                .map(|(ps, _)| texts[ps + i]);
            texts.push(match same {
                Some(t) => t,
                None => text_of(s)?,
            });
            objs.push(p);
            Ok(())
        }
        for item in calls.iter() {
            let fields = match item.cast_into::<PyTuple>() {
                Ok(t) => t,
                Err(e) => match e.into_inner().cast_into::<PyList>() {
                    Ok(l) => l.to_tuple(),
                    Err(_) => return Err(PyTypeError::new_err(SHAPE)),
                },
            };
            if fields.len() != 4 {
                return Err(PyTypeError::new_err(SHAPE));
            }
            let start = texts.len();
            for (i, at) in [0, 1, 3].into_iter().enumerate() {
                let f = fields.get_borrowed_item(at)?;
                let s = f
                    .cast::<PyString>()
                    .map_err(|_| PyTypeError::new_err(SHAPE))?;
                read(&s, i, prev, &mut objs, &mut texts)?;
            }
            // An argument tuple is read where it is (the call's tuple, held, holds it); any
            // other sequence is read into a new tuple, held too.
            let item = fields.get_borrowed_item(2)?;
            let made_args: Option<Bound<'py, PyTuple>> = match item.cast::<PyTuple>() {
                Ok(_) => None,
                Err(_) => Some(match item.cast::<PyList>() {
                    Ok(l) => l.to_tuple(),
                    Err(_) => PyTuple::new(
                        calls.py(),
                        item.try_iter()
                            .map_err(|_| PyTypeError::new_err(SHAPE))?
                            .collect::<PyResult<Vec<_>>>()?,
                    )?,
                }),
            };
            let args = match &made_args {
                Some(t) => t.as_borrowed(),
                None => item
                    .cast::<PyTuple>()
                    .map_err(|_| PyTypeError::new_err(SHAPE))?,
            };
            for (i, a) in args.iter_borrowed().enumerate() {
                match a.cast::<PyString>() {
                    Ok(s) => read(&s, 3 + i, prev, &mut objs, &mut texts)?,
                    Err(_) => {
                        let s = literal
                            .call1((a,))?
                            .cast_into::<PyString>()
                            .map_err(|_| PyTypeError::new_err("literal() must return a str"))?;
                        read(&s, 3 + i, prev, &mut objs, &mut texts)?;
                        made.push(s);
                    }
                }
            }
            shape.push((start, texts.len() - start - 3));
            prev = shape.last().copied();
            held.push(fields);
            held.extend(made_args);
        }
        // Principals repeated from the call before (the same text) are not decoded again;
        // one that does not decode refuses its call only.
        type Parsed = Result<Principal, String>;
        let parse = |t: &str| -> Parsed {
            Principal::parse(t.trim_start_matches('\'')).map_err(|e| e.to_string())
        };
        let same = |a: &str, b: &str| std::ptr::eq(a, b) || a == b;
        let mut parsed: Vec<Parsed> = Vec::new();
        // Per call, where its contract and sender are in `parsed`.
        let mut at: Vec<(usize, usize)> = Vec::with_capacity(shape.len());
        let mut last: Option<(&str, &str, usize, usize)> = None;
        for &(start, _) in &shape {
            let (c, snd) = (texts[start], texts[start + 2]);
            let (ci, si) = match last {
                Some((lc, ls, ci, si)) if same(lc, c) && same(ls, snd) => (ci, si),
                _ => {
                    parsed.push(parse(c));
                    parsed.push(parse(snd));
                    (parsed.len() - 2, parsed.len() - 1)
                }
            };
            last = Some((c, snd, ci, si));
            at.push((ci, si));
        }
        let batch: Vec<BatchCall<'_>> = shape
            .iter()
            .zip(&at)
            .map(|(&(start, nargs), &(ci, si))| BatchCall {
                contract: &parsed[ci],
                function: texts[start + 1],
                args: &texts[start + 3..start + 3 + nargs],
                sender: &parsed[si],
                read_only: false,
            })
            .collect();
        let (outcomes, writes) = with_host(host, |h| self.vm.call_batch(h, &batch))?;
        Ok(PyBatch { outcomes, writes })
    }

    /// Evaluates one expression as a transaction by `sender`: `{"errors", "outcome"}`.
    #[pyo3(signature = (host, source, sender, read_only = false))]
    fn eval<'py>(
        &mut self,
        py: Python<'py>,
        host: &Bound<'py, PyAny>,
        source: &str,
        sender: &str,
        read_only: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let sender = principal(sender).py_err(py)?;
        let r = with_host(host, |h| self.vm.eval(h, source, &sender, read_only))?;
        result_dict(py, &r)
    }
}

/// The outcomes of a batch of calls (`ClarityVm.call_batch`), converted to Python only
/// when asked for.
#[pyclass(name = "ClarityBatch", module = "funai._core", frozen)]
pub struct PyBatch {
    outcomes: Vec<Result<Outcome, Vec<Diagnostic>>>,
    writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

#[pymethods]
impl PyBatch {
    fn __len__(&self) -> usize {
        self.outcomes.len()
    }

    /// How many calls committed.
    #[getter]
    fn committed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o, Ok(o) if o.committed))
            .count()
    }

    /// Call `index`'s `{"errors", "outcome"}`, as `ClarityVm.call` returns it.
    fn outcome<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyDict>> {
        match self.outcomes.get(index) {
            // (a batch's outcomes keep their writes in the order written)
            Some(Ok(o)) => result_dict(py, &Ok(o.with_writes_by_key())),
            Some(r) => result_dict(py, r),
            None => Err(pyo3::exceptions::PyIndexError::new_err(
                "call index out of range",
            )),
        }
    }

    /// The batch's writes: the last value of each key written by a committed call (None
    /// deletes), in key order.
    fn writes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for (k, v) in &self.writes {
            out.append((PyBytes::new(py, k), v.as_ref().map(|v| PyBytes::new(py, v))))?;
        }
        Ok(out)
    }
}

fn result_dict<'py>(
    py: Python<'py>,
    r: &Result<Outcome, Vec<Diagnostic>>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    match r {
        Ok(o) => {
            d.set_item(intern!(py, "errors"), PyList::empty(py))?;
            d.set_item(intern!(py, "outcome"), outcome_dict(py, o)?)?;
        }
        Err(ds) => {
            d.set_item(intern!(py, "errors"), diagnostics(py, ds)?)?;
            d.set_item(intern!(py, "outcome"), py.None())?;
        }
    }
    Ok(d)
}

/// Splits a principal into (version, hash160, contract name or None).
#[pyfunction]
fn clarity_principal_decode<'py>(
    py: Python<'py>,
    text: &str,
) -> PyResult<(u8, Bound<'py, PyBytes>, Option<String>)> {
    let p = principal(text).py_err(py)?;
    let name = match &p {
        Principal::Contract(_, n) => Some(n.to_string()),
        Principal::Standard(_) => None,
    };
    let is = p.issuer();
    Ok((is.version, PyBytes::new(py, &is.hash), name))
}

/// The c32check text of (version, hash160[, contract name]).
#[pyfunction]
#[pyo3(signature = (version, hash160, name = None))]
fn clarity_principal_encode(
    py: Python<'_>,
    version: u8,
    hash160: &[u8],
    name: Option<&str>,
) -> PyResult<String> {
    if version >= 32 {
        return Err(Error::malformed("principal version must be below 32")).py_err(py);
    }
    let hash = crate::error::fixed::<20>("hash160", hash160).py_err(py)?;
    let sp = StandardPrincipal { version, hash };
    match name {
        None => Ok(sp.to_address()),
        Some(n) => {
            if !crate::clarity::types::valid_contract_name(n) {
                return Err(Error::malformed(format!("invalid contract name {n:?}"))).py_err(py);
            }
            Ok(format!("{}.{n}", sp.to_address()))
        }
    }
}

/// State key of a principal's FAI balance (what `stx-get-balance` reads).
#[pyfunction]
fn clarity_balance_key<'py>(
    py: Python<'py>,
    principal_text: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let p = principal(principal_text).py_err(py)?;
    Ok(PyBytes::new(py, &stx_key(&p)))
}

/// Consensus serialization of a uint (how balances are stored).
#[pyfunction]
fn clarity_encode_uint<'py>(py: Python<'py>, value: u128) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &Value::UInt(value).serialize())
}

/// Decodes a stored uint (None for anything else).
#[pyfunction]
fn clarity_decode_uint(data: &[u8]) -> Option<u128> {
    match Value::deserialize(data) {
        Ok(Value::UInt(u)) => Some(u),
        _ => None,
    }
}

/// Clarity literal text of a consensus-serialized value.
#[pyfunction]
fn clarity_decode_value(py: Python<'_>, data: &[u8]) -> PyResult<String> {
    Value::deserialize(data)
        .map(|v| v.to_string())
        .map_err(Error::malformed)
        .py_err(py)
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyVm>()?;
    m.add_class::<PyBatch>()?;
    m.add_function(wrap_pyfunction!(clarity_principal_decode, m)?)?;
    m.add_function(wrap_pyfunction!(clarity_principal_encode, m)?)?;
    m.add_function(wrap_pyfunction!(clarity_balance_key, m)?)?;
    m.add_function(wrap_pyfunction!(clarity_encode_uint, m)?)?;
    m.add_function(wrap_pyfunction!(clarity_decode_uint, m)?)?;
    m.add_function(wrap_pyfunction!(clarity_decode_value, m)?)?;
    // The builtins and keywords Clarity 2 added (ordinary names in Clarity 1 code).
    m.add("CLARITY2_ONLY", crate::clarity::ops::CLARITY2_ONLY.to_vec())?;
    Ok(())
}
