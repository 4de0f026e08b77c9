//! Bindings for [`crate::vrf`], [`crate::schnorr`] and [`crate::ed25519`].
//!
//! Bytes in, bytes out; key generation returns `(secret, public)` tuples. The curve work
//! runs with the GIL released; errors become `funai.errors` exceptions.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::IntoPyResult;
use crate::{ed25519, schnorr, vrf};

/// `(secret, public)` as a tuple of two `bytes`.
type KeyPair<'py> = (Bound<'py, PyBytes>, Bound<'py, PyBytes>);

fn key_pair<'py>(py: Python<'py>, (sk, pk): ([u8; 32], [u8; 32])) -> KeyPair<'py> {
    (PyBytes::new(py, &sk), PyBytes::new(py, &pk))
}

// --- ECVRF -------------------------------------------------------------------------------

/// A fresh ECVRF key pair `(secret seed, public key)`, 32 bytes each.
#[pyfunction]
fn vrf_keygen(py: Python<'_>) -> KeyPair<'_> {
    key_pair(py, py.detach(vrf::keygen))
}

/// The ECVRF public key of a 32-byte secret seed.
#[pyfunction]
fn vrf_public_key<'py>(py: Python<'py>, sk: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let pk = py.detach(|| vrf::public_key(sk)).py_err(py)?;
    Ok(PyBytes::new(py, &pk))
}

/// The 80-byte ECVRF proof of `alpha` under the secret seed `sk`.
#[pyfunction]
fn vrf_prove<'py>(py: Python<'py>, sk: &[u8], alpha: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let proof = py.detach(|| vrf::prove(sk, alpha)).py_err(py)?;
    Ok(PyBytes::new(py, &proof))
}

/// Verifies an ECVRF proof and returns the 64-byte output beta.
#[pyfunction]
fn vrf_verify<'py>(
    py: Python<'py>,
    pk: &[u8],
    alpha: &[u8],
    proof: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let beta = py.detach(|| vrf::verify(pk, alpha, proof)).py_err(py)?;
    Ok(PyBytes::new(py, &beta))
}

/// The 64-byte output beta of a proof (without verifying it).
#[pyfunction]
fn vrf_proof_to_hash<'py>(py: Python<'py>, proof: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let beta = py.detach(|| vrf::proof_to_hash(proof)).py_err(py)?;
    Ok(PyBytes::new(py, &beta))
}

// --- BIP340 Schnorr ----------------------------------------------------------------------

/// A fresh BIP340 key pair `(secret key, x-only public key)`, 32 bytes each.
#[pyfunction]
fn schnorr_keygen(py: Python<'_>) -> KeyPair<'_> {
    key_pair(py, py.detach(schnorr::keygen))
}

/// The 32-byte x-only public key of a BIP340 secret key.
#[pyfunction]
fn schnorr_public_key<'py>(py: Python<'py>, sk: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let pk = py.detach(|| schnorr::public_key(sk)).py_err(py)?;
    Ok(PyBytes::new(py, &pk))
}

/// The 64-byte BIP340 signature of `msg` (any length); fresh aux_rand when None.
#[pyfunction]
#[pyo3(signature = (sk, msg, aux_rand=None))]
fn schnorr_sign<'py>(
    py: Python<'py>,
    sk: &[u8],
    msg: &[u8],
    aux_rand: Option<&[u8]>,
) -> PyResult<Bound<'py, PyBytes>> {
    let sig = py.detach(|| schnorr::sign(sk, msg, aux_rand)).py_err(py)?;
    Ok(PyBytes::new(py, &sig))
}

/// BIP340 verification: True or False; MalformedInputError for wrong lengths.
#[pyfunction]
fn schnorr_verify(py: Python<'_>, pk: &[u8], msg: &[u8], sig: &[u8]) -> PyResult<bool> {
    py.detach(|| schnorr::verify(pk, msg, sig)).py_err(py)
}

// --- Ed25519 -----------------------------------------------------------------------------

/// A fresh Ed25519 key pair `(secret seed, public key)`, 32 bytes each.
#[pyfunction]
fn ed25519_keygen(py: Python<'_>) -> KeyPair<'_> {
    key_pair(py, py.detach(ed25519::keygen))
}

/// The Ed25519 public key of a 32-byte secret seed.
#[pyfunction]
fn ed25519_public_key<'py>(py: Python<'py>, sk: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let pk = py.detach(|| ed25519::public_key(sk)).py_err(py)?;
    Ok(PyBytes::new(py, &pk))
}

/// The 64-byte Ed25519 signature of `msg`.
#[pyfunction]
fn ed25519_sign<'py>(py: Python<'py>, sk: &[u8], msg: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let sig = py.detach(|| ed25519::sign(sk, msg)).py_err(py)?;
    Ok(PyBytes::new(py, &sig))
}

/// Strict Ed25519 verification: True or False; MalformedInputError for wrong lengths.
#[pyfunction]
fn ed25519_verify(py: Python<'_>, pk: &[u8], msg: &[u8], sig: &[u8]) -> PyResult<bool> {
    py.detach(|| ed25519::verify(pk, msg, sig)).py_err(py)
}

pub(super) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(vrf_keygen, m)?)?;
    m.add_function(wrap_pyfunction!(vrf_public_key, m)?)?;
    m.add_function(wrap_pyfunction!(vrf_prove, m)?)?;
    m.add_function(wrap_pyfunction!(vrf_verify, m)?)?;
    m.add_function(wrap_pyfunction!(vrf_proof_to_hash, m)?)?;
    m.add_function(wrap_pyfunction!(schnorr_keygen, m)?)?;
    m.add_function(wrap_pyfunction!(schnorr_public_key, m)?)?;
    m.add_function(wrap_pyfunction!(schnorr_sign, m)?)?;
    m.add_function(wrap_pyfunction!(schnorr_verify, m)?)?;
    m.add_function(wrap_pyfunction!(ed25519_keygen, m)?)?;
    m.add_function(wrap_pyfunction!(ed25519_public_key, m)?)?;
    m.add_function(wrap_pyfunction!(ed25519_sign, m)?)?;
    m.add_function(wrap_pyfunction!(ed25519_verify, m)?)?;
    Ok(())
}
