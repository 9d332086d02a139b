//! The command line: clap's types, and one function per subcommand.

pub mod cargo;
pub mod fetch;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::base::error::UserError;
use crate::resolve::load::{self as driver, GraphOptions};
use crate::toolchain::locate::SourceOptions;

/// Generate build files that compile the Rust standard library with rustc directly.
#[derive(Parser)]
#[command(name = "sysgen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the resolved unit graph (JSON or Graphviz DOT).
    Graph {
        #[command(flatten)]
        sel: Selection,
        /// Output format: the unit graph (json, dot), or every crate's
        /// declaration (crates; schema in README.md).
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Why a crate is in the sysroot, what turned on its features, and
    /// (--flags) where each argument of its rustc call comes from.
    Explain {
        /// A package or crate name (`hashbrown`, `compiler_builtins`).
        #[arg(value_name = "CRATE")]
        krate: String,
        /// Each rustc argument and environment variable, with its source.
        #[arg(long)]
        flags: bool,
        #[command(flatten)]
        sel: Selection,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Write an HTML report of a finished Ninja build: a bar per crate (front
    /// end and code generation), parallelism, the critical path.
    Timings {
        /// The build directory (`sysgen ninja -o DIR`); default: here.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// The report to write; default: DIR/sysgen-timings.html.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Write a CycloneDX 1.5 JSON SBOM of the sysroot: every crate of the
    /// graph, its source (rust-src, registry, vendor, git) and checksum.
    Sbom {
        #[command(flatten)]
        sel: Selection,
        #[command(flatten)]
        model: ModelArgs,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Write DIR/build.ninja, which builds a sysroot by calling rustc directly.
    Ninja {
        #[command(flatten)]
        sel: Selection,
        #[command(flatten)]
        build: BuildArgs,
    },
    /// Write DIR/sysgen.mk, a GNU Make fragment in Kbuild's style (include it
    /// from your Makefile), and DIR/Makefile for `make -C DIR`.
    Make {
        #[command(flatten)]
        sel: Selection,
        #[command(flatten)]
        build: BuildArgs,
    },
    /// Write a rust-project.json for rust-analyzer: every sysroot crate, with
    /// its cfgs, env and deps.
    RustProject {
        #[command(flatten)]
        sel: Selection,
        #[command(flatten)]
        model: ModelArgs,
        /// The file to write.
        #[arg(
            short = 'o',
            long = "output",
            value_name = "FILE",
            default_value = "rust-project.json"
        )]
        output: PathBuf,
        /// A finished sysgen build (an output directory) whose build-script
        /// cfgs and OUT_DIRs to include.
        #[arg(long, value_name = "DIR")]
        build_dir: Option<PathBuf>,
    },
    /// Write a Bazel repository (WORKSPACE, BUILD.bazel, defs.bzl) whose rules
    /// build the sysroot by calling rustc directly.
    Bazel {
        #[command(flatten)]
        sel: Selection,
        #[command(flatten)]
        build: BuildArgs,
    },
    /// Run cargo against a sysroot built (or reused) for its --target, as
    /// Xargo did: `sysgen cargo build --target thumbv6m-none-eabi`.
    /// Sysroots are kept in a store shared by every project.
    #[command(disable_help_flag = true)]
    Cargo {
        /// cargo's subcommand and arguments, passed on unchanged.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "CARGO ARGS"
        )]
        args: Vec<std::ffi::OsString>,
    },
    /// The sysroot store that `sysgen cargo` keeps (in $SYSGEN_CACHE_DIR,
    /// else ~/.cache/sysgen).
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
    /// Generate build.ninja and run ninja on it (Xargo's one-step experience).
    Build {
        #[command(flatten)]
        sel: Selection,
        #[command(flatten)]
        build: BuildArgs,
    },
    /// Run one build script for a generated build (called by build.ninja).
    #[command(hide = true)]
    RunBuildScript { spec: PathBuf },
    /// Start a pipelined rustc call; exit once its .rmeta is written (called by build.ninja).
    #[command(hide = true)]
    PipeBegin {
        /// A directory rustc writes into that must exist before it starts.
        #[arg(long)]
        mkdir: Vec<PathBuf>,
        state: PathBuf,
        #[arg(last = true, required = true)]
        cmd: Vec<std::ffi::OsString>,
    },
    /// Run rustc for `pipe-begin` (internal).
    #[command(hide = true)]
    PipeSupervise {
        state: PathBuf,
        #[arg(last = true, required = true)]
        cmd: Vec<std::ffi::OsString>,
    },
    /// Run rustc and print its JSON diagnostics as text (called by build files).
    #[command(hide = true)]
    RunRustc {
        /// An environment variable for the compiler (NAME=VALUE).
        #[arg(long = "env", value_name = "NAME=VALUE")]
        env: Vec<String>,
        #[arg(last = true, required = true)]
        cmd: Vec<std::ffi::OsString>,
    },
    /// Wait for a pipelined rustc call to finish its .rlib (called by build.ninja).
    #[command(hide = true)]
    PipeEnd {
        state: PathBuf,
        rmeta: PathBuf,
        rlib: PathBuf,
    },
    /// Download the registry crates the standard library depends on (runs cargo; set-up only).
    Fetch {
        #[command(flatten)]
        src: SourceArgs,
    },
}

