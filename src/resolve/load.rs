//! Loading: from the command line's choices to the unit graph. Finds the
//! config and the project, the compiler and rust-src, probes the targets,
//! reads the workspace, resolves, builds the graph and checks the registry
//! sources it names. Nothing is written here.

use anyhow::Result;

use crate::base::{fingerprint, fsx};
use crate::config::{self, project};
use crate::library::profile::PanicStrategy;
use crate::library::rules::Rules;
use crate::library::{profile, workspace};
use crate::resolve::graph;
use crate::toolchain::{locate, target};
use crate::user_bail;

/// Everything needed to compute a graph: the command line's choices.
/// `None` means "not given": the config, the project, or the default decides.
#[derive(Debug, Clone, Default)]
pub struct GraphOptions {
    pub sources: locate::SourceOptions,
    /// Triples or spec files; empty means the config's, else the host.
    pub targets: Vec<String>,
    /// `--crates`: replaces the config's `[dependencies]`.
    pub crates: Option<Vec<String>>,
    /// `--features`.
    pub features: Option<Vec<String>>,
    /// `--panic`; else the config's, the project's profile's, or unwind.
    pub panic: Option<PanicStrategy>,
    /// `--config FILE`; otherwise sysgen.toml / Xargo.toml is searched from
    /// the working directory up.
    pub config: Option<std::path::PathBuf>,
    /// `--no-config`: ignore any sysgen.toml / Xargo.toml.
    pub no_config: bool,
    /// `--profile`; else the config's `[sysgen] profile`, else release.
    pub profile: Option<String>,
    /// The user's project (`sysgen cargo`: the directory of its
    /// Cargo.toml): the config is searched from there, and its profiles and
    /// `.cargo/config.toml` apply even without a config.
    pub project_dir: Option<std::path::PathBuf>,
    /// A test harness links against the sysroot: add `test` where std is.
    pub test_harness: bool,
    /// `--for NAME`: the sysroot is compiled by that tool's driver
    /// (rules/drivers.toml), for that tool.
    pub driver: Option<String>,
}

/// A graph and the user configuration it was made from.
pub struct Loaded {
    pub graph: graph::BuildGraph,
    pub config: Option<config::Config>,
    pub project: project::Project,
    /// The profile, resolved once (command line, config, release; the panic
    /// strategy from the command line, config, the project's profile) and
    /// checked.
    pub profile: profile::Profiles,
    /// `--features`, as given.
    pub features: Option<Vec<String>>,
}

/// Find the inputs, probe the targets, read the workspace and the user's
/// configuration, resolve, build the graph, check the registry sources.
pub fn load(opts: &GraphOptions, rules: &Rules) -> Result<Loaded> {
    let mut fp = fingerprint::Fingerprints::open()?;
    let loaded = load_with(opts, rules, &mut fp)?;
    fp.save();
    Ok(loaded)
}

