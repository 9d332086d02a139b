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

/// `base_dir`, refused with one line naming the real problem when sysgen
/// could not use it: a path that is not UTF-8 (build files name it), a
/// symlink to nothing, or something that is not a directory.
pub fn checked_base_dir() -> anyhow::Result<Option<PathBuf>> {
    let Some(d) = base_dir() else {
        return Ok(None);
    };
    let from = if std::env::var_os("SYSGEN_CACHE_DIR").is_some_and(|d| !d.is_empty()) {
        "SYSGEN_CACHE_DIR"
    } else {
        "the cache directory"
    };
    if d.to_str().is_none() {
        crate::user_bail!(
            "{from} {} is not valid UTF-8, which build files cannot name; set SYSGEN_CACHE_DIR to a UTF-8 path",
            d.to_string_lossy()
        );
    }
    match std::fs::symlink_metadata(&d) {
        Ok(m) if m.file_type().is_symlink() && !d.exists() => crate::user_bail!(
            "{from} {} is a symlink to {}, which does not exist; create that directory, or set SYSGEN_CACHE_DIR to another one",
            d.display(),
            std::fs::read_link(&d).unwrap_or_default().display()
        ),
        Ok(_) if !d.is_dir() => crate::user_bail!(
            "{from} {} is not a directory; remove it, or set SYSGEN_CACHE_DIR to a directory",
            d.display()
        ),
        _ => Ok(Some(d)),
    }
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