#[derive(Subcommand)]
enum CacheCommand {
    /// Every stored sysroot: id, targets, crates, size, last use.
    List,
    /// Remove stored sysroots (and build directories) not in use.
    Clean {
        /// Only those unused for this long: 30d, 12h, 90m, 2w.
        #[arg(long, value_name = "AGE", value_parser = parse_age)]
        older_than: Option<std::time::Duration>,
    },
}

fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not an age such as 30d, 12h, 90m or 2w"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        "w" => 7 * 86400,
        _ => return Err(format!("`{s}` is not an age such as 30d, 12h, 90m or 2w")),
    };
    Ok(std::time::Duration::from_secs(n * secs))
}

fn human_size(n: u64) -> String {
    let mut v = n as f64;
    for unit in ["B", "KiB", "MiB", "GiB"] {
        if v < 1024.0 || unit == "GiB" {
            return if unit == "B" {
                format!("{n} B")
            } else {
                format!("{v:.1} {unit}")
            };
        }
        v /= 1024.0;
    }
    unreachable!()
}

fn human_age(t: Option<std::time::SystemTime>) -> String {
    let Some(age) = t.and_then(|t| std::time::SystemTime::now().duration_since(t).ok()) else {
        return "never".into();
    };
    let s = age.as_secs();
    match s {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", s / 60),
        3600..86400 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86400),
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Dot,
    Crates,
}

#[derive(Args, Clone)]
struct SourceArgs {
    /// The standard library source (rust-src's `library` directory).
    /// Default: $SYSGEN_RUST_SRC, $XARGO_RUST_SRC, or the compiler's rust-src component.
    #[arg(long, value_name = "DIR")]
    rust_src: Option<PathBuf>,
    /// The compiler. Default: $RUSTC, or `rustc` on PATH.
    #[arg(long, value_name = "PATH")]
    rustc: Option<PathBuf>,
    /// A `cargo vendor` directory holding std's registry dependencies.
    /// Default: the Cargo home's registry source cache.
    #[arg(long, value_name = "DIR")]
    vendor: Option<PathBuf>,
}

impl SourceArgs {
    fn options(&self) -> SourceOptions {
        SourceOptions {
            rust_src: self.rust_src.clone(),
            rustc: self.rustc.clone(),
            vendor: self.vendor.clone(),
        }
    }
}

