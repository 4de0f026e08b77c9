//! Bindings for [`crate::pow`]: the proof-of-work nonce search.
//!
//! The search runs on Rust threads with the GIL released. The calling thread waits in
//! slices of [`POLL`]: between slices it re-attaches to run `check_signals()` (so Ctrl-C
//! raises `KeyboardInterrupt`) and to pass a set [`CancelToken`] on to the workers; either
//! way the workers stop at their next chunk boundary (about a millisecond) and are joined
//! before the call returns or raises.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::{to_pyerr, IntoPyResult};
use crate::error::{fixed, Error};
use crate::pow::{self, Backend, Outcome, Search, MAX_THREADS, NONCE_SPACE};

/// How long the calling thread waits between checks for signals and cancellation.
const POLL: Duration = Duration::from_millis(10);

/// A flag that stops a running `pow_search` from any thread: `token.cancel()`.
///
/// A search given a cancelled token raises `funai.errors.CancelledError` (within a few
/// milliseconds if it is running). A token stays cancelled; use a new one per search.
#[pyclass(frozen, module = "funai._core")]
struct CancelToken {
    flag: Arc<AtomicBool>,
}

#[pymethods]
impl CancelToken {
    #[new]
    fn new() -> Self {
        CancelToken {
            flag: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Asks every search using this token to stop.
    fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    /// Whether `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    fn __repr__(&self) -> String {
        format!(
            "CancelToken(cancelled={})",
            if self.cancelled() { "True" } else { "False" }
        )
    }
}

/// What `pow_search` found and did.
#[pyclass(frozen, module = "funai._core")]
struct PowResult {
    nonce: Option<u32>,
    hash: Option<[u8; 32]>,
    hashes: u64,
    elapsed: f64,
    backend: &'static str,
    threads: usize,
    timed_out: bool,
}

#[pymethods]
impl PowResult {
    /// The smallest valid nonce of the range, or `None`.
    #[getter]
    fn nonce(&self) -> Option<u32> {
        self.nonce
    }

    /// SHA-256d of the header with `nonce` in place (meets the target), or `None`.
    #[getter]
    fn hash<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.hash.map(|h| PyBytes::new(py, &h))
    }

    /// Nonces hashed.
    #[getter]
    fn hashes(&self) -> u64 {
        self.hashes
    }

    /// Wall-clock seconds the search took.
    #[getter]
    fn elapsed(&self) -> f64 {
        self.elapsed
    }

    /// The backend that ran: `"sha-ni"`, `"avx512"`, `"avx2"` or `"scalar"`.
    #[getter]
    fn backend(&self) -> &'static str {
        self.backend
    }

    /// Worker threads used.
    #[getter]
    fn threads(&self) -> usize {
        self.threads
    }

    /// Whether `seconds` ran out before the range was covered (and nothing was found).
    #[getter]
    fn timed_out(&self) -> bool {
        self.timed_out
    }

    fn __repr__(&self) -> String {
        let nonce = self.nonce.map_or("None".to_owned(), |n| n.to_string());
        format!(
            "PowResult(nonce={nonce}, hashes={}, elapsed={:.3}, backend={:?}, threads={}, timed_out={})",
            self.hashes,
            self.elapsed,
            self.backend,
            self.threads,
            if self.timed_out { "True" } else { "False" },
        )
    }
}

/// Checks and converts the arguments of `pow_search`.
#[allow(clippy::too_many_arguments)]
fn build_search(
    header: &[u8],
    target: &[u8],
    start_nonce: i128,
    count: Option<i128>,
    threads: i128,
    backend: &str,
    seconds: Option<f64>,
) -> crate::Result<([u8; 80], [u8; 32], Search)> {
    let header = fixed::<80>("header", header)?;
    let target = fixed::<32>("target", target)?;
    let start = u32::try_from(start_nonce).map_err(|_| {
        Error::malformed(format!(
            "start_nonce must be in 0..=4294967295, got {start_nonce}"
        ))
    })?;
    let room = NONCE_SPACE - u64::from(start);
    let count = match count {
        None => None,
        Some(c) => Some(
            u64::try_from(c)
                .ok()
                .filter(|&c| c <= room)
                .ok_or_else(|| {
                    Error::malformed(format!(
                        "count must be in 0..={room} for start_nonce {start}, got {c}"
                    ))
                })?,
        ),
    };
    let threads = usize::try_from(threads)
        .ok()
        .filter(|&t| t <= MAX_THREADS)
        .ok_or_else(|| {
            Error::malformed(format!(
                "threads must be in 0..={MAX_THREADS} (0 = all cores), got {threads}"
            ))
        })?;
    let backend = if backend == "auto" {
        Backend::best()
    } else {
        backend.parse::<Backend>()?
    };
    if !backend.is_available() {
        return Err(Error::malformed(format!(
            "proof-of-work backend {backend} is not available on this CPU (available: {})",
            available_names().join(", ")
        )));
    }
    let deadline = match seconds {
        None => None,
        Some(s) if s.is_finite() && s >= 0.0 => Duration::try_from_secs_f64(s)
            .ok()
            .and_then(|d| Instant::now().checked_add(d)),
        Some(s) => {
            return Err(Error::malformed(format!(
                "seconds must be a finite number >= 0, got {s}"
            )))
        }
    };
    Ok((
        header,
        target,
        Search {
            start_nonce: start,
            count,
            threads,
            backend,
            deadline,
        },
    ))
}

/// The outcome of the search thread, handed to the waiting Python thread.
type Finished = std::thread::Result<crate::Result<Outcome>>;

/// A one-shot slot the search thread fills and the Python thread waits on.
struct Slot {
    value: Mutex<Option<Finished>>,
    ready: Condvar,
}

