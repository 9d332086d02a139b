//! What runs at build time, inside a generated build: the pipelined rustc
//! and build scripts.

pub mod envdeps;
pub mod envset;
pub mod jobserver;
pub mod leftovers;
pub mod ninja;
pub mod pipe;
pub mod priority;
pub mod runscript;
