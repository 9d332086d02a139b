//! sysgen: a declarative build-graph generator for the Rust standard library.
//!
//! The folders are the pipeline's stages, listed here from the bottom up;
//! a stage imports only stages listed before it (ARCHITECTURE.md, and the
//! `layering` test in tests/fast, hold that order).

pub mod base;
pub mod toolchain;
pub mod library;
pub mod config;
pub mod resolve;
pub mod model;
pub mod exec;
pub mod lower;
pub mod report;
pub mod emit;
pub mod store;
pub mod cli;
