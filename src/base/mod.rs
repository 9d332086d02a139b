//! What every stage uses: one-line user errors, file system access that
//! names the path, stable hashes, sysgen's cache directory, file digests.

pub mod cache_dir;
pub mod error;
pub mod fingerprint;
pub mod fsx;
pub mod hash;
