//! The content-addressed sysroot store.

pub mod build;
pub mod entries;

pub use entries::*;
