//! The crate model laid out for a file-based build: outputs, actions,
//! pipelining.

pub mod layout;

pub use layout::*;
