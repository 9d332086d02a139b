//! `sysgen fetch`: the one set-up step that may run cargo. It downloads the
//! registry packages of the library's lockfile, into the Cargo home
//! (`cargo fetch`) or a vendor directory (`cargo vendor`), with `--locked`
//! so the lockfile rust-src ships is what gets fetched.
//!
//! `cargo vendor DIR` empties DIR before it writes (unless `--no-delete`),
//! and `--vendor` may name a project's own `vendor/`, `.` or a home
//! directory. So cargo never writes into DIR itself: it vendors into a
//! fresh staging directory that sysgen creates inside DIR, and sysgen then
//! moves in each package directory that DIR does not have yet. Nothing that
//! was in DIR before is deleted or overwritten; a package directory that
//! exists with other contents is reported, and left alone.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;

use crate::base::fsx::{self, io_error};
use crate::toolchain::locate::{self, SourceOptions};
use crate::{user_bail, user_err};

/// The prefix of sysgen's staging directories inside a vendor directory
/// (only directories with this prefix are ever removed, and only by the
/// run that created them or, once that run is gone, by a later fetch).
const STAGING: &str = ".sysgen-fetch-";

pub fn fetch(opts: &SourceOptions) -> Result<()> {
    let rustc = locate::find_rustc(opts)?;
    let src = crate::library::layout::find(opts, &rustc)?;
    // A layout without a manifest (the library inside the compiler's
    // workspace) gets the workspace cargo of that release made up, written
    // into a scratch directory beside a copy of the lockfile.
    let scratch = match &src.synthesized {
        Some(w) => Some(ScratchWorkspace::write(&src, w)?),
        None => None,
    };
    let manifest = match (&scratch, &src.manifest) {
        (Some(s), _) => s.dir.join("Cargo.toml"),
        (None, Some(m)) => m.clone(),
        (None, None) => unreachable!("a layout has a manifest or rules for one"),
    };
    let locked: &[&str] = if src.fetch_locked { &["--locked"] } else { &[] };
    let cargo = cargo_for(&rustc);
    let mut cmd = Command::new(&cargo);
    cmd.env("RUSTC_BOOTSTRAP", "1").env("RUSTC", &rustc.path);
    let staging = match &opts.vendor {
        Some(dir) => {
            let staging = prepare_vendor_dir(dir)?;
            cmd.arg("vendor")
                .args(locked)
                .args(["--versioned-dirs", "--manifest-path"])
                .arg(&manifest)
                .arg(&staging);
            Some((dir, staging))
        }
        None => {
            cmd.arg("fetch")
                .args(locked)
                .arg("--manifest-path")
                .arg(&manifest);
            None
        }
    };
    eprintln!(
        "sysgen: fetching the standard library's registry dependencies with cargo (set-up only)"
    );
    // cargo vendor prints the `[source]` table for a .cargo/config.toml,
    // which names the staging directory: not useful here.
    if staging.is_some() {
        cmd.stdout(std::process::Stdio::null());
    }
    let status = cmd.status();
    let result = match status {
        Err(e) => Err(user_err!(
            "cannot run cargo ({e}); sysgen fetch needs cargo on PATH or $CARGO"
        )),
        Ok(s) if !s.success() => Err(user_err!(
            "cargo could not fetch the standard library's dependencies (see its output above); check the network or pass --vendor DIR with a copied vendor directory"
        )),
        Ok(_) => match &staging {
            Some((dir, staging)) => merge_vendored(staging, dir),
            None => Ok(()),
        },
    };
    if let Some((_, staging)) = &staging {
        let _ = std::fs::remove_dir_all(staging);
    }
    drop(scratch);
    result
}

/// The cargo that fetches: `$CARGO`, else the one of the compiler's own
/// toolchain (beside it in its sysroot), else `cargo` on PATH. A release's
/// manifests are read best by its own cargo.
fn cargo_for(rustc: &crate::toolchain::target::Rustc) -> std::ffi::OsString {
    if let Some(c) = std::env::var_os("CARGO").filter(|c| !c.is_empty()) {
        return c;
    }
    let beside = rustc.sysroot.join("bin/cargo");
    if beside.is_file() {
        return beside.into_os_string();
    }
    "cargo".into()
}

