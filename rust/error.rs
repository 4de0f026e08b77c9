//! The one error type of the core. The Python bindings map each variant onto a typed
//! exception of the `funai.errors.FunaiError` hierarchy; nothing here panics on bad input.

/// Errors returned by the core.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Input that is not well formed: a wrong length, a non-canonical encoding, a point
    /// that is not on the curve or has small order, an out-of-range parameter.
    #[error("{0}")]
    Malformed(String),
    /// Well-formed input that does not verify (a bad VRF proof, a bad signature).
    #[error("{0}")]
    Verification(String),
    /// A long computation was cancelled before it finished.
    #[error("{0}")]
    Cancelled(String),
}

/// Result alias used across the core.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A [`Error::Malformed`] from anything printable.
    pub fn malformed(msg: impl Into<String>) -> Self {
        Error::Malformed(msg.into())
    }

    /// A [`Error::Verification`] from anything printable.
    pub fn verification(msg: impl Into<String>) -> Self {
        Error::Verification(msg.into())
    }
}

/// Converts a slice into a fixed-size array, or a [`Error::Malformed`] naming `what`.
pub fn fixed<const N: usize>(what: &str, bytes: &[u8]) -> Result<[u8; N]> {
    bytes
        .try_into()
        .map_err(|_| Error::malformed(format!("{what} must be {N} bytes, got {}", bytes.len())))
}
