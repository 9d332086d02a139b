//! sysgen: a declarative build-graph generator for the Rust standard library.
//!
//! Data flow: [`source`] finds rustc and rust-src → [`workspace`] reads the
//! library workspace and lockfile → [`resolve`] computes features →
//! [`graph`] builds the unit DAG → [`emit`] renders a view of it.
//! See ARCHITECTURE.md.

pub mod cache;
pub mod emit;
pub mod error;
pub mod fetch;
pub mod graph;
pub mod manifest;
pub mod plan;
pub mod profile;
pub mod resolve;
pub mod rules;
pub mod runscript;
pub mod source;
pub mod target;
pub mod util;
pub mod workspace;

use anyhow::Result;

pub use error::UserError;

/// Everything needed to compute a graph.
#[derive(Debug, Clone)]
pub struct GraphOptions {
    pub sources: source::SourceOptions,
    /// Triples or spec files; empty means the host.
    pub targets: Vec<String>,
    pub request: graph::Request,
}

/// Find the inputs, probe the targets, read the workspace, resolve, build the graph.
pub fn load_graph(opts: &GraphOptions) -> Result<graph::BuildGraph> {
    load_graph_with(opts, &rules::Rules::load()?)
}

fn load_graph_with(opts: &GraphOptions, rules: &rules::Rules) -> Result<graph::BuildGraph> {
    let rustc = source::find_rustc(&opts.sources)?;
    let library = source::find_library(&opts.sources, &rustc)?;
    let mut targets = Vec::new();
    let host_only = [rustc.host.clone()];
    let wanted: &[String] = if opts.targets.is_empty() {
        &host_only
    } else {
        &opts.targets
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
    let ws = workspace::Workspace::load(&library, source::registry_sources(&opts.sources))?;
    graph::BuildGraph::build(ws, rustc, targets, host, rules, &opts.request)
}

/// How to build: where, with which profile and extra flags.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub out_dir: std::path::PathBuf,
    pub profile: String,
    pub rustflags: Vec<String>,
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
fn regen_command(
    opts: &GraphOptions,
    build: &BuildOptions,
    g: &graph::BuildGraph,
    sysgen: &std::path::Path,
) -> String {
    let mut args: Vec<String> = vec!["ninja".into()];
    args.extend(["--rust-src".into(), g.ws.root.display().to_string()]);
    args.extend(["--rustc".into(), g.rustc.path.display().to_string()]);
    if let workspace::RegistrySources::Vendor(v) = &g.ws.registry {
        args.extend(["--vendor".into(), v.display().to_string()]);
    }
    for t in &g.targets {
        args.extend(["--target".into(), t.arg.clone()]);
    }
    if let Some(c) = &opts.request.crates {
        args.push(format!("--crates={}", c.join(",")));
    }
    if let Some(f) = &opts.request.features {
        args.push(format!("--features={}", f.join(",")));
    }
    args.push(format!("--panic={}", opts.request.panic));
    args.push(format!("--profile={}", build.profile));
    args.extend(["--out-dir".into(), build.out_dir.display().to_string()]);
    args.push("--no-env-rustflags".into());
    for f in &build.rustflags {
        args.push(format!("--rustflag={f}"));
    }
    emit::ninja::command_line(&[], &sysgen.display().to_string(), &args)
}

/// Generate DIR/build.ninja (and the build-script specs it reads). Nothing
/// is written unless everything was computed.
pub fn generate_ninja(opts: &GraphOptions, build: &BuildOptions) -> Result<std::path::PathBuf> {
    let mut build = build.clone();
    std::fs::create_dir_all(&build.out_dir).map_err(|e| {
        user_err!(
            "cannot create output directory {}: {e}; choose another with -o DIR",
            build.out_dir.display()
        )
    })?;
    build.out_dir = std::fs::canonicalize(&build.out_dir)?;
    let rules = rules::Rules::load()?;
    let g = load_graph_with(opts, &rules)?;
    let sysgen = std::env::current_exe()?;
    let plan_opts = plan::PlanOptions {
        out_dir: build.out_dir.clone(),
        profile: build.profile.clone(),
        panic: opts.request.panic.clone(),
        rustflags: build.rustflags.clone(),
        sysgen: sysgen.clone(),
    };
    let p = plan::plan(&g, &rules, &plan_opts)?;
    let mut regen_inputs: Vec<String> =
        g.ws.inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect();
    regen_inputs.extend(
        g.targets
            .iter()
            .filter_map(|t| t.spec_file.as_ref())
            .map(|p| p.display().to_string()),
    );
    regen_inputs.push(sysgen.display().to_string());
    let meta = emit::ninja::NinjaMeta {
        version: env!("CARGO_PKG_VERSION").to_string(),
        rust_src: g.ws.root.display().to_string(),
        profile: build.profile.clone(),
        regen_cmd: regen_command(opts, &build, &g, &sysgen),
        regen_inputs,
    };
    let text = emit::ninja::to_string(&p, &meta)?;
    for (path, contents) in &p.files {
        util::write_atomic(path, contents.as_bytes())?;
    }
    let out = build.out_dir.join("build.ninja");
    util::write_atomic(&out, text.as_bytes())?;
    util::touch(&out)?;
    Ok(out)
}

/// Run ninja in `dir`, showing its progress.
pub fn run_ninja(dir: &std::path::Path) -> Result<()> {
    let ninja = std::env::var_os("NINJA").unwrap_or_else(|| "ninja".into());
    let status = std::process::Command::new(&ninja).arg("-C").arg(dir).status().map_err(|e| {
        user_err!("cannot run ninja ({e}); install it (`apt-get install ninja-build` or `pip install ninja`) or set NINJA")
    })?;
    if !status.success() {
        user_bail!("the build failed (ninja exited with {status}); see the output above");
    }
    Ok(())
}
