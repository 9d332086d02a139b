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
    let library = locate::find_library(opts, &rustc)?;
    let manifest = library.join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.env("RUSTC_BOOTSTRAP", "1").env("RUSTC", &rustc.path);
    let staging = match &opts.vendor {
        Some(dir) => {
            let staging = prepare_vendor_dir(dir)?;
            cmd.args(["vendor", "--locked", "--versioned-dirs", "--manifest-path"])
                .arg(&manifest)
                .arg(&staging);
            Some((dir, staging))
        }
        None => {
            cmd.args(["fetch", "--locked", "--manifest-path"])
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
    result
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