#[derive(Args, Clone)]
struct Selection {
    #[command(flatten)]
    src: SourceArgs,
    /// Target triple or target-spec JSON file; may be given several times.
    /// Default: the host.
    #[arg(long = "target", value_name = "TRIPLE|FILE")]
    targets: Vec<String>,
    /// Crates to build, like `-Zbuild-std=…`. Default: std and the panic
    /// runtime where the target supports std, core otherwise.
    #[arg(long, value_delimiter = ',', value_name = "CRATES")]
    crates: Option<Vec<String>>,
    /// Features of the standard library, like `-Zbuild-std-features=…`.
    /// Default: the ones cargo enables (plus compiler-builtins-mem without libc).
    #[arg(long, value_delimiter = ',', value_name = "FEATURES")]
    features: Option<Vec<String>>,
    /// Panic strategy: unwind, abort or immediate-abort. Default: the
    /// config's, else the project's profile `panic`, else unwind.
    #[arg(long, value_enum)]
    panic: Option<crate::library::panic::PanicStrategy>,
    /// A sysgen.toml or Xargo.toml. Default: the nearest one from the
    /// working directory up.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    config: Option<PathBuf>,
    /// Ignore any sysgen.toml / Xargo.toml.
    #[arg(long)]
    no_config: bool,
}

#[derive(Args, Clone)]
struct BuildArgs {
    /// Output directory for build.ninja and sysroot/.
    #[arg(short = 'o', long = "out-dir", value_name = "DIR", default_value = ".")]
    out_dir: PathBuf,
    /// Compile each crate in one build edge instead of starting its
    /// dependents once its metadata is written (for comparisons).
    #[arg(long, hide = true)]
    no_pipeline: bool,
    /// Run every rustc call as `WRAPPER rustc …`, as cargo does. Default:
    /// $RUSTC_WRAPPER; empty for none.
    #[arg(long, value_name = "WRAPPER")]
    rustc_wrapper: Option<String>,
    #[command(flatten)]
    model: ModelArgs,
}

/// What shapes the crates' rustc calls (the crate model), beyond the
/// selection.
#[derive(Args, Clone)]
struct ModelArgs {
    /// dev, release, or a profile of the library's Cargo.toml (dist: the
    /// settings of the std rustup ships). Default: the config's, else release.
    #[arg(long)]
    profile: Option<String>,
    /// Extra rustc flags for every sysroot crate, space-separated (added to
    /// CARGO_ENCODED_RUSTFLAGS or RUSTFLAGS).
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true)]
    rustflags: Option<String>,
    /// One extra rustc flag, exactly as given (repeatable).
    #[arg(
        long = "rustflag",
        value_name = "FLAG",
        allow_hyphen_values = true,
        hide = true
    )]
    rustflag: Vec<String>,
    /// Ignore RUSTFLAGS and CARGO_ENCODED_RUSTFLAGS (the regeneration rule
    /// passes the flags it captured explicitly).
    #[arg(long, hide = true)]
    no_env_rustflags: bool,
    /// Threads of rustc's parallel front end for the crates whose output
    /// stays the same with it (core; -Zthreads). Default: this machine's
    /// cores, at most 8; 1 turns it off.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    frontend_threads: Option<u16>,
    /// Also give rustc's parallel front end to the crates whose output it
    /// makes differ from run to run (std on this rustc): faster, but the
    /// sysroot is no longer reproducible.
    #[arg(long)]
    nondeterministic_frontend: bool,
    /// A metadata-only sysroot (.rmeta, no code generation), as xargo-check
    /// gave Miri.
    #[arg(long)]
    check: bool,
    /// Also emit each sysroot crate as one object file (--emit=obj), for
    /// build systems that link objects, as the kernel links core. Forces
    /// one codegen unit per crate.
    #[arg(long)]
    objects: bool,
    /// Leave out the project's .cargo/config.toml rustflags (the
    /// regeneration rule's way of keeping RUSTFLAGS' precedence).
    #[arg(long, hide = true)]
    ignore_config_rustflags: bool,
}

