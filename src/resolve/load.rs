//! The driver: from the command line's options to a written build file.
//!
//! [`load`] finds the config and the project, the compiler and rust-src,
//! probes the targets, reads the workspace and builds the graph; then
//! [`generate_ninja`] turns the graph into crate declarations
//! ([`crate::model`]), lowers them for Ninja ([`crate::lower`]), renders the
//! file and commits it to the output directory ([`crate::emit::outdir`]).
//! Nothing is written until everything has been computed.

use anyhow::Result;

use crate::base::fsx;
use crate::config::{self, project};
use crate::emit::{self, outdir};
use crate::library::panic as options;
use crate::library::rules::Rules;
use crate::library::{profile, rules, workspace};
use crate::resolve::graph;
use crate::toolchain::{locate as source, target};
use crate::{lower, model, store, user_bail, user_err};

/// Everything needed to compute a graph: the command line's choices.
/// `None` means "not given": the config, the project, or the default decides.
#[derive(Debug, Clone, Default)]
pub struct GraphOptions {
    pub sources: source::SourceOptions,
    /// Triples or spec files; empty means the config's, else the host.
    pub targets: Vec<String>,
    /// `--crates`: replaces the config's `[dependencies]`.
    pub crates: Option<Vec<String>>,
    /// `--features`.
    pub features: Option<Vec<String>>,
    /// `--panic`; else the config's, the project's profile's, or unwind.
    pub panic: Option<options::PanicStrategy>,
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
}

/// A graph and the user configuration it was made from.
pub struct Loaded {
    pub graph: graph::BuildGraph,
    pub config: Option<config::Config>,
    pub project: project::Project,
    /// The profile, resolved (command line, config, release) and valid.
    pub profile: String,
    /// `--features`, as given.
    pub features: Option<Vec<String>>,
}

/// Find the inputs, probe the targets, read the workspace, resolve, build the graph.
pub fn load_graph(opts: &GraphOptions) -> Result<graph::BuildGraph> {
    Ok(load(opts, &rules::Rules::load()?)?.graph)
}

/// Find the inputs, probe the targets, read the workspace and the user's
/// configuration, resolve, build the graph, check the registry sources.
pub fn load(opts: &GraphOptions, rules: &Rules) -> Result<Loaded> {
    let mut fp = crate::base::fingerprint::Fingerprints::open();
    let loaded = load_with(opts, rules, &mut fp)?;
    fp.save();
    Ok(loaded)
}

/// The graph and the crate declarations of `opts` (what every emitter and
/// report starts from).
pub fn load_declared(opts: &GraphOptions, flags: &ModelFlags) -> Result<(Loaded, model::Model)> {
    let rules = Rules::load()?;
    let loaded = load(opts, &rules)?;
    let model = declare(&loaded, &rules, flags)?;
    Ok((loaded, model))
}

