//! The command line of a regeneration rule: the options this run was given,
//! written back as the flags `cli::args` declares, with what was found
//! (rust-src, rustc, registry sources, config) pinned. Only what the
//! command line chose is pinned; the config and the project's files are
//! read again, so editing them takes effect.

use crate::emit::generate::{BuildOptions, Regen};
use crate::library::workspace;
use crate::model::declare;
use crate::resolve::load::{GraphOptions, Loaded};

/// The command that regenerates the same build file, as the environment
/// and arguments of `sysgen <subcommand>`; the emitter adds `--out-dir`.
pub fn to_args(
    subcommand: &str,
    opts: &GraphOptions,
    build: &BuildOptions,
    loaded: &Loaded,
) -> Regen {
    let g = &loaded.graph;
    let mut args: Vec<String> = vec![subcommand.into()];
    args.extend(["--rust-src".into(), g.ws.root.display().to_string()]);
    args.extend(["--rustc".into(), g.rustc.path.display().to_string()]);
    if let workspace::RegistrySources::Vendor(v) = &g.ws.registry {
        args.extend(["--vendor".into(), v.display().to_string()]);
    }
    if let Some(d) = &g.rustc.driver {
        args.push(format!("--for={}", d.name));
    }
    // Targets from the command line are pinned; the config's are read again.
    if !opts.targets.is_empty() {
        for t in &g.targets {
            args.extend(["--target".into(), t.kind.rustc_arg()]);
        }
    }
    if let Some(c) = &opts.crates {
        args.push(format!("--crates={}", c.join(",")));
    }
    if let Some(f) = &opts.features {
        args.push(format!("--features={}", f.join(",")));
    }
    // Only what the command line chose is pinned: the config and the
    // project's files are read again, so editing them takes effect.
    if let Some(p) = opts.panic {
        args.push(format!("--panic={p}"));
    }
    if let Some(p) = &opts.profile {
        args.push(format!("--profile={p}"));
    }
    match &loaded.config {
        Some(c) => args.extend(["--config".into(), c.path.display().to_string()]),
        None => args.push("--no-config".into()),
    }
    if build.model.check {
        args.push("--check".into());
    }
    if build.model.env_rustflags_set {
        args.push("--ignore-config-rustflags".into());
    }
    if build.model.objects {
        args.push("--objects".into());
    }
    args.push(format!(
        "--frontend-threads={}",
        build
            .model
            .frontend_threads
            .unwrap_or_else(|| declare::default_frontend_threads(g.targets.len()))
    ));
    if !build.pipeline {
        args.push("--no-pipeline".into());
    }
    if build.model.nondeterministic_frontend {
        args.push("--nondeterministic-frontend".into());
    }
    // Pinned, empty for none: RUSTC_WRAPPER is not read again.
    args.push(format!(
        "--rustc-wrapper={}",
        build.rustc_wrapper.as_deref().unwrap_or("")
    ));
    args.push("--no-env-rustflags".into());
    for f in &build.model.rustflags {
        args.push(format!("--rustflag={f}"));
    }
    // The Cargo home as this run resolved it (a relative CARGO_HOME means
    // another directory inside ninja's working directory); it also locates
    // the Cargo home's config.toml.
    let mut env = Vec::new();
    if let workspace::RegistrySources::CargoHome(h) = &g.ws.registry {
        env.push(("CARGO_HOME".to_string(), h.display().to_string()));
    }
    // Custom targets found by name are found in the same files again, not
    // in the output directory ninja regenerates from.
    let dirs: Vec<&std::path::Path> = g
        .targets
        .iter()
        .filter_map(|t| t.kind.target_path())
        .collect();
    if !dirs.is_empty() {
        let joined = std::env::join_paths(&dirs).unwrap_or_default();
        env.push((
            "RUST_TARGET_PATH".to_string(),
            joined.to_string_lossy().into_owned(),
        ));
    }
    Regen {
        env: env.into_iter().map(|(k, v)| (k, v.into())).collect(),
        args: args.into_iter().map(Into::into).collect(),
    }
}
