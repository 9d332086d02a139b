//! Finding the inputs: the compiler, the library sources, and where the
//! registry packages std depends on live.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::target::Rustc;
use crate::user_bail;
use crate::workspace::RegistrySources;

/// Where to look, as the user said it (flags win over environment).
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    pub rust_src: Option<PathBuf>,
    pub rustc: Option<PathBuf>,
    pub vendor: Option<PathBuf>,
}

pub fn find_rustc(opts: &SourceOptions) -> Result<Rustc> {
    let path = opts
        .rustc
        .clone()
        .or_else(|| {
            std::env::var_os("RUSTC")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("rustc"));
    Rustc::probe(&path)
}

/// The `library` directory: `--rust-src`, `SYSGEN_RUST_SRC`, `XARGO_RUST_SRC`,
/// then the compiler's own rust-src component.
pub fn find_library(opts: &SourceOptions, rustc: &Rustc) -> Result<PathBuf> {
    let given = opts
        .rust_src
        .clone()
        .map(|p| (p, "--rust-src"))
        .or_else(|| env_path("SYSGEN_RUST_SRC").map(|p| (p, "SYSGEN_RUST_SRC")))
        .or_else(|| env_path("XARGO_RUST_SRC").map(|p| (p, "XARGO_RUST_SRC")));
    match given {
        Some((dir, from)) => match library_in(&dir) {
            Some(lib) => Ok(absolute(&lib)),
            None => user_bail!(
                "{from} is {} but no standard library workspace (a Cargo.toml with [workspace] beside Cargo.lock) is there or in its `library` subdirectory; point it at rust-src's `library` directory",
                dir.display()
            ),
        },
        None => {
            let dir = rustc.sysroot.join("lib/rustlib/src/rust/library");
            if !dir.join("Cargo.toml").is_file() {
                user_bail!(
                    "rust-src is not installed for {} (no {}); run `rustup component add rust-src` or pass --rust-src DIR",
                    rustc.path.display(),
                    dir.display()
                );
            }
            Ok(dir)
        }
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// `dir` itself when it is the library workspace, or `dir/library`
/// (rust-src's `rust` directory), or `dir/../library` (Xargo's old
/// `XARGO_RUST_SRC=…/src` convention).
fn library_in(dir: &Path) -> Option<PathBuf> {
    let is_ws = |d: &Path| {
        d.join("Cargo.lock").is_file()
            && std::fs::read_to_string(d.join("Cargo.toml"))
                .is_ok_and(|t| t.contains("[workspace]"))
    };
    [
        dir.to_path_buf(),
        dir.join("library"),
        dir.join("../library"),
    ]
    .into_iter()
    .find(|d| is_ws(d))
}

pub fn cargo_home() -> PathBuf {
    env_path("CARGO_HOME").unwrap_or_else(|| {
        env_path("HOME")
            .map(|h| h.join(".cargo"))
            .unwrap_or_else(|| PathBuf::from(".cargo"))
    })
}

pub fn registry_sources(opts: &SourceOptions) -> RegistrySources {
    match &opts.vendor {
        Some(v) => RegistrySources::Vendor(absolute(v)),
        None => RegistrySources::CargoHome(cargo_home()),
    }
}