impl ModelArgs {
    fn options(&self) -> driver::ModelFlags {
        let mut flags = Vec::new();
        let mut env_set = self.ignore_config_rustflags;
        if !self.no_env_rustflags {
            flags = driver::env_rustflags();
            env_set |= std::env::var_os("CARGO_ENCODED_RUSTFLAGS").is_some()
                || std::env::var_os("RUSTFLAGS").is_some();
        }
        if let Some(f) = &self.rustflags {
            flags.extend(f.split_whitespace().map(str::to_string));
        }
        flags.extend(self.rustflag.iter().cloned());
        driver::ModelFlags {
            rustflags: flags,
            frontend_threads: self.frontend_threads.map(usize::from),
            nondeterministic_frontend: self.nondeterministic_frontend,
            check: self.check,
            env_rustflags_set: env_set,
            sources: false,
            objects: self.objects,
        }
    }
}

impl BuildArgs {
    fn options(&self) -> driver::BuildOptions {
        driver::BuildOptions {
            out_dir: self.out_dir.clone(),
            pipeline: !self.no_pipeline,
            model: self.model.options(),
            rustc_wrapper: match &self.rustc_wrapper {
                Some(w) => Some(w.clone()),
                None => std::env::var("RUSTC_WRAPPER").ok(),
            }
            .filter(|w| !w.is_empty()),
        }
    }
}

impl Selection {
    /// No `--target` means the host (decided once rustc has been asked).
    fn options(&self, profile: Option<&str>) -> Result<GraphOptions> {
        let non_empty = |v: &Option<Vec<String>>| {
            v.clone()
                .map(|v| v.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>())
        };
        let crates = non_empty(&self.crates);
        if crates.as_ref().is_some_and(Vec::is_empty) {
            crate::user_bail!("--crates names no crate; give at least one, e.g. --crates core");
        }
        Ok(GraphOptions {
            sources: self.src.options(),
            targets: self.targets.clone(),
            crates,
            features: non_empty(&self.features),
            panic: self.panic,
            config: self.config.clone(),
            no_config: self.no_config,
            profile: profile.map(str::to_string),
            project_dir: None,
            test_harness: false,
        })
    }
}

