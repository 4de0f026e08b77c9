//! The Clarity smart-contract VM (in progress).
