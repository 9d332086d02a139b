//! sysgen's cache directory: `$SYSGEN_CACHE_DIR`, else the XDG cache.
//! `SYSGEN_NO_CACHE=1` turns off the caches that are only an optimisation
//! (probes, digests, archive listings); the store and git checkouts keep
//! their place.

use std::path::{Path, PathBuf};

/// The directory of sysgen's optional caches, or `None` when they are off.
pub fn dir() -> Option<PathBuf> {
    if std::env::var_os("SYSGEN_NO_CACHE").is_some_and(|v| v == "1") {
        return None;
    }
    base_dir()
}

/// sysgen's cache directory (`$SYSGEN_CACHE_DIR`, else the XDG cache).
pub fn base_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SYSGEN_CACHE_DIR").filter(|d| !d.is_empty()) {
        return std::path::absolute(PathBuf::from(d)).ok();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| Path::new(d).is_absolute())
        .map(PathBuf::from)
        .or_else(|| home::home_dir().map(|h| h.join(".cache")))?;
    Some(base.join("sysgen"))
}