fn write_output(output: Option<&PathBuf>, text: &str) -> Result<()> {
    match output {
        Some(p) => crate::base::fsx::write_atomic(p, text.as_bytes()),
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = out.write_all(text.as_bytes());
            Ok(())
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Graph {
            sel,
            format,
            output,
            model,
        } => {
            if let Some(o) = &output {
                crate::emit::outdir::check_output_file(o)?;
            }
            let rules = crate::library::rules::Rules::load()?;
            let loaded = driver::load(&sel.options(model.profile.as_deref())?, &rules)?;
            let text = match format {
                Format::Json => crate::emit::json::to_string(&loaded.graph),
                Format::Dot => crate::emit::dot::to_string(&loaded.graph)?,
                Format::Crates => {
                    let flags = driver::ModelFlags {
                        sources: true,
                        ..model.options()
                    };
                    let m = driver::declare(&loaded, &rules, &flags)?;
                    crate::emit::crates::to_string(&m)
                }
            };
            write_output(output.as_ref(), &text)
        }
        Command::Explain {
            krate,
            flags,
            sel,
            model,
        } => {
            let opts = sel.options(model.profile.as_deref())?;
            let (loaded, m) = driver::load_declared(&opts, &model.options())?;
            // With one --target, only its units.
            let only = (opts.targets.len() == 1).then(|| opts.targets[0].as_str());
            print!(
                "{}",
                crate::report::explain::explain(&loaded, &m, &krate, only, flags)?
            );
            Ok(())
        }
        Command::Timings { dir, output } => {
            let out = output.unwrap_or_else(|| dir.join("sysgen-timings.html"));
            crate::emit::outdir::check_output_file(&out)?;
            let html = crate::report::timings::report(&dir)?;
            crate::base::fsx::write_atomic(&out, html.as_bytes())?;
            eprintln!("sysgen: wrote {}", out.display());
            Ok(())
        }
        Command::Sbom { sel, model, output } => {
            if let Some(o) = &output {
                crate::emit::outdir::check_output_file(o)?;
            }
            let (loaded, m) =
                driver::load_declared(&sel.options(model.profile.as_deref())?, &model.options())?;
            write_output(
                output.as_ref(),
                &crate::report::provenance::sbom(&loaded, &m)?,
            )
        }
        Command::Fetch { src } => crate::cli::fetch::fetch(&src.options()),
        Command::Cargo { args } => exit_with(crate::cli::cargo::run(args, false)?),
        Command::Cache { command } => {
            let store = crate::store::Store::open()?;
            match command {
                CacheCommand::List => {
                    let list = store.list()?;
                    println!("store: {}", store.dir.display());
                    let mut total = 0;
                    for l in &list {
                        total += l.size;
                        let (targets, crates) = match &l.summary {
                            Some(s) => {
                                let kind = if s.check { " (check)" } else { "" };
                                (
                                    format!("{}{kind}", s.targets.join(",")),
                                    format!(
                                        "{} [{}, panic={}]",
                                        s.crates.join(","),
                                        s.profile,
                                        s.panic
                                    ),
                                )
                            }
                            None => ("?".into(), "?".into()),
                        };
                        println!(
                            "{}  {}  {}  {}  {}",
                            l.id,
                            targets,
                            crates,
                            human_size(l.size),
                            human_age(l.last_use)
                        );
                    }
                    let builds = store.build_dirs_size();
                    println!(
                        "{} sysroots, {}; build directories {}",
                        list.len(),
                        human_size(total),
                        human_size(builds)
                    );
                    Ok(())
                }
                CacheCommand::Clean { older_than } => {
                    let r = store.clean(older_than)?;
                    for id in &r.in_use {
                        eprintln!("sysgen: kept {id}: in use");
                    }
                    eprintln!(
                        "sysgen: removed {} entries, freed {}",
                        r.removed.len(),
                        human_size(r.freed)
                    );
                    Ok(())
                }
            }
        }
        Command::Ninja { sel, build } => {
            let path = driver::generate_ninja(
                &sel.options(build.model.profile.as_deref())?,
                &build.options(),
            )?;
            eprintln!("sysgen: wrote {}", path.display());
            Ok(())
        }
        Command::RustProject {
            sel,
            model,
            output,
            build_dir,
        } => {
            crate::emit::rust_project::check_output(&output)?;
            let flags = driver::ModelFlags {
                sources: true,
                ..model.options()
            };
            let (_, m) = driver::load_declared(&sel.options(model.profile.as_deref())?, &flags)?;
            let build_dir = match &build_dir {
                Some(d) if !d.join("build").is_dir() => crate::user_bail!(
                    "--build-dir {} is not a sysgen output directory (no build/); pass the -o DIR of a finished build",
                    d.display()
                ),
                Some(d) => Some(std::path::absolute(d)?),
                None => None,
            };
            let (text, missing) = crate::emit::rust_project::to_string(&m, build_dir.as_deref())?;
            crate::base::fsx::write_atomic(&output, text.as_bytes())?;
            eprintln!("sysgen: wrote {}", output.display());
            if !missing.is_empty() {
                eprintln!(
                    "sysgen: note: the cfgs that the build scripts of {} print are not included; pass --build-dir DIR of a finished build",
                    missing.join(", ")
                );
            }
            Ok(())
        }
        Command::Make { sel, build } => {
            let dir = driver::generate_make(
                &sel.options(build.model.profile.as_deref())?,
                &build.options(),
            )?;
            eprintln!(
                "sysgen: wrote {}/sysgen.mk and a Makefile; build with `make -C {} -j`",
                dir.display(),
                dir.display()
            );
            Ok(())
        }
        Command::Bazel { sel, build } => {
            let dir = driver::generate_bazel(
                &sel.options(build.model.profile.as_deref())?,
                &build.options(),
            )?;
            eprintln!(
                "sysgen: wrote a Bazel repository in {}; build it with `bazel build //:all`",
                dir.display()
            );
            Ok(())
        }
        Command::Build { sel, build } => {
            let path = driver::generate_ninja(
                &sel.options(build.model.profile.as_deref())?,
                &build.options(),
            )?;
            let dir = path.parent().expect("build.ninja has a directory");
            driver::run_ninja(dir)?;
            eprintln!("{}", sysroot_usage(dir));
            Ok(())
        }
        Command::RunBuildScript { spec } => crate::exec::runscript::run(&spec),
        Command::PipeBegin { mkdir, state, cmd } => {
            exit_with(crate::exec::pipe::begin(&state, &mkdir, &cmd)?)
        }
        Command::PipeSupervise { state, cmd } => {
            exit_with(crate::exec::pipe::supervise(&state, &cmd)?)
        }
        Command::RunRustc { env, cmd } => exit_with(crate::exec::pipe::run_rendered(&env, &cmd)?),
        Command::PipeEnd { state, rmeta, rlib } => {
            exit_with(crate::exec::pipe::end(&state, &rmeta, &rlib)?)
        }
    }
}

