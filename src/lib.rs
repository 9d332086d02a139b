//! sysgen: a declarative build-graph generator for the Rust standard library.
//!
//! The folders are the pipeline's stages, listed here from the bottom up;
//! a stage imports only stages listed before it (ARCHITECTURE.md, and the
//! `layering` test in tests/fast, hold that order).

pub mod base;
pub mod cli;
pub mod config;
pub mod emit;
pub mod exec;
pub mod library;
pub mod lower;
pub mod model;
pub mod report;
pub mod resolve;
pub mod store;
pub mod toolchain;
