//! x86_64 backends. Each is entered only through [`crate::pow::Kernel`], which checks the
//! CPU features first.

pub(crate) mod avx2;
pub(crate) mod avx512;
pub(crate) mod shani;
