//! `sysgen fetch`: the one set-up step that may run cargo. It downloads the
//! registry packages of the library's lockfile, into the Cargo home
//! (`cargo fetch`) or a vendor directory (`cargo vendor`), with `--locked`
//! so the lockfile rust-src ships is what gets fetched.

use std::process::Command;

use anyhow::Result;

use crate::source::{self, SourceOptions};
use crate::{user_bail, user_err};

pub fn fetch(opts: &SourceOptions) -> Result<()> {
    let rustc = source::find_rustc(opts)?;
    let library = source::find_library(opts, &rustc)?;
    let manifest = library.join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.env("RUSTC_BOOTSTRAP", "1").env("RUSTC", &rustc.path);
    match &opts.vendor {
        Some(dir) => {
            cmd.args(["vendor", "--locked", "--versioned-dirs", "--manifest-path"])
                .arg(&manifest)
                .arg(dir);
        }
        None => {
            cmd.args(["fetch", "--locked", "--manifest-path"])
                .arg(&manifest);
        }
    }
    eprintln!(
        "sysgen: fetching the standard library's registry dependencies with cargo (set-up only)"
    );
    let status = cmd.status().map_err(|e| {
        user_err!("cannot run cargo ({e}); sysgen fetch needs cargo on PATH or $CARGO")
    })?;
    if !status.success() {
        user_bail!(
            "cargo could not fetch the standard library's dependencies (see its output above); check the network or pass --vendor DIR with a copied vendor directory"
        );
    }
    Ok(())
}