/// A workspace manifest made up for a layout that has none, in a scratch
/// directory: `library` links to rust-src's, so every member and path
/// dependency resolves below the workspace root as cargo requires, and the
/// lockfile is a copy (cargo may rewrite it; rust-src's stays untouched).
/// Removed when dropped.
struct ScratchWorkspace {
    dir: PathBuf,
}

impl ScratchWorkspace {
    fn write(
        src: &crate::library::layout::StdSource,
        w: &crate::library::layout::Synthesized,
    ) -> Result<ScratchWorkspace> {
        let rust = src.library.parent().unwrap_or(Path::new("/"));
        let rel = |p: &Path| -> String { p.strip_prefix(rust).unwrap_or(p).display().to_string() };
        let base = crate::base::cache_dir::checked_base_dir()?.unwrap_or_else(std::env::temp_dir);
        fsx::create_dir_all(&base)?;
        let dir = base.join(format!("fetch-workspace-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).map_err(|e| io_error("create", &dir, &e))?;
        let scratch = ScratchWorkspace { dir };
        let members: Vec<String> = w.members.iter().map(|m| format!("{:?}", rel(m))).collect();
        let mut text = format!(
            "# Made up by sysgen fetch for {} ({}): the workspace cargo built in memory.\n[workspace]\nresolver = \"1\"\nmembers = [{}]\n\n[patch.crates-io]\n",
            src.library.display(),
            src.layout,
            members.join(", ")
        );
        for (name, path) in &w.patch {
            text.push_str(&format!("{name} = {{ path = {:?} }}\n", rel(path)));
        }
        fsx::write_atomic(&scratch.dir.join("Cargo.toml"), text.as_bytes())?;
        let lock = fsx::read_text(&src.lockfile)?;
        fsx::write_atomic(&scratch.dir.join("Cargo.lock"), lock.as_bytes())?;
        std::os::unix::fs::symlink(&src.library, scratch.dir.join("library"))
            .map_err(|e| io_error("link", &scratch.dir.join("library"), &e))?;
        Ok(scratch)
    }
}

impl Drop for ScratchWorkspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Check DIR and create the staging directory inside it (so the final moves
/// are renames on one file system). Leftover staging directories of fetches
/// that are no longer running are removed: sysgen made them.
fn prepare_vendor_dir(dir: &Path) -> Result<PathBuf> {
    if dir.exists() && !dir.is_dir() {
        user_bail!(
            "--vendor {} is a file, not a directory; pass a directory",
            dir.display()
        );
    }
    fsx::create_dir_all(dir)?;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let Some(pid) = name.strip_prefix(STAGING) else {
                continue;
            };
            let alive = Path::new("/proc").join(pid).exists();
            if !alive {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let staging = dir.join(format!("{STAGING}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    fsx::create_dir_all(&staging)?;
    Ok(staging)
}

/// Move every package directory cargo vendored into `dir`, unless `dir`
/// already has one of that name. An existing directory with the same
/// `.cargo-checksum.json` is the same package and is kept as it is; one
/// with other contents is reported.
fn merge_vendored(staging: &Path, dir: &Path) -> Result<()> {
    let mut names: Vec<_> = std::fs::read_dir(staging)
        .map_err(|e| io_error("read", staging, &e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    names.sort();
    let mut conflicts = Vec::new();
    for name in names {
        let from = staging.join(&name);
        let to = dir.join(&name);
        if to.symlink_metadata().is_ok() {
            let checksum = |d: &Path| std::fs::read(d.join(".cargo-checksum.json")).ok();
            if checksum(&to).is_none() || checksum(&to) != checksum(&from) {
                conflicts.push(to.display().to_string());
            }
            continue;
        }
        std::fs::rename(&from, &to).map_err(|e| io_error("move a package into", &to, &e))?;
    }
    if !conflicts.is_empty() {
        user_bail!(
            "left untouched because they exist with other contents: {}; move them away and run `sysgen fetch --vendor {}` again, or choose another directory",
            conflicts.join(", "),
            dir.display()
        );
    }
    Ok(())
}
