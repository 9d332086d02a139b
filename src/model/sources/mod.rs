//! The files a crate reads, found by scanning its sources.

mod follow;

pub use follow::*;
