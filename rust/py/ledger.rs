//! Bindings for [`crate::ledger`]: batch header-chain validation, compact targets, HASH160.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::IntoPyResult;
use crate::error::{fixed, Error};
use crate::ledger::{self, HeaderRules, Uint, HEADER_SIZE};

/// HASH160 = RIPEMD-160(SHA-256(data)).
#[pyfunction]
fn hash160<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &ledger::hash160(data))
}

/// Decodes compact `bits` as Bitcoin's `SetCompact`: (target as 32 LE bytes, negative, overflow).
#[pyfunction]
fn compact_decode(py: Python<'_>, bits: u32) -> (Bound<'_, PyBytes>, bool, bool) {
    let c = ledger::decode_compact(bits);
    (
        PyBytes::new(py, &c.target.to_le_bytes()),
        c.negative,
        c.overflow,
    )
}

/// Encodes a target (32 LE bytes) as Bitcoin's `GetCompact`.
#[pyfunction]
fn compact_encode(py: Python<'_>, target: &[u8]) -> PyResult<u32> {
    let t = fixed::<32>("target", target).py_err(py)?;
    Ok(ledger::encode_compact(&Uint::from_le_bytes(&t)))
}

/// Bitcoin's retarget: new bits from the last bits, the period's first and last block times.
#[pyfunction]
fn retarget_bits(
    py: Python<'_>,
    last_bits: u32,
    first_time: i64,
    last_time: i64,
    target_timespan: i64,
    pow_limit: &[u8],
) -> PyResult<u32> {
    if target_timespan < 4 {
        return Err(Error::malformed("target_timespan must be at least 4")).py_err(py);
    }
    let limit = Uint::from_le_bytes(&fixed::<32>("pow_limit", pow_limit).py_err(py)?);
    Ok(ledger::retarget(
        last_bits,
        first_time,
        last_time,
        target_timespan,
        &limit,
    ))
}

/// Validates headers `first..last` of `headers` (raw consecutive 80-byte headers, the first at
/// `start_height`); returns `None` when they are valid, else `(height, rule, detail)` of the
/// first failure.
#[pyfunction]
#[pyo3(signature = (
    headers, start_height, *, pow_limit, retarget_interval, target_timespan, retarget,
    min_versions, max_future_seconds, mtp_span, timewarp_grace=None, now=None, prev_hash=None,
    first=0, last=None
))]
#[allow(clippy::too_many_arguments)]
fn verify_headers(
    py: Python<'_>,
    headers: &[u8],
    start_height: u64,
    pow_limit: &[u8],
    retarget_interval: u64,
    target_timespan: i64,
    retarget: bool,
    min_versions: Vec<(u64, i32)>,
    max_future_seconds: i64,
    mtp_span: usize,
    timewarp_grace: Option<i64>,
    now: Option<i64>,
    prev_hash: Option<&[u8]>,
    first: usize,
    last: Option<usize>,
) -> PyResult<Option<(u64, String, String)>> {
    if !headers.len().is_multiple_of(HEADER_SIZE) {
        return Err(Error::malformed(format!(
            "header data is {} bytes, not a multiple of {HEADER_SIZE}",
            headers.len()
        )))
        .py_err(py);
    }
    let count = headers.len() / HEADER_SIZE;
    let last = last.unwrap_or(count);
    if first > last || last > count {
        return Err(Error::malformed(format!(
            "range {first}..{last} outside 0..{count}"
        )))
        .py_err(py);
    }
    if retarget_interval == 0 || target_timespan < 4 || mtp_span == 0 {
        return Err(Error::malformed("invalid header rules")).py_err(py);
    }
    let rules = HeaderRules {
        pow_limit: Uint::from_le_bytes(&fixed::<32>("pow_limit", pow_limit).py_err(py)?),
        retarget_interval,
        target_timespan,
        retarget,
        min_versions,
        max_future_seconds,
        mtp_span,
        timewarp_grace,
    };
    let prev = prev_hash
        .map(|p| fixed::<32>("prev_hash", p))
        .transpose()
        .py_err(py)?;
    let result = py.detach(|| {
        ledger::verify_headers(
            headers,
            start_height,
            &rules,
            prev.as_ref(),
            now,
            first,
            last,
        )
    });
    Ok(result
        .err()
        .map(|f| (f.height, f.rule.to_string(), f.detail)))
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(hash160, m)?)?;
    m.add_function(wrap_pyfunction!(compact_decode, m)?)?;
    m.add_function(wrap_pyfunction!(compact_encode, m)?)?;
    m.add_function(wrap_pyfunction!(retarget_bits, m)?)?;
    m.add_function(wrap_pyfunction!(verify_headers, m)?)?;
    Ok(())
}
