//! Where rust-src keeps the standard library's workspace. Releases moved it
//! (the compiler's lockfile at rust-src's root with a workspace cargo made
//! up in memory, then `library/Cargo.toml` and `library/Cargo.lock`);
//! `rules/layouts.toml` lists the layouts cargo read, and a layout is
//! recognized by its files, never by a version number.
//!
//! Everything later reads an [`StdSource`]: the `library` directory (every
//! library path is relative to it, and it is what rustc's paths are
//! remapped from), the lockfile, and the workspace — a manifest on disk,
//! or the members and `[patch]` the layout's rules state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::library::rules::{LayoutRule, Layouts};
use crate::toolchain::locate::{self, SourceOptions};
use crate::toolchain::target::Rustc;
use crate::user_bail;

/// The standard library's sources as one layout lays them out.
#[derive(Debug, Clone)]
pub struct StdSource {
    /// rust-src's `library` directory.
    pub library: PathBuf,
    /// The layout's name, for messages.
    pub layout: String,
    /// The workspace manifest, when the layout has one on disk.
    pub manifest: Option<PathBuf>,
    pub lockfile: PathBuf,
    /// Without a manifest: the workspace cargo made up (absolute paths).
    pub synthesized: Option<Synthesized>,
    /// Whether cargo fetches this lockfile with `--locked`.
    pub fetch_locked: bool,
}

/// A workspace with no manifest: what cargo of that release built in
/// memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Synthesized {
    pub members: Vec<PathBuf>,
    /// The package cargo made current (command-line features apply to it).
    pub current: Option<PathBuf>,
    /// `[patch.crates-io]`: package → directory.
    pub patch: BTreeMap<String, PathBuf>,
}

impl StdSource {
    /// The layout of the `library` directory `library`, whatever the
    /// compiler (no version check): for tools and tests that hold the
    /// directory itself.
    pub fn at(library: &Path) -> Result<StdSource> {
        let rules = crate::library::rules::Rules::layouts()?;
        match detect(library, &rules) {
            Found::Layout(src) => Ok(src),
            Found::TooOld(rule) => too_old(library, &rule, &rules),
            Found::Nothing => user_bail!(
                "{} is not rust-src's `library` directory in any layout sysgen knows; point at rust-src's `library` directory",
                library.display()
            ),
        }
    }

    /// Every file that decides the workspace (the regeneration's inputs).
    pub fn files(&self) -> Vec<PathBuf> {
        self.manifest
            .iter()
            .chain(std::iter::once(&self.lockfile))
            .cloned()
            .collect()
    }
}

enum Found {
    Layout(StdSource),
    /// A layout older than any sysgen reads.
    TooOld(LayoutRule),
    Nothing,
}

/// The layout of the `library` directory `library`.
fn detect(library: &Path, rules: &Layouts) -> Found {
    let at = |f: &str| crate::base::fsx::normalize(&library.join(f));
    if !library.join("core/Cargo.toml").is_file() {
        return Found::Nothing;
    }
    let Some(rule) = rules
        .layouts
        .iter()
        .find(|l| l.detect.iter().all(|f| at(f).is_file()))
    else {
        return Found::Nothing;
    };
    if !rule.supported {
        return Found::TooOld(rule.clone());
    }
    let manifest = rule.manifest.as_deref().map(at);
    if let Some(m) = &manifest {
        // A manifest of the layout must hold the workspace.
        if !std::fs::read_to_string(m).is_ok_and(|t| t.contains("[workspace]")) {
            return Found::Nothing;
        }
    }
    let synthesized = rule.workspace.as_ref().map(|w| Synthesized {
        members: w.members.iter().map(|m| at(m)).collect(),
        current: w.current.as_deref().map(at),
        patch: w.patch.iter().map(|(k, v)| (k.clone(), at(v))).collect(),
    });
    Found::Layout(StdSource {
        library: library.to_path_buf(),
        layout: rule.name.clone(),
        manifest,
        lockfile: at(&rule.lockfile),
        synthesized,
        fetch_locked: rule.fetch_locked,
    })
}

/// Whether `d` is rust-src's `library` directory, in any layout sysgen
/// knows (supported or not).
pub fn is_library(d: &Path) -> bool {
    crate::library::rules::Rules::layouts()
        .is_ok_and(|rules| !matches!(detect(d, &rules), Found::Nothing))
}

/// The standard library's sources: `--rust-src`, `SYSGEN_RUST_SRC`,
/// `XARGO_RUST_SRC`, then the compiler's own rust-src component. A given
/// directory may be `library` itself, rust-src's `rust` directory above
/// it, or (Xargo's old convention) a sibling such as `…/rust/src`.
pub fn find(opts: &SourceOptions, rustc: &Rustc) -> Result<StdSource> {
    let rules = crate::library::rules::Rules::layouts()?;
    match locate::given_rust_src(opts) {
        Some((dir, from)) => {
            let candidates = [dir.clone(), dir.join("library"), dir.join("../library")];
            for c in candidates {
                let c = crate::base::fsx::normalize(&std::path::absolute(&c).unwrap_or(c));
                match detect(&c, &rules) {
                    Found::Nothing => continue,
                    Found::TooOld(rule) => too_old(&c, &rule, &rules)?,
                    Found::Layout(src) => {
                        locate::check_version(&src.library, rustc)?;
                        return Ok(src);
                    }
                }
            }
            user_bail!(
                "{from} is {} but no standard library is there or in its `library` subdirectory (no library/Cargo.toml with [workspace], nor a Cargo.lock beside library/); point it at rust-src's `library` directory",
                dir.display()
            )
        }
        None => {
            let dir = rustc.sysroot.join("lib/rustlib/src/rust/library");
            if !dir.join("core/Cargo.toml").is_file() {
                user_bail!(
                    "rust-src is not installed for {} (no {}); run `rustup component add rust-src` or pass --rust-src DIR",
                    rustc.path.display(),
                    dir.join("core/Cargo.toml").display()
                );
            }
            match detect(&dir, &rules) {
                Found::Layout(src) => Ok(src),
                Found::TooOld(rule) => too_old(&dir, &rule, &rules),
                Found::Nothing => user_bail!(
                    "the rust-src of {} at {} is laid out in no way sysgen knows (neither library/Cargo.toml with library/Cargo.lock nor a Cargo.lock beside library/); reinstall it with `rustup component add rust-src`, or pass --rust-src DIR",
                    rustc.path.display(),
                    dir.display()
                ),
            }
        }
    }
}

fn too_old<T>(library: &Path, rule: &LayoutRule, rules: &Layouts) -> Result<T> {
    let version = locate::library_version(library)
        .map(|(v, _)| format!("Rust {v}"))
        .unwrap_or_else(|| format!("Rust {}", rule.rust));
    user_bail!(
        "the rust-src at {} is from {version}, older than any sysgen reads (its library is {}); use a toolchain from Rust {} on (`rustup toolchain install {}`)",
        library.display(),
        rule.name,
        rules.oldest_tested,
        rules.oldest_tested
    )
}