/// The last line of `sysgen build`: where the sysroot is and how to use it.
fn sysroot_usage(dir: &std::path::Path) -> String {
    let sysroot = dir.join("sysroot");
    let mut targets: Vec<String> = std::fs::read_dir(sysroot.join("lib/rustlib"))
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    targets.sort();
    let path = sysroot.display().to_string();
    let q = crate::emit::ninja::shell_quote;
    let t = targets.first().map(String::as_str).unwrap_or("TARGET");
    format!(
        "sysgen: sysroot for {} in {path}; use it with `rustc --sysroot {} --target {t}` or `RUSTFLAGS={} cargo build --target {t}`",
        targets.join(", "),
        q(&path),
        q(&format!("--sysroot={path}"))
    )
}

/// Pass a compiler's exit status through to Ninja.
fn exit_with(code: i32) -> Result<()> {
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

/// A command-line mistake as one line (clap renders several), exit 2;
/// `--help` and `--version` print as usual.
fn parse_args() -> Result<Cli, ExitCode> {
    Cli::try_parse().map_err(|e| {
        use clap::error::ErrorKind;
        if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
            || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        {
            let _ = e.print();
            return if e.exit_code() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
        let text = e.render().to_string();
        let line: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| {
                !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:")
            })
            .collect();
        let line = line.join(" ");
        let line = line.strip_prefix("error: ").unwrap_or(&line);
        eprintln!("sysgen: error: {line}; see `sysgen --help`");
        ExitCode::from(2)
    })
}

pub fn main() -> ExitCode {
    // Installed as `xargo` or `xargo-check`: Xargo's command line.
    let mut argv = std::env::args_os();
    if let Some(check) = argv.next().and_then(|a| crate::cli::cargo::xargo_name(&a)) {
        return finish(crate::cli::cargo::run(argv.collect(), check).and_then(exit_with));
    }
    let cli = match parse_args() {
        Ok(c) => c,
        Err(code) => return code,
    };
    finish(run(cli))
}

fn finish(r: Result<()>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever another library's message holds.
            if let Some(u) = e.downcast_ref::<UserError>() {
                eprintln!("sysgen: error: {}", crate::base::error::one_line(&u.0));
                ExitCode::from(2)
            } else {
                let msg = crate::base::error::one_line(&format!("{e:#}"));
                eprintln!("sysgen: internal error: {msg}");
                ExitCode::from(1)
            }
        }
    }
}
