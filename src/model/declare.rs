//! From a loaded graph to the crate model: the flags that shape every
//! crate's rustc call beyond the selection, and their precedence.

use anyhow::Result;

use crate::config::rustflags;
use crate::library::rules::Rules;
use crate::model::Model;
use crate::resolve::load::{GraphOptions, Loaded, load};

/// What shapes the crates' rustc calls beyond the selection.
#[derive(Debug, Clone, Default)]
pub struct ModelFlags {
    /// From the environment and the command line, for every sysroot crate.
    pub rustflags: Vec<String>,
    /// `-Zthreads` for the crates that rules/rustc.toml marks; `None` means
    /// [`default_frontend_threads`] for the build's targets.
    pub frontend_threads: Option<usize>,
    /// `--nondeterministic-frontend`: the parallel front end also for the
    /// crates whose output it makes differ from run to run.
    pub nondeterministic_frontend: bool,
    /// `--check`: metadata-only sysroot (what xargo-check gave Miri).
    pub check: bool,
    /// Whether RUSTFLAGS / CARGO_ENCODED_RUSTFLAGS were set (they replace
    /// the project's .cargo/config.toml rustflags, as in cargo).
    pub env_rustflags_set: bool,
    /// List every crate's source files (for emitters that need them).
    pub sources: bool,
    /// `--objects`: each sysroot crate also as one object file.
    pub objects: bool,
}

/// The default `-Zthreads` for a build of `targets` targets: the cores
/// shared out between the targets' chains of front ends, at most 8 (past
/// that, rustc's parallel front end stops paying). With as many targets as
/// cores, every core already has a front end to run, and the parallel front
/// end would only cost CPU (+2 s of core's 11 s on thumbv6m,
/// BENCHMARKS.md).
pub fn default_frontend_threads(targets: usize) -> usize {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    (cores / targets.max(1)).clamp(1, 8)
}

/// The graph and the crate declarations of `opts` (what every emitter and
/// report starts from).
pub fn load_declared(opts: &GraphOptions, flags: &ModelFlags) -> Result<(Loaded, Model)> {
    let rules = Rules::load()?;
    let loaded = load(opts, &rules)?;
    let model = declare(&loaded, &rules, flags)?;
    Ok((loaded, model))
}

/// The crate declarations of a loaded graph.
pub fn declare(loaded: &Loaded, rules: &Rules, flags: &ModelFlags) -> Result<Model> {
    let g = &loaded.graph;
    // Per target, as cargo orders them: the project's config rustflags
    // (unless RUSTFLAGS is set), sysgen.toml's, then RUSTFLAGS/--rustflags.
    let mut target_rustflags = std::collections::BTreeMap::new();
    for t in &g.targets {
        let f = rustflags::for_sysroot(
            loaded.project.rustflags_for(t),
            loaded
                .config
                .as_ref()
                .and_then(|c| c.sysgen.rustflags.as_deref()),
            &flags.rustflags,
            flags.env_rustflags_set,
        );
        target_rustflags.insert(t.name.clone(), f);
    }
    crate::model::build(
        g,
        rules,
        &crate::model::ModelOptions {
            profile: loaded.profile.clone(),
            rustflags: target_rustflags,
            check: flags.check,
            frontend_threads: flags
                .frontend_threads
                .unwrap_or_else(|| default_frontend_threads(g.targets.len())),
            nondeterministic_frontend: flags.nondeterministic_frontend,
            sources: flags.sources,
            objects: flags.objects,
        },
    )
}
