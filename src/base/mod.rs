//! What every stage uses: one-line user errors, file system access that
//! names the path, stable hashes, sysgen's cache directory, file digests,
//! the rule for what sysgen reuses (its own, writable by no one else), and
//! the variables that hand a process a jobserver.

pub mod cache_dir;
pub mod error;
pub mod fingerprint;
pub mod fsx;
pub mod hash;
pub mod jobserver_env;
pub mod private;