/// [`load`] with the caller's fingerprint cache (read once per process).
fn load_with(
    opts: &GraphOptions,
    rules: &Rules,
    fp: &mut crate::base::fingerprint::Fingerprints,
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
    let rustc = source::find_rustc(&opts.sources)?;
    let library = source::find_library(&opts.sources, &rustc)?;
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
    let host = match targets
        .iter()
        .find(|t| t.name == rustc.host && t.spec_file.is_none())
    {
        Some(t) => t.clone(),
        None => target::Target::probe(&rustc, &rustc.host.clone())?,
    };
    let mut ws = workspace::Workspace::load(&library, source::registry_sources(&opts.sources)?)?;
    let mut request = graph::Request {
        crates: opts.crates.clone(),
        features: opts.features.clone(),
        panic: options::PanicStrategy::Unwind,
        config: None,
        test_harness: opts.test_harness,
    };
    if let Some(c) = &config {
        for (name, src) in &c.patches {
            if let config::CrateSource::Path(dir) = src {
                ws.patch_with(name, dir);
            }
        }
        ws.inputs.insert(c.path.clone());
        request.config = Some(c.clone());
    }
    if let Some(p) = &project.profiles {
        // The project's profiles over the library's, as Xargo passed them
        // to every stage's cargo build.
        for (name, prof) in &p.0 {
            ws.profiles.0.entry(name.clone()).or_default().merge(prof);
        }
    }
    ws.inputs.extend(project.inputs.iter().cloned());
    let profile = match (
        &opts.profile,
        config.as_ref().and_then(|c| c.sysgen.profile.as_ref()),
    ) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => {
            // Checked here, where the file can be named.
            if let Err(e) = profile::Profiles::new(&ws.profiles, p) {
                let path = config.as_ref().map(|c| c.path.display().to_string());
                user_bail!("{}: [sysgen] profile: {e}", path.unwrap_or_default());
            }
            p.clone()
        }
        (None, None) => "release".to_string(),
    };
    profile::Profiles::new(&ws.profiles, &profile)?;
    request.panic = match (opts.panic, config.as_ref().and_then(|c| c.sysgen.panic)) {
        (Some(p), _) | (None, Some(p)) => p,
        (None, None) => project
            .panic(&profile)?
            .unwrap_or(options::PanicStrategy::Unwind),
    };
    let mut graph = graph::BuildGraph::build(ws, rustc, targets, host, rules, &request)?;
    // Nothing is written, and nothing compiled, from unchecked sources.
    let packages: std::collections::BTreeSet<_> =
        graph.graph.node_weights().map(|u| u.pkg).collect();
    let checked = crate::library::verify::registry_sources(&graph.ws, packages, fp)?;
    graph.ws.inputs.extend(checked);
    Ok(Loaded {
        graph,
        config,
        project,
        profile,
        features: opts.features.clone(),
    })
}

/// What shapes the crates' rustc calls beyond the selection.
#[derive(Debug, Clone, Default)]
pub struct ModelFlags {
    /// From the environment and the command line, for every sysroot crate.
    pub rustflags: Vec<String>,
    /// `-Zthreads` for the crates that rules/rustc.toml marks; `None` means
    /// this machine's available parallelism.
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

/// How to build: where, and with which crate model.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub out_dir: std::path::PathBuf,
    /// Pipelined compilation (see `pipe.rs`); on unless `--no-pipeline`.
    pub pipeline: bool,
    pub model: ModelFlags,
    /// `--rustc-wrapper` / `RUSTC_WRAPPER` (Ninja builds).
    pub rustc_wrapper: Option<String>,
}

/// The default `-Zthreads`: one per core, at most 8 (past that, rustc's
/// parallel front end stops paying).
pub fn default_frontend_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8)
}

