//! What sysgen reuses across runs — the sysroot store, its locks, the
//! fingerprint cache — must be the current user's own and writable by no
//! one else, as ssh treats `~/.ssh` and git treats `safe.directory`.
//! Anything else is refused with one line naming the path, why, and the
//! fix: whoever else can write there could plant what sysgen would reuse.
//! sysgen creates its own directories 0700 and files without group or
//! other write, whatever the umask.

use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use anyhow::Result;

use crate::base::fsx::io_error;
use crate::user_bail;

/// The effective user id of this process.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Refuse `path` (whose `symlink_metadata` is `meta`) unless the current
/// user owns it and neither its group nor others may write it.
pub fn check(path: &Path, meta: &Metadata) -> Result<()> {
    let me = euid();
    let fix = "or set SYSGEN_CACHE_DIR to a directory of your own; a store is never shared through permissions (share sysroots through a remote cache)";
    if meta.uid() != me {
        user_bail!(
            "{} belongs to uid {}, not to you (uid {me}), so sysgen will not reuse it: `chown -R {me} {}`, {fix}",
            path.display(),
            meta.uid(),
            path.display()
        );
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 && !meta.file_type().is_symlink() {
        user_bail!(
            "{} is writable by its group or others (mode {mode:04o}), so sysgen will not reuse it: `chmod -R go-w {}`, {fix}",
            path.display(),
            path.display()
        );
    }
    Ok(())
}

/// `check` on what is at `path`, if anything is.
pub fn check_path(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) => check(path, &m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("read", path, &e)),
    }
}

/// The directory `path`, created 0700 if missing (its parents as the
/// umask says), and checked if present.
pub fn dir(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => check(path, &m),
        Ok(_) => user_bail!(
            "{} is not a directory; remove it, or set SYSGEN_CACHE_DIR to another directory",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                crate::base::fsx::create_dir_all(parent)?;
            }
            use std::os::unix::fs::DirBuilderExt;
            match std::fs::DirBuilder::new().mode(0o700).create(path) {
                Ok(()) => Ok(()),
                // Another sysgen made it meanwhile.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => check_path(path),
                Err(e) => Err(io_error("create the directory", path, &e)),
            }
        }
        Err(e) => Err(io_error("read", path, &e)),
    }
}

/// Lock the file `path` (created 0644 in a private directory, and
/// checked), waiting — after printing `waiting` — while another process
/// holds it. The lock lasts as long as the returned file is open.
pub fn lock_file(path: &Path, waiting: &str) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o644)
        .open(path)
        .map_err(|e| io_error("create", path, &e))?;
    let meta = file.metadata().map_err(|e| io_error("read", path, &e))?;
    check(path, &meta)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            eprintln!("sysgen: {waiting}");
            file.lock().map_err(|e| io_error("lock", path, &e))?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io_error("lock", path, &e)),
    }
    Ok(file)
}

/// Take group and other write from `path`, which sysgen just made (a
/// umask of 002 would leave it group-writable, and then refused).
pub fn seal(path: &Path) -> Result<()> {
    let m = std::fs::symlink_metadata(path).map_err(|e| io_error("read", path, &e))?;
    if m.file_type().is_symlink() || m.mode() & 0o022 == 0 {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(m.mode() & 0o7755))
        .map_err(|e| io_error("set the permissions of", path, &e))
}
