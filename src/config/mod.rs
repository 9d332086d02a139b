//! What the user configured: sysgen.toml / Xargo.toml (with git sources)
//! and the project's Cargo.toml and .cargo/config.toml.

pub mod file;
pub mod git;
pub mod project;
pub mod rustflags;

pub use file::{Config, CrateSource, CrateSpec};
