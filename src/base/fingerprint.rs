//! Content digests of source files, with a cache keyed by file metadata.
//!
//! The sysroot store (`store.rs`) and the source verification of the
//! registry crates need the SHA-256 of thousands of files on every run.
//! Hashing them each time would cost hundreds of milliseconds, so digests
//! are cached by path and *stat identity* (size, modification and change
//! time in nanoseconds, inode): any write to a file, a replacement by
//! another file, or a `touch` changes the identity and the file is hashed
//! again. A file modified within the last two seconds is hashed but not
//! cached (its next write could keep the same timestamps on a coarse
//! clock: git's "racily clean" problem).
//!
//! The cache is one file (`fingerprints` in sysgen's cache directory),
//! read once and rewritten atomically when it learnt something. It is an
//! optimisation only: unreadable or malformed, it is empty; unwritable, it
//! is not written.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Result;
use sha2::{Digest, Sha256};

use crate::base::fsx::io_error;

/// What identifies a file's contents without reading them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    size: u64,
    mtime: i128,
    ctime: i128,
    ino: u64,
}

fn nanos(t: SystemTime) -> i128 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

fn stat(meta: &std::fs::Metadata) -> Stat {
    use std::os::unix::fs::MetadataExt;
    Stat {
        size: meta.len(),
        mtime: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
        ctime: meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
        ino: meta.ino(),
    }
}

/// SHA-256 of bytes, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// SHA-256 of a file's contents, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    // Opened without blocking (a FIFO swapped in after a check would
    // otherwise wait for a writer forever), and read only if it is a
    // regular file: a device such as /dev/zero never ends.
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| io_error("read", path, &e))?;
    let meta = f.metadata().map_err(|e| io_error("read", path, &e))?;
    if !meta.is_file() {
        crate::user_bail!(
            "{} is not a regular file ({}); sysgen reads only regular files",
            path.display(),
            crate::base::fsx::file_kind(&meta)
        );
    }
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| io_error("read", path, &e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// The largest file whose bytes are hashed (1 GiB): a bigger one is keyed
/// by its stat identity.
pub const HASHED_AT_MOST: u64 = 1 << 30;

/// The digests of files, remembered by stat identity.
pub struct Fingerprints {
    file: Option<PathBuf>,
    known: HashMap<PathBuf, (Stat, String)>,
    dirty: bool,
}

impl Fingerprints {
    /// The cache in sysgen's cache directory (none with `SYSGEN_NO_CACHE=1`).
    /// It vouches for what the store reuses, so it must be private
    /// ([`crate::base::private`]).
    pub fn open() -> Result<Fingerprints> {
        crate::base::cache_dir::checked_base_dir()?;
        let file = crate::base::cache_dir::dir().map(|d| d.join("fingerprints"));
        if let Some(f) = &file {
            crate::base::private::check_path(f)?;
        }
        let mut known = HashMap::new();
        if let Some(text) = file.as_ref().and_then(|f| std::fs::read_to_string(f).ok()) {
            for line in text.lines() {
                if let Some((path, entry)) = parse_line(line) {
                    known.insert(path, entry);
                }
            }
        }
        Ok(Fingerprints {
            file,
            known,
            dirty: false,
        })
    }

    /// A cache that remembers nothing between runs (tests).
    pub fn in_memory() -> Fingerprints {
        Fingerprints {
            file: None,
            known: HashMap::new(),
            dirty: false,
        }
    }

    /// The SHA-256 of `path`'s contents; `None` when it does not exist or
    /// is no regular file (a directory, a device, a FIFO, a socket: never
    /// read, as cargo only stats what a build script names). A regular
    /// file over [`HASHED_AT_MOST`] is keyed by its stat identity instead
    /// of its bytes: what is hashed stays bounded.
    pub fn digest(&mut self, path: &Path) -> Result<Option<String>> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("read", path, &e)),
        };
        if !meta.is_file() {
            return Ok(None);
        }
        let st = stat(&meta);
        if st.size > HASHED_AT_MOST {
            return Ok(Some(format!(
                "stat:{}:{}:{}:{}",
                st.size, st.mtime, st.ctime, st.ino
            )));
        }
        if let Some((known, digest)) = self.known.get(path)
            && *known == st
        {
            return Ok(Some(digest.clone()));
        }
        let digest = sha256_file(path)?;
        // Only a file whose timestamps are settled is remembered.
        let settled = nanos(SystemTime::now() - Duration::from_secs(2));
        if st.mtime < settled && st.ctime < settled {
            self.known.insert(path.to_path_buf(), (st, digest.clone()));
            self.dirty = true;
        } else if self.known.remove(path).is_some() {
            self.dirty = true;
        }
        Ok(Some(digest))
    }

    /// Write the cache back if it learnt anything (errors ignored: it is
    /// only a cache).
    pub fn save(&mut self) {
        let Some(file) = &self.file else { return };
        if !self.dirty {
            return;
        }
        let mut lines: Vec<String> = self
            .known
            .iter()
            .filter_map(|(p, (st, d))| {
                let p = p.to_str()?;
                (!p.contains('\n'))
                    .then(|| format!("{d} {} {} {} {} {p}", st.size, st.mtime, st.ctime, st.ino))
            })
            .collect();
        lines.sort();
        let mut text = lines.join("\n");
        text.push('\n');
        if crate::base::fsx::write_atomic(file, text.as_bytes()).is_ok() {
            let _ = crate::base::private::seal(file);
        }
        self.dirty = false;
    }
}

fn parse_line(line: &str) -> Option<(PathBuf, (Stat, String))> {
    let mut it = line.splitn(6, ' ');
    let digest = it.next()?;
    if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let st = Stat {
        size: it.next()?.parse().ok()?,
        mtime: it.next()?.parse().ok()?,
        ctime: it.next()?.parse().ok()?,
        ino: it.next()?.parse().ok()?,
    };
    let path = PathBuf::from(it.next()?);
    path.is_absolute().then(|| (path, (st, digest.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_mtime(f: &Path, t: SystemTime) {
        let file = std::fs::File::options().write(true).open(f).unwrap();
        file.set_modified(t).unwrap();
    }

    #[test]
    fn a_cached_digest_is_used_only_while_the_file_is_unchanged() {
        let dir = std::env::temp_dir().join(format!("sysgen-fp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("a.rs");
        std::fs::write(&f, "fn a() {}").unwrap();
        // Settled: three seconds old.
        let old = SystemTime::now() - Duration::from_secs(3);
        set_mtime(&f, old);
        let mut fp = Fingerprints::in_memory();
        let first = fp.digest(&f).unwrap().unwrap();
        assert_eq!(first, sha256_hex(b"fn a() {}"));
        // The same size and mtime restored after a write: ctime still moves.
        std::fs::write(&f, "fn b() {}").unwrap();
        set_mtime(&f, old);
        assert_eq!(fp.digest(&f).unwrap().unwrap(), sha256_hex(b"fn b() {}"));
        assert_eq!(fp.digest(&dir.join("missing.rs")).unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn malformed_cache_lines_are_ignored() {
        assert!(parse_line("zz 1 2 3 4 /a").is_none());
        assert!(parse_line(&format!("{} 1 2 3 4 relative", "a".repeat(64))).is_none());
        let (p, (st, _)) = parse_line(&format!("{} 1 2 3 4 /a b", "a".repeat(64))).unwrap();
        assert_eq!(p, PathBuf::from("/a b"));
        assert_eq!(st.size, 1);
    }
}