impl Slot {
    fn put(&self, value: Finished) {
        *self.value.lock().unwrap_or_else(|p| p.into_inner()) = Some(value);
        self.ready.notify_all();
    }

    /// The value, if it arrives within `timeout` (`None`: wait as long as it takes).
    fn take(&self, timeout: Option<Duration>) -> Option<Finished> {
        let guard = self.value.lock().unwrap_or_else(|p| p.into_inner());
        let mut guard = match timeout {
            Some(t) => {
                self.ready
                    .wait_timeout_while(guard, t, |v| v.is_none())
                    .unwrap_or_else(|p| p.into_inner())
                    .0
            }
            None => self
                .ready
                .wait_while(guard, |v| v.is_none())
                .unwrap_or_else(|p| p.into_inner()),
        };
        guard.take()
    }
}

/// Runs `search` on Rust threads while this thread watches for signals and the token.
fn run_search(
    py: Python<'_>,
    header: &[u8; 80],
    target: &[u8; 32],
    search: &Search,
    token: Option<&AtomicBool>,
) -> PyResult<Outcome> {
    let token_set = || token.is_some_and(|t| t.load(Ordering::Relaxed));
    let stop = AtomicBool::new(token_set());
    let slot = Slot {
        value: Mutex::new(None),
        ready: Condvar::new(),
    };
    std::thread::scope(|scope| {
        let (stop, slot) = (&stop, &slot);
        scope.spawn(move || {
            slot.put(catch_unwind(AssertUnwindSafe(|| {
                search.run(header, target, stop)
            })));
        });
        loop {
            match py.detach(|| slot.take(Some(POLL))) {
                Some(Ok(result)) => return result.py_err(py),
                Some(Err(_panic)) => {
                    return Err(PyRuntimeError::new_err(
                        "internal error: the proof-of-work search panicked",
                    ))
                }
                None => {}
            }
            if token_set() {
                stop.store(true, Ordering::Relaxed);
            }
            if let Err(interrupt) = py.check_signals() {
                stop.store(true, Ordering::Relaxed);
                // The workers stop within a chunk; wait for them without the GIL.
                let _ = py.detach(|| slot.take(None));
                return Err(interrupt);
            }
        }
    })
}

/// Searches nonces `start_nonce .. start_nonce + count` of an 80-byte header for the
/// smallest whose SHA-256d, as a little-endian integer, is `<= target` (32 bytes,
/// little-endian). `count=None` means up to nonce `0xFFFFFFFF`; `threads=0` means all
/// cores; `backend` is `"auto"` or one of `pow_backends()`; `seconds` stops the search after
/// that long (`timed_out` is then set). Raises `CancelledError` when `cancel` is cancelled
/// first, `KeyboardInterrupt` on Ctrl-C, `MalformedInputError` on bad arguments.
#[pyfunction]
#[pyo3(signature = (
    header, target, start_nonce=0, count=None, threads=0, backend="auto", cancel=None,
    seconds=None
))]
#[allow(clippy::too_many_arguments)]
fn pow_search(
    py: Python<'_>,
    header: &[u8],
    target: &[u8],
    start_nonce: i128,
    count: Option<i128>,
    threads: i128,
    backend: &str,
    cancel: Option<&Bound<'_, CancelToken>>,
    seconds: Option<f64>,
) -> PyResult<PowResult> {
    let (header, target, search) = build_search(
        header,
        target,
        start_nonce,
        count,
        threads,
        backend,
        seconds,
    )
    .py_err(py)?;
    let token = cancel.map(|c| Arc::clone(&c.get().flag));
    let began = Instant::now();
    let outcome = run_search(py, &header, &target, &search, token.as_deref())?;
    let elapsed = began.elapsed().as_secs_f64();
    if outcome.found.is_none() && outcome.cancelled {
        return Err(to_pyerr(
            py,
            Error::Cancelled(format!(
                "proof-of-work search cancelled after {} hashes",
                outcome.hashes
            )),
        ));
    }
    Ok(PowResult {
        nonce: outcome.found.map(|s| s.nonce),
        hash: outcome.found.map(|s| s.hash),
        hashes: outcome.hashes,
        elapsed,
        backend: search.backend.name(),
        threads: outcome.threads,
        timed_out: outcome.timed_out,
    })
}

fn available_names() -> Vec<&'static str> {
    Backend::available()
        .into_iter()
        .map(Backend::name)
        .collect()
}

/// The proof-of-work backends this CPU can run, fastest first.
#[pyfunction]
fn pow_backends() -> Vec<&'static str> {
    available_names()
}

/// The backend `pow_search(backend="auto")` uses.
#[pyfunction]
fn pow_best_backend() -> &'static str {
    Backend::best().name()
}

/// The CPU features the search detected and may use (e.g. `"sha"`, `"avx2"`).
#[pyfunction]
fn pow_cpu_features() -> Vec<&'static str> {
    pow::cpu_features()
}

/// Whether a 32-byte hash meets a 32-byte target, both little-endian integers.
#[pyfunction]
fn hash_meets_target(py: Python<'_>, hash: &[u8], target: &[u8]) -> PyResult<bool> {
    let hash = fixed::<32>("hash", hash).py_err(py)?;
    let target = fixed::<32>("target", target).py_err(py)?;
    Ok(pow::hash_meets_target(&hash, &target))
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<CancelToken>()?;
    m.add_class::<PowResult>()?;
    m.add_function(wrap_pyfunction!(pow_search, m)?)?;
    m.add_function(wrap_pyfunction!(pow_backends, m)?)?;
    m.add_function(wrap_pyfunction!(pow_best_backend, m)?)?;
    m.add_function(wrap_pyfunction!(pow_cpu_features, m)?)?;
    m.add_function(wrap_pyfunction!(hash_meets_target, m)?)?;
    Ok(())
}
