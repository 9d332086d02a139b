//! Finding the inputs: the compiler, the library sources, and where the
//! registry packages std depends on live.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::toolchain::target::Rustc;
use crate::user_bail;

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

/// The `tool` (`rustc`, `cargo`) of the rustup toolchain `name`: what
/// `+name` selects.
pub fn rustup_tool(name: &str, tool: &str) -> Result<PathBuf> {
    // A toolchain name is never an option of rustup's, nor more than a
    // line: rustup's own names are letters, digits and `._-+`, and a
    // linked one is a word.
    let plain = !name.is_empty()
        && !name.starts_with('-')
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-+/@".contains(c));
    if !plain {
        user_bail!(
            "`+{}` is not a toolchain name (letters, digits and `._-` after the `+`, as rustup names them); see `rustup toolchain list`",
            name.escape_debug()
        );
    }
    let out = std::process::Command::new("rustup")
        .arg("which")
        .arg(format!("--toolchain={name}"))
        .arg(tool)
        .env("RUST_BACKTRACE", "0")
        .output()
        .map_err(|e| {
            crate::user_err!(
                "`+{name}` names a rustup toolchain, but rustup cannot be run ({e}); install rustup, or drop `+{name}` and set RUSTC to the compiler"
            )
        })?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || path.is_empty() {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let why = why.trim().trim_start_matches("error: ");
        user_bail!(
            "rustup has no {tool} for the toolchain `+{name}` ({why}); install it with `rustup toolchain install {name}`, or link one with `rustup toolchain link {name} DIR`"
        );
    }
    Ok(PathBuf::from(path))
}

/// The rust-src directory the user named: `--rust-src`, `SYSGEN_RUST_SRC`,
/// `XARGO_RUST_SRC` (with the name of where it came from), or `None` for
/// the compiler's own component. Which layout it holds is the library
/// stage's business (`library::layout`).
pub fn given_rust_src(opts: &SourceOptions) -> Option<(PathBuf, &'static str)> {
    opts.rust_src
        .clone()
        .map(|p| (p, "--rust-src"))
        .or_else(|| env_path("SYSGEN_RUST_SRC").map(|p| (p, "SYSGEN_RUST_SRC")))
        .or_else(|| env_path("XARGO_RUST_SRC").map(|p| (p, "XARGO_RUST_SRC")))
}

/// What version of Rust a library directory comes from, where that can be
/// known: the rust-src component of a rustup toolchain (its channel
/// manifest: `1.95.0 (59807616e 2026-04-14)`), or a rust-lang/rust
/// checkout (`src/version`: `1.97.0`). A copied `library/` says nothing.
pub fn library_version(library: &Path) -> Option<(String, PathBuf)> {
    // <toolchain>/lib/rustlib/src/rust/library
    let rustlib = library.parent()?.parent()?.parent()?;
    let manifest = rustlib.join("multirust-channel-manifest.toml");
    if let Ok(text) = std::fs::read_to_string(&manifest) {
        let t: toml::Table = text.parse().ok()?;
        let v = t.get("pkg")?.get("rust-src")?.get("version")?.as_str()?;
        return Some((v.to_string(), manifest));
    }
    let file = library.parent()?.join("src/version");
    let v = std::fs::read_to_string(&file).ok()?;
    Some((v.trim().to_string(), file))
}

/// rust-src of another Rust than the compiler fails with dozens of compiler
/// errors (whose remapped paths even name the compiler's version): refuse
/// it up front where the versions are known.
pub fn check_version(library: &Path, rustc: &Rustc) -> Result<()> {
    let Some((version, file)) = library_version(library) else {
        return Ok(());
    };
    // `1.95.0 (59807616e 2026-04-14)` or `1.97.0`; the compiler says
    // `release: 1.97.0-nightly` and `commit-hash: 59807616e1fa…`.
    let mut words = version.split_whitespace();
    let number = words.next().unwrap_or("");
    let commit = words.next().map(|c| c.trim_start_matches('('));
    let release_number = rustc.release.split('-').next().unwrap_or("");
    let numbers_differ = number.split('-').next() != Some(release_number);
    let commits_differ = match (commit, &rustc.commit_hash) {
        (Some(c), Some(h)) => !h.starts_with(c),
        _ => false,
    };
    if numbers_differ || commits_differ {
        user_bail!(
            "the rust-src at {} is from Rust {version} (says {}), but the compiler {} is {}; use the rust-src of that compiler (`rustup component add rust-src`) or pass --rustc of the matching toolchain",
            library.display(),
            file.display(),
            rustc.path.display(),
            rustc.version
        );
    }
    Ok(())
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The Cargo home, resolved as cargo resolves it: `$CARGO_HOME` (a relative
/// one against the working directory), else `~/.cargo`, where `~` comes
/// from `$HOME` or, without it, the user database. Absolute, so a build
/// file that names it works from any directory.
pub fn cargo_home() -> Result<PathBuf> {
    let home = home::cargo_home().map_err(|e| {
        crate::user_err!("cannot find the Cargo home ({e}); set CARGO_HOME, or pass --vendor DIR")
    })?;
    Ok(absolute(&home))
}

/// Where registry package sources are looked up.
#[derive(Debug, Clone)]
pub enum RegistrySources {
    /// A `cargo vendor` directory.
    Vendor(PathBuf),
    /// `$CARGO_HOME/registry/src/*/`.
    CargoHome(PathBuf),
}

/// The registry sources: `--vendor DIR`, `SYSGEN_VENDOR`, else the Cargo
/// home's registry source cache.
pub fn registry_sources(opts: &SourceOptions) -> Result<RegistrySources> {
    Ok(
        match opts.vendor.clone().or_else(|| env_path("SYSGEN_VENDOR")) {
            Some(v) => RegistrySources::Vendor(absolute(&v)),
            None => RegistrySources::CargoHome(cargo_home()?),
        },
    )
}