/// [`load`] with the caller's fingerprint cache (read once per process).
pub fn load_with(
    opts: &GraphOptions,
    rules: &Rules,
    fp: &mut fingerprint::Fingerprints,
) -> Result<Loaded> {
    let start = match &opts.project_dir {
        Some(d) => d.clone(),
        None => fsx::current_dir()?,
    };
    let mut config = if opts.no_config {
        None
    } else {
        config::Config::find(opts.config.as_deref(), &start)?
    };
    if let Some(c) = &mut config {
        c.check_out_git_sources()?;
    }
    let project = match (&config, &opts.project_dir) {
        (Some(c), _) => project::Project::load(c.project_dir())?,
        (None, Some(d)) => project::Project::load(d)?,
        (None, None) => project::Project::default(),
    };
    let mut rustc = locate::find_rustc(&opts.sources)?;
    if let Some(name) = &opts.driver {
        let d = rules.driver(name)?;
        rustc.driver = Some(target::Driver::find(
            &rustc,
            name,
            &d.binary,
            &d.component,
            &d.version_args,
            d.target_env.clone().into_iter().collect(),
        )?);
    }
    let std_source = crate::library::layout::find(&opts.sources, &rustc)?;
    let mut targets = Vec::new();
    let host_only = vec![rustc.host.clone()];
    let from_config = config.as_ref().map(|c| c.targets()).unwrap_or_default();
    let wanted: &[String] = if !opts.targets.is_empty() {
        &opts.targets
    } else if !from_config.is_empty() {
        &from_config
    } else {
        &host_only
    };
    for t in wanted {
        let probed = target::Target::probe(&rustc, t)?;
        if targets
            .iter()
            .any(|x: &target::Target| x.name == probed.name)
        {
            user_bail!(
                "target `{}` is given twice; give each --target once",
                probed.name
            );
        }
        targets.push(probed);
    }
    // Build scripts are compiled as plain rustc compiles them, even
    // when a driver compiles the host's sysroot.
    let host = match targets
        .iter()
        .find(|t| t.name == rustc.host && t.spec_file().is_none())
        .filter(|_| rustc.driver.is_none())
    {
        Some(t) => t.clone(),
        None => target::Target::probe_host(&rustc)?,
    };
    let mut ws = workspace::Workspace::load(&std_source, locate::registry_sources(&opts.sources)?)?;
    if let Some(c) = &config {
        for (name, src) in &c.patches {
            if let config::CrateSource::Path(dir) = src {
                ws.patch_with(name, dir);
            }
        }
        ws.inputs.insert(c.path.clone());
    }
    if let Some(p) = &project.profiles {
        // The project's profiles over the library's, as Xargo passed them
        // to every stage's cargo build.
        for (name, prof) in &p.0 {
            ws.profiles.0.entry(name.clone()).or_default().merge(prof);
        }
    }
    ws.inputs.extend(project.inputs.iter().cloned());
    let config_profile = config.as_ref().and_then(|c| c.sysgen.profile.as_ref());
    let name = opts
        .profile
        .as_ref()
        .or(config_profile)
        .map_or("release", String::as_str);
    let panic = match (opts.panic, config.as_ref().and_then(|c| c.sysgen.panic)) {
        (Some(p), _) | (None, Some(p)) => p,
        (None, None) => project.panic(name)?.unwrap_or_default(),
    };
    let profile = match profile::Profiles::new(&ws.profiles, name, panic) {
        // The config's choice is named with its file.
        Err(e) if opts.profile.is_none() && config_profile.is_some() => {
            let path = config.as_ref().map(|c| c.path.display().to_string());
            user_bail!("{}: [sysgen] profile: {e}", path.unwrap_or_default());
        }
        r => r?,
    };
    let request = graph::Request {
        crates: opts.crates.clone(),
        features: opts.features.clone(),
        panic,
        config: config.clone(),
        test_harness: opts.test_harness,
    };
    let mut graph = graph::BuildGraph::build(ws, rustc, targets, host, rules, &request)?;
    // Nothing is written, and nothing compiled, from unchecked sources.
    let packages: std::collections::BTreeSet<_> =
        graph.graph.node_weights().map(|u| u.pkg).collect();
    let checked = crate::library::verify::registry_sources(&graph.ws, packages, fp)?;
    graph.ws.inputs.extend(checked);
    // Every path that reaches a build file or rustc's arguments is UTF-8:
    // the roots first (the message names what the user gave), then every
    // file generation read.
    let g = &graph;
    let mut roots = vec![
        ("the compiler", g.rustc.compiler()),
        ("the compiler's sysroot", g.rustc.sysroot.as_path()),
        ("rust-src's library directory", g.ws.root.as_path()),
    ];
    match &g.ws.registry {
        workspace::RegistrySources::Vendor(d) => roots.push(("the vendor directory", d)),
        workspace::RegistrySources::CargoHome(d) => roots.push(("the Cargo home", d)),
    }
    if let Some(c) = &config {
        roots.push(("the config", c.path.as_path()));
    }
    for t in &g.targets {
        if let Some(f) = t.spec_file() {
            roots.push(("the target spec", f));
        }
    }
    for (what, p) in roots {
        fsx::require_nameable(what, p)?;
    }
    for p in &g.ws.inputs {
        fsx::require_nameable("a file sysgen read,", p)?;
    }
    Ok(Loaded {
        graph,
        config,
        project,
        profile,
        features: opts.features.clone(),
    })
}
