//! A small on-disk cache for what rustc says about itself and its targets.
//!
//! Asking rustc costs tens of milliseconds a call; generation must cost
//! less. Entries are keyed by the real compiler binary's identity (path,
//! size, modification time) and, for targets, the target name and the spec
//! file's contents, so a new toolchain or an edited target JSON misses.
//! The cache is an optimisation only: any error reading or writing it is
//! ignored. `SYSGEN_CACHE_DIR` overrides its place; `SYSGEN_NO_CACHE=1`
//! turns it off.

use std::path::{Path, PathBuf};

use crate::base::fsx::write_atomic;
use crate::base::hash::stable_hash;

/// `path|size|mtime` of a file, or `None` when it cannot be read.
pub fn identity(p: &Path) -> Option<String> {
    let m = std::fs::metadata(p).ok()?;
    let t = m
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{}|{}|{}", p.display(), m.len(), t.as_nanos()))
}

fn file(key: &str) -> Option<PathBuf> {
    Some(crate::base::cache_dir::dir()?.join(format!("probe-{}", stable_hash(&[key]))))
}

pub fn get(key: &str) -> Option<String> {
    let text = std::fs::read_to_string(file(key)?).ok()?;
    // The first line repeats the key: a hash collision never returns a wrong entry.
    let (k, v) = text.split_once('\n')?;
    (k == key.replace('\n', " ")).then(|| v.to_string())
}

pub fn put(key: &str, value: &str) {
    if let Some(f) = file(key) {
        let _ = write_atomic(
            &f,
            format!("{}\n{value}", key.replace('\n', " ")).as_bytes(),
        );
    }
}