/// Flags from the environment, as cargo reads them: CARGO_ENCODED_RUSTFLAGS
/// (0x1f-separated) wins over RUSTFLAGS (space-separated).
pub fn env_rustflags() -> Vec<String> {
    if let Ok(enc) = std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        return enc
            .split('\u{1f}')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
    }
    std::env::var("RUSTFLAGS")
        .map(|f| f.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The command line that regenerates the same build.ninja.
/// The command that regenerates the same build file, as the environment
/// and arguments of `sysgen <subcommand>`; the emitter adds `--out-dir`.
fn regen_command(
    subcommand: &str,
    opts: &GraphOptions,
    build: &BuildOptions,
    loaded: &Loaded,
) -> (Vec<(String, lower::Word)>, Vec<lower::Word>) {
    let g = &loaded.graph;
    let mut args: Vec<String> = vec![subcommand.into()];
    args.extend(["--rust-src".into(), g.ws.root.display().to_string()]);
    args.extend(["--rustc".into(), g.rustc.path.display().to_string()]);
    if let workspace::RegistrySources::Vendor(v) = &g.ws.registry {
        args.extend(["--vendor".into(), v.display().to_string()]);
    }
    // Targets from the command line are pinned; the config's are read again.
    if !opts.targets.is_empty() {
        for t in &g.targets {
            args.extend(["--target".into(), t.arg.clone()]);
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
            .unwrap_or_else(default_frontend_threads)
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
    let env: Vec<(String, lower::Word)> = env.into_iter().map(|(k, v)| (k, v.into())).collect();
    let args: Vec<lower::Word> = args.into_iter().map(Into::into).collect();
    (env, args)
}

/// Every file generation read, and sysgen itself: a change to any
/// regenerates the build file.
fn regen_inputs(loaded: &Loaded, sysgen: &std::path::Path) -> Vec<std::path::PathBuf> {
    let g = &loaded.graph;
    let mut inputs: Vec<std::path::PathBuf> = g.ws.inputs.iter().cloned().collect();
    inputs.extend(g.targets.iter().filter_map(|t| t.spec_file.clone()));
    inputs.push(sysgen.to_path_buf());
    inputs
}

/// The crate declarations of a loaded graph.
pub fn declare(loaded: &Loaded, rules: &Rules, flags: &ModelFlags) -> Result<model::Model> {
    let g = &loaded.graph;
    // Per target, as cargo orders them: the project's config rustflags
    // (unless RUSTFLAGS is set), sysgen.toml's, then RUSTFLAGS/--rustflags.
    let mut target_rustflags = std::collections::BTreeMap::new();
    for t in &g.targets {
        let mut f = if flags.env_rustflags_set {
            Vec::new()
        } else {
            loaded.project.rustflags_for(t)
        };
        if let Some(c) = &loaded.config {
            f.extend(c.sysgen.rustflags.clone().unwrap_or_default());
        }
        f.extend(flags.rustflags.iter().cloned());
        target_rustflags.insert(t.name.clone(), f);
    }
    model::build(
        g,
        rules,
        &model::ModelOptions {
            profile: loaded.profile.clone(),
            panic: g.panic,
            rustflags: target_rustflags,
            check: flags.check,
            frontend_threads: flags
                .frontend_threads
                .unwrap_or_else(default_frontend_threads),
            nondeterministic_frontend: flags.nondeterministic_frontend,
            sources: flags.sources,
            objects: flags.objects,
        },
    )
}

/// Generate DIR/build.ninja (and the build-script specs it reads). Nothing
/// is written unless everything was computed.
pub fn generate_ninja(opts: &GraphOptions, build: &BuildOptions) -> Result<std::path::PathBuf> {
    let mut build = build.clone();
    let dir = outdir::OutDir::check(&build.out_dir, outdir::NINJA)?;
    build.out_dir = dir.path.clone();
    let (loaded, model) = load_declared(opts, &build.model)?;
    write_ninja(opts, &build, &loaded, &model, &dir)
}

/// Lower `model`, render build.ninja and commit it to `dir`.
fn write_ninja(
    opts: &GraphOptions,
    build: &BuildOptions,
    loaded: &Loaded,
    model: &model::Model,
    dir: &outdir::OutDir,
) -> Result<std::path::PathBuf> {
    let g = &loaded.graph;
    let sysgen = fsx::current_exe()?;
    let p = lower::lower(
        model,
        &lower::LowerOptions {
            out_dir: build.out_dir.clone(),
            check: build.model.check,
            sysgen: sysgen.clone(),
            pipeline: build.pipeline,
            runs_in_out_dir: true,
            rustc_wrapper: build.rustc_wrapper.clone(),
        },
    )?;
    let inputs = regen_inputs(loaded, &sysgen);
    let regen_inputs: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    // ninja regenerates from inside the output directory, wherever it is.
    let (env, mut args) = regen_command("ninja", opts, build, loaded);
    args.extend(["--out-dir".into(), ".".into()]);
    let meta = emit::ninja::NinjaMeta {
        version: env!("CARGO_PKG_VERSION").to_string(),
        rust_src: g.ws.root.display().to_string(),
        profile: loaded.profile.clone(),
        regen_cmd: emit::ninja::command_line(&env, &sysgen.display().to_string(), &args),
        regen_inputs,
    };
    let text = emit::ninja::to_string(&p, &meta)?;
    let mut files: Vec<(std::path::PathBuf, Vec<u8>)> = p
        .files
        .iter()
        .map(|(path, contents)| (path.clone(), contents.clone().into_bytes()))
        .collect();
    files.push(("build.ninja".into(), text.into_bytes()));
    files.push((
        crate::report::timings::ACTIONS.into(),
        crate::report::timings::action_infos(&p.actions).into_bytes(),
    ));
    for (target, text) in crate::report::provenance::manifests(loaded, model) {
        let rel = std::path::Path::new("sysroot/lib/rustlib").join(target);
        files.push((rel.join(crate::report::provenance::MANIFEST), text));
    }
    dir.commit(&files, &p.keep)?;
    let out = dir.join("build.ninja");
    fsx::touch_after(&out, &inputs)?;
    Ok(out)
}

/// Generate a Bazel repository in DIR (see [`emit::bazel`]).
pub fn generate_bazel(opts: &GraphOptions, build: &BuildOptions) -> Result<std::path::PathBuf> {
    let dir = outdir::OutDir::check(&build.out_dir, outdir::BAZEL)?;
    let flags = ModelFlags {
        sources: true,
        ..build.model.clone()
    };
    let (loaded, model) = load_declared(opts, &flags)?;
    let out = emit::bazel::generate(&model, &loaded.graph.rustc.sysroot, &fsx::current_exe()?)?;
    let mut files: Vec<(std::path::PathBuf, Vec<u8>)> = out
        .files
        .into_iter()
        .map(|(p, s)| (p, s.into_bytes()))
        .collect();
    for (target, text) in crate::report::provenance::manifests(&loaded, &model) {
        files.push((emit::bazel::manifest_file(&target).into(), text));
    }
    dir.commit(&files, &Default::default())?;
    Ok(dir.path.clone())
}

/// Generate DIR/sysgen.mk and DIR/Makefile (see [`emit::make`]).
pub fn generate_make(opts: &GraphOptions, build: &BuildOptions) -> Result<std::path::PathBuf> {
    let dir = outdir::OutDir::check(&build.out_dir, outdir::MAKE)?;
    emit::make::check_path("the output directory", &dir.path)?;
    let (loaded, model) = load_declared(opts, &build.model)?;
    for r in &model.roots {
        emit::make::check_path("the source directory", &r.path)?;
    }
    for t in &model.targets {
        if let Some(f) = &t.spec_file {
            emit::make::check_path("the target spec", f)?;
        }
    }
    let sysgen = fsx::current_exe()?;
    let p = lower::lower(
        &model,
        &lower::LowerOptions {
            out_dir: dir.path.clone(),
            check: build.model.check,
            sysgen: sysgen.clone(),
            pipeline: false,
            runs_in_out_dir: false,
            // Make's users set SYSGEN_RUSTC to `wrapper rustc` instead.
            rustc_wrapper: None,
        },
    )?;
    let inputs = regen_inputs(&loaded, &sysgen);
    let (env, args) = regen_command("make", opts, build, &loaded);
    let meta = emit::make::MakeMeta {
        version: env!("CARGO_PKG_VERSION").to_string(),
        rust_src: loaded.graph.ws.root.display().to_string(),
        rustc: model.rustc.clone(),
        sysgen: sysgen.clone(),
        regen_cmd: emit::ninja::command_line(&env, &sysgen.display().to_string(), &args),
        regen_inputs: inputs.iter().map(|p| p.display().to_string()).collect(),
    };
    let (fragment, makefile) = emit::make::to_strings(&model, &p, &meta)?;
    let mut files: Vec<(std::path::PathBuf, Vec<u8>)> = p
        .files
        .iter()
        .map(|(path, contents)| (path.clone(), contents.clone().into_bytes()))
        .collect();
    files.push(("sysgen.mk".into(), fragment.into_bytes()));
    files.push(("Makefile".into(), makefile.into_bytes()));
    for (target, text) in crate::report::provenance::manifests(&loaded, &model) {
        files.push((emit::make::manifest_source(&target).into(), text));
    }
    let mut keep = p.keep.clone();
    keep.insert(emit::make::CMD_DIR.into());
    dir.commit(&files, &keep)?;
    let out = dir.join("sysgen.mk");
    fsx::touch_after(&out, &inputs)?;
    Ok(dir.path.clone())
}

/// A sysroot from the store ([`crate::store`]): found, or built and
/// published.
pub struct Stored {
    pub entry: store::Entry,
    /// Whether this call built it (else it was reused).
    pub built: bool,
    pub summary: store::Summary,
    /// The targets, as probed.
    pub targets: Vec<target::Target>,
}

/// The store's sysroot for these options: reused when a published one was
/// built from the same declarations and the same file contents, else built
/// (in the family's build directory, under its lock) and published.
/// Progress goes to stderr: stdout may be cargo's.
pub fn sysroot_in_store(
    opts: &GraphOptions,
    flags: &ModelFlags,
    rustc_wrapper: Option<String>,
) -> Result<Stored> {
    // One fingerprint cache for the sources' check and the store's lookup.
    let mut fp = crate::base::fingerprint::Fingerprints::open();
    let rules = Rules::load()?;
    let loaded = load_with(opts, &rules, &mut fp)?;
    let model = declare(&loaded, &rules, flags)?;
    let family = store::Family::of(
        &model,
        &loaded.graph.rustc,
        &loaded.profile,
        loaded.graph.panic.as_str(),
        flags.check,
    )?;
    let roots = store::Roots::of(&model);
    let st = store::Store::open()?;
    let found = st.find(&family, &roots, &mut fp)?;
    let stored = |entry: store::Entry, built: bool| {
        entry.touch();
        Stored {
            entry,
            built,
            summary: family.summary.clone(),
            targets: loaded.graph.targets.clone(),
        }
    };
    if let Some(e) = found {
        fp.save();
        return Ok(stored(e, false));
    }
    let lock = st.lock(&family)?;
    // Another sysgen may have published it while this one waited.
    if let Some(e) = st.find(&family, &roots, &mut fp)? {
        fp.save();
        return Ok(stored(e, false));
    }
    let build = BuildOptions {
        out_dir: st.build_dir(&family),
        pipeline: true,
        model: flags.clone(),
        rustc_wrapper,
    };
    let dir = outdir::OutDir::check(&build.out_dir, outdir::NINJA)?;
    write_ninja(opts, &build, &loaded, &model, &dir)?;
    store::invalidate_changed(&dir.path, &mut fp)?;
    run_ninja_to(&dir.path, true)?;
    let files = store::files_read(&dir.path, &roots, &mut fp)?;
    let entry = st.publish(&family, &lock, &dir.path, files)?;
    fp.save();
    Ok(stored(entry, true))
}

/// Run ninja in `dir`, showing its progress.
pub fn run_ninja(dir: &std::path::Path) -> Result<()> {
    run_ninja_to(dir, false)
}

/// Run ninja in `dir`, its output on stderr when `to_stderr`.
fn run_ninja_to(dir: &std::path::Path, to_stderr: bool) -> Result<()> {
    let ninja = std::env::var_os("NINJA").unwrap_or_else(|| "ninja".into());
    let mut cmd = std::process::Command::new(&ninja);
    cmd.arg("-C").arg(dir);
    if to_stderr {
        cmd.stdout(std::io::stderr());
    }
    let status = cmd.status().map_err(|e| {
        user_err!("cannot run ninja ({e}); install it (`apt-get install ninja-build` or `pip install ninja`) or set NINJA")
    })?;
    if !status.success() {
        user_bail!("the build failed (ninja exited with {status}); see the output above");
    }
    Ok(())
}
