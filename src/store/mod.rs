//! The content-addressed sysroot store.

pub mod entries;

pub use entries::*;
