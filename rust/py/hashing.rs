//! Bindings for [`crate::hashing`].

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::IntoPyResult;
use crate::error::fixed;
use crate::hashing;

/// SHA-256 of `data`.
#[pyfunction]
fn sha256<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &py.detach(|| hashing::sha256(data)))
}

/// SHA-256 applied twice (Bitcoin's block and transaction hash).
#[pyfunction]
fn sha256d<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &py.detach(|| hashing::sha256d(data)))
}

/// BLAKE3 (32 bytes) of `data`.
#[pyfunction]
#[pyo3(name = "blake3")]
fn blake3_hash<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &py.detach(|| hashing::blake3(data)))
}

/// Merkle root of 32-byte leaves (see the Rust docs of `hashing::merkle_root`).
#[pyfunction]
fn merkle_root<'py>(py: Python<'py>, leaves: Vec<Vec<u8>>) -> PyResult<Bound<'py, PyBytes>> {
    let leaves = leaves
        .iter()
        .enumerate()
        .map(|(i, leaf)| fixed::<32>(&format!("leaf {i}"), leaf))
        .collect::<crate::Result<Vec<[u8; 32]>>>()
        .py_err(py)?;
    Ok(PyBytes::new(
        py,
        &py.detach(|| hashing::merkle_root(&leaves)),
    ))
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sha256, m)?)?;
    m.add_function(wrap_pyfunction!(sha256d, m)?)?;
    m.add_function(wrap_pyfunction!(blake3_hash, m)?)?;
    m.add_function(wrap_pyfunction!(merkle_root, m)?)?;
    Ok(())
}
