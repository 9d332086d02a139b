//! File-system operations whose failures are the user's to fix.
//!
//! Every file sysgen reads or writes belongs to the user's machine: a
//! read-only mount, a full disk, a path too long, a file that is not UTF-8
//! text. Such failures are not bugs in sysgen, so they become one-line
//! [`UserError`](crate::UserError)s that name the path and what to do,
//! instead of an `internal error` without a path.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::user_err;

/// A one-line user error for an I/O failure on `path` while trying to `verb` it.
pub fn io_error(verb: &str, path: &Path, e: &io::Error) -> anyhow::Error {
    let fix = match e.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            "check its permissions, or choose a writable place"
        }
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => "free some disk space",
        io::ErrorKind::NotFound => "check that the path exists",
        io::ErrorKind::InvalidFilename => "use a shorter path or one without unusual characters",
        io::ErrorKind::NotADirectory | io::ErrorKind::IsADirectory => {
            "a file and a directory are mixed up in that path"
        }
        io::ErrorKind::InvalidData => "the file is not UTF-8 text",
        _ => "check the path",
    };
    user_err!("cannot {verb} {}: {e}; {fix}", path.display())
}

/// The contents of a text file, or a one-line error naming it.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| io_error("read", path, &e))?;
    String::from_utf8(bytes).map_err(|e| {
        user_err!(
            "{} is not UTF-8 text (invalid byte at offset {}); restore the file",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// The working directory (it may have been deleted under us).
pub fn current_dir() -> Result<std::path::PathBuf> {
    std::env::current_dir().map_err(|e| {
        user_err!("cannot read the working directory ({e}); run sysgen from an existing directory")
    })
}

/// This program's own path, which build files call back.
pub fn current_exe() -> Result<std::path::PathBuf> {
    std::env::current_exe()
        .map_err(|e| user_err!("cannot find sysgen's own executable ({e}); run it by its path"))
}

/// `mkdir -p`, or a one-line error naming the directory.
pub fn create_dir_all(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|e| io_error("create the directory", path, &e))
}

/// Write `contents` to `path` atomically: a temporary file in the same
/// directory, then a rename. Readers see the old file or the new one, never
/// half of either; an unchanged file is not touched (its mtime stays).
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f = std::fs::File::create(&tmp).map_err(|e| io_error("write", path, &e))?;
        f.write_all(contents)
            .and_then(|_| f.sync_all())
            .map_err(|e| io_error("write", path, &e))?;
        std::fs::rename(&tmp, path).map_err(|e| io_error("write", path, &e))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Set a file's modification time to now, or to the newest of `inputs` if
/// that is later: a regenerated build file must not be older than what it
/// was generated from, even when its text is the same or an input carries
/// a time in the future (sources unpacked from an archive), or ninja
/// regenerates it again and again.
pub fn touch_after(path: &Path, inputs: &[std::path::PathBuf]) -> Result<()> {
    let newest = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .max();
    let now = std::time::SystemTime::now();
    let t = newest.map_or(now, |n| n.max(now));
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|f| f.set_modified(t))
        .map_err(|e| io_error("update", path, &e))
}

/// Lexically normalise `a/b/../c` to `a/c` so one package has one path.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            std::path::Component::CurDir => {}
            c => out.push(c.as_os_str()),
        }
    }
    out
}
