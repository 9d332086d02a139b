//! The content-addressed sysroot store: entries and their keys, what a
//! build read, and getting a sysroot built or reused.

pub mod build;
pub mod entries;
pub mod invalidate;
pub mod key;
pub mod remote;
