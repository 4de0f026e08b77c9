//! Ledger-layer consensus checks that run hot: header-chain validation (in progress).
