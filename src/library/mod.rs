//! The standard library's workspace as data: manifests, the lockfile and
//! the registry sources checked against it, sysgen's per-crate rules, and
//! profiles.

pub mod layout;
pub mod manifest;
pub mod profile;
pub mod rules;
pub mod verify;
pub mod workspace;
