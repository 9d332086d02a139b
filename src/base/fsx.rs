//! File-system operations whose failures are the user's to fix.
//!
//! Every file sysgen reads or writes belongs to the user's machine: a
//! read-only mount, a full disk, a path too long, a file that is not UTF-8
//! text. Such failures are not bugs in sysgen, so they become one-line
//! [`UserError`](crate::UserError)s that name the path and what to do,
//! instead of an `internal error` without a path.

use std::io::{self, Read, Write};
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

/// Refuse a path that is not valid UTF-8 or holds a line break, naming it
/// and `what` it is: such a path cannot be written into a build file or
/// passed to rustc (which takes only UTF-8 arguments, one a line in `@args`
/// files) as it is.
pub fn require_nameable(what: &str, path: &Path) -> Result<()> {
    match path.to_str() {
        None => Err(user_err!(
            "{what} {} is not valid UTF-8; build files and rustc's arguments cannot name it: rename it or move it to a UTF-8 path",
            path.display()
        )),
        Some(s) if s.contains(['\n', '\r']) => Err(user_err!(
            "{what} {s:?} holds a line break; build files and rustc's arguments cannot name it: rename it"
        )),
        Some(_) => Ok(()),
    }
}

/// The most sysgen ever reads of a file it is about to replace.
const READ_LIMIT: u64 = 64 << 20;

/// The contents of `path` if it is a regular file (not followed through a
/// symlink) of at most 64 MiB; `None` for anything else. Nothing is read
/// from a device, a FIFO or a socket, and nothing without a bound.
pub fn read_regular(path: &Path) -> Option<Vec<u8>> {
    let m = std::fs::symlink_metadata(path).ok()?;
    if !m.file_type().is_file() || m.len() > READ_LIMIT {
        return None;
    }
    let mut out = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(READ_LIMIT + 1)
        .read_to_end(&mut out)
        .ok()?;
    (out.len() as u64 <= READ_LIMIT).then_some(out)
}

/// What a file is, as a message names it: "a directory", "a FIFO", …
pub fn file_kind(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a regular file"
    }
}

/// What a file named on the command line (`-o FILE`) may replace: the one
/// rule for every output sysgen writes there.
#[derive(Clone, Copy)]
pub enum Replace {
    /// A report (`sbom`, `timings`, `graph`): an existing regular file, which
    /// the user named, keeping its mode.
    RegularFile,
    /// A generated project file (`rust-project.json`): only a regular file
    /// that `ours` recognises as one sysgen wrote.
    Ours(fn(&[u8]) -> bool),
}

/// Check `path` before anything is computed: nothing there, or a regular
/// file `rule` allows. A symlink, directory, device, FIFO or socket is
/// refused with one line naming it, and is never read or replaced.
pub fn check_output(path: &Path, rule: Replace) -> Result<()> {
    let m = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("check", path, &e)),
    };
    let what = if m.is_dir() {
        return Err(user_err!(
            "{} is a directory; `-o` takes the path of the file to write",
            path.display()
        ));
    } else if !m.file_type().is_file() {
        file_kind(&m)
    } else {
        match rule {
            Replace::RegularFile => return Ok(()),
            Replace::Ours(ours) if read_regular(path).is_some_and(|old| ours(&old)) => {
                return Ok(());
            }
            Replace::Ours(_) => {
                return Err(user_err!(
                    "{} exists and was not written by sysgen; move it away or pass `-o` another file",
                    path.display()
                ));
            }
        }
    };
    Err(user_err!(
        "{} is {what}, not a regular file; sysgen replaces only regular files: pass `-o` a file path (or `-o -` for standard output)",
        path.display()
    ))
}

/// Write `contents` to `path` atomically: a temporary file in the same
/// directory, then a rename. Readers see the old file or the new one, never
/// half of either; an unchanged file is not touched (its mtime stays), and
/// a replaced regular file keeps its mode.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    if read_regular(path).is_some_and(|old| old == contents) {
        return Ok(());
    }
    let mode = std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.file_type().is_file())
        .map(|m| m.permissions());
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
        if let Some(mode) = mode {
            f.set_permissions(mode)
                .map_err(|e| io_error("write", path, &e))?;
        }
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

/// `p` with every symlink resolved (what Make's `$(realpath)` and
/// realpath(1) give), or `p` itself when it cannot be resolved.
pub fn canonical_or_same(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
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
