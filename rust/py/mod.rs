//! `funai._core`: the Python face of the Rust core.
//!
//! Errors cross the boundary as the typed exceptions of `funai.errors` (one `FunaiError`
//! hierarchy), never as panics: every entry point returns `PyResult`, and bad input is
//! reported as `MalformedInputError`.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::Error;

mod clarity;
mod crypto;
mod hashing;
mod ledger;
mod pow;

/// The exception classes of `funai.errors`, looked up once.
struct ErrorTypes {
    malformed: Py<PyType>,
    verification: Py<PyType>,
    cancelled: Py<PyType>,
}

static ERROR_TYPES: PyOnceLock<ErrorTypes> = PyOnceLock::new();

fn error_types(py: Python<'_>) -> PyResult<&ErrorTypes> {
    ERROR_TYPES.get_or_try_init(py, || {
        let errors = py.import("funai.errors")?;
        let get = |name: &str| -> PyResult<Py<PyType>> {
            Ok(errors.getattr(name)?.cast_into::<PyType>()?.unbind())
        };
        Ok(ErrorTypes {
            malformed: get("MalformedInputError")?,
            verification: get("VerificationError")?,
            cancelled: get("CancelledError")?,
        })
    })
}

/// Turns a core error into the matching `funai.errors` exception.
pub(crate) fn to_pyerr(py: Python<'_>, err: Error) -> PyErr {
    let types = match error_types(py) {
        Ok(types) => types,
        Err(lookup_failed) => return lookup_failed,
    };
    let (ty, msg) = match err {
        Error::Malformed(m) => (&types.malformed, m),
        Error::Verification(m) => (&types.verification, m),
        Error::Cancelled(m) => (&types.cancelled, m),
    };
    PyErr::from_type(ty.bind(py).clone(), msg)
}

/// Extension trait: `result.py_err(py)?` converts a core error into its Python exception.
pub(crate) trait IntoPyResult<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for crate::Result<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_pyerr(py, e))
    }
}

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    hashing::register(m)?;
    pow::register(m)?;
    crypto::register(m)?;
    clarity::register(m)?;
    ledger::register(m)?;
    Ok(())
}
