//! The command line's types (clap), and how each becomes the typed options
//! of the stages below. `regen.rs` writes these flags back.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::rustflags;
use crate::emit::generate::BuildOptions;
use crate::library::profile::PanicStrategy;
use crate::model::declare::ModelFlags;
use crate::resolve::load::GraphOptions;
use crate::toolchain::locate::SourceOptions;

/// Generate build files that compile the Rust standard library with rustc directly.
#[derive(Parser)]
#[command(name = "sysgen", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
    /// Write a Buck2 cell (BUCK, toolchain.bzl, sources/ symlinks) whose
    /// rules are the prelude's own: rust_library, buildscript_run and a
    /// toolchain with explicit sysroot deps. One --target, one stage.
    Buck2 {
        #[command(flatten)]
        sel: Selection,
        #[command(flatten)]
        build: BuildArgs,
    },
    /// Run cargo against a sysroot built (or reused) for its --target, as
    /// Xargo did: `sysgen cargo build --target thumbv6m-none-eabi`;
    /// `sysgen cargo +nightly miri test` runs cargo-miri against a sysroot
    /// built by Miri's driver. Sysroots are kept in a store shared by
    /// every project.
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
        /// Jobs at once, shared by every rustc of the build as one jobserver
        /// (needs ninja >= 1.13; without -j, ninja schedules as it does).
        #[arg(short = 'j', long = "jobs", value_name = "N")]
        jobs: Option<std::num::NonZeroUsize>,
    },
    /// Run one build script for a generated build (called by build.ninja).
    #[command(hide = true)]
    RunBuildScript { spec: PathBuf },
    /// Rewrite the stamps of environment variables that changed (called by build.ninja).
    #[command(hide = true)]
    EnvCheck { stamps: Vec<PathBuf> },
    /// Start a pipelined rustc call; exit once its .rmeta is written (called by build.ninja).
    #[command(hide = true)]
    PipeBegin {
        /// A directory rustc writes into that must exist before it starts.
        #[arg(long)]
        mkdir: Vec<PathBuf>,
        /// Where the environment variables the compile reads are tracked.
        #[arg(long)]
        env_stamps: Option<PathBuf>,
        /// Variables a build script set for the compile (`NAME=VALUE` lines).
        #[arg(long)]
        env_file: Option<PathBuf>,
        /// The front end is off the critical path: run it at a lower CPU
        /// priority (`lower/schedule.rs`).
        #[arg(long)]
        background: bool,
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
    /// Run rustc with `--env-set` arguments as its environment (the Buck2
    /// cell's compiler).
    #[command(hide = true)]
    RustcEnv {
        #[arg(last = true, required = true)]
        cmd: Vec<std::ffi::OsString>,
    },
    /// Run rustc and print its JSON diagnostics as text (called by build files).
    #[command(hide = true)]
    RunRustc {
        /// An environment variable for the compiler (NAME=VALUE).
        #[arg(long = "env", value_name = "NAME=VALUE")]
        env: Vec<String>,
        /// An environment variable whose value is PATH below the directory
        /// the compile runs in.
        #[arg(long = "env-path", value_name = "NAME=PATH")]
        env_paths: Vec<String>,
        /// Remap the directory the compile runs in to TO.
        #[arg(long = "remap-pwd", value_name = "TO")]
        remap_pwd: Option<String>,
        /// Where the environment variables the compile reads are tracked.
        #[arg(long)]
        env_stamps: Option<PathBuf>,
        /// Variables a build script set for the compile (`NAME=VALUE` lines;
        /// a path relative to the directory the compile runs in).
        #[arg(long)]
        env_file: Option<PathBuf>,
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
pub(crate) enum CacheCommand {
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

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Json,
    Dot,
    Crates,
}

#[derive(Args, Clone)]
pub(crate) struct SourceArgs {
    /// The standard library source (rust-src's `library` directory).
    /// Default: $SYSGEN_RUST_SRC, $XARGO_RUST_SRC, or the compiler's rust-src component.
    #[arg(long, value_name = "DIR")]
    pub(crate) rust_src: Option<PathBuf>,
    /// The compiler. Default: $RUSTC, or `rustc` on PATH.
    #[arg(long, value_name = "PATH")]
    pub(crate) rustc: Option<PathBuf>,
    /// A `cargo vendor` directory holding std's registry dependencies.
    /// Default: the Cargo home's registry source cache.
    #[arg(long, value_name = "DIR")]
    pub(crate) vendor: Option<PathBuf>,
}

impl SourceArgs {
    pub(crate) fn options(&self) -> SourceOptions {
        SourceOptions {
            rust_src: self.rust_src.clone(),
            rustc: self.rustc.clone(),
            vendor: self.vendor.clone(),
        }
    }
}

#[derive(Args, Clone)]
pub(crate) struct Selection {
    #[command(flatten)]
    pub(crate) src: SourceArgs,
    /// Target triple or target-spec JSON file; may be given several times.
    /// Default: the host.
    #[arg(long = "target", value_name = "TRIPLE|FILE")]
    pub(crate) targets: Vec<String>,
    /// Crates to build, like `-Zbuild-std=…`. Default: std and the panic
    /// runtime where the target supports std, core otherwise.
    #[arg(long, value_delimiter = ',', value_name = "CRATES")]
    pub(crate) crates: Option<Vec<String>>,
    /// Features of the standard library, like `-Zbuild-std-features=…`.
    /// Default: the ones cargo enables (plus compiler-builtins-mem without libc).
    #[arg(long, value_delimiter = ',', value_name = "FEATURES")]
    pub(crate) features: Option<Vec<String>>,
    /// Panic strategy: unwind, abort or immediate-abort. Default: the
    /// config's, else the project's profile `panic`, else unwind.
    #[arg(long, value_enum)]
    pub(crate) panic: Option<PanicStrategy>,
    /// A sysgen.toml or Xargo.toml. Default: the nearest one from the
    /// working directory up.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub(crate) config: Option<PathBuf>,
    /// Ignore any sysgen.toml / Xargo.toml.
    #[arg(long)]
    pub(crate) no_config: bool,
    /// Build the sysroot for a tool that compiles it in rustc's place
    /// (rules/drivers.toml): `miri`, for `MIRI_SYSROOT=DIR/sysroot cargo miri`.
    #[arg(long = "for", value_name = "TOOL")]
    pub(crate) for_tool: Option<String>,
}

#[derive(Args, Clone)]
pub(crate) struct BuildArgs {
    /// Output directory for build.ninja and sysroot/.
    #[arg(short = 'o', long = "out-dir", value_name = "DIR", default_value = ".")]
    pub(crate) out_dir: PathBuf,
    /// Compile each crate in one build edge instead of starting its
    /// dependents once its metadata is written (for comparisons).
    #[arg(long, hide = true)]
    pub(crate) no_pipeline: bool,
    /// Run every rustc call as `WRAPPER rustc …`, as cargo does. Default:
    /// $RUSTC_WRAPPER; empty for none.
    #[arg(long, value_name = "WRAPPER")]
    pub(crate) rustc_wrapper: Option<String>,
    #[command(flatten)]
    pub(crate) model: ModelArgs,
}

/// What shapes the crates' rustc calls (the crate model), beyond the
/// selection.
#[derive(Args, Clone)]
pub(crate) struct ModelArgs {
    /// dev, release, or a profile of the library's Cargo.toml (dist: the
    /// settings of the std rustup ships). Default: the config's, else release.
    #[arg(long)]
    pub(crate) profile: Option<String>,
    /// Extra rustc flags for every sysroot crate, space-separated (added to
    /// CARGO_ENCODED_RUSTFLAGS or RUSTFLAGS).
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true)]
    pub(crate) rustflags: Option<String>,
    /// One extra rustc flag, exactly as given (repeatable).
    #[arg(
        long = "rustflag",
        value_name = "FLAG",
        allow_hyphen_values = true,
        hide = true
    )]
    pub(crate) rustflag: Vec<String>,
    /// Ignore RUSTFLAGS and CARGO_ENCODED_RUSTFLAGS (the regeneration rule
    /// passes the flags it captured explicitly).
    #[arg(long, hide = true)]
    pub(crate) no_env_rustflags: bool,
    /// Threads of rustc's parallel front end for the crates whose output
    /// stays the same with it (core; -Zthreads). Default: this machine's
    /// cores shared out between the targets, at most 8; 1 turns it off.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) frontend_threads: Option<u16>,
    /// Also give rustc's parallel front end to the crates whose output it
    /// makes differ from run to run (std on this rustc): faster, but the
    /// sysroot is no longer reproducible.
    #[arg(long)]
    pub(crate) nondeterministic_frontend: bool,
    /// A metadata-only sysroot (.rmeta, no code generation), as xargo-check
    /// gave Miri.
    #[arg(long)]
    pub(crate) check: bool,
    /// Also emit each sysroot crate as one object file (--emit=obj), for
    /// build systems that link objects, as the kernel links core. Forces
    /// one codegen unit per crate.
    #[arg(long)]
    pub(crate) objects: bool,
    /// Leave out the project's .cargo/config.toml rustflags (the
    /// regeneration rule's way of keeping RUSTFLAGS' precedence).
    #[arg(long, hide = true)]
    pub(crate) ignore_config_rustflags: bool,
}

impl ModelArgs {
    pub(crate) fn options(&self) -> Result<ModelFlags> {
        let mut flags = Vec::new();
        let mut env_set = self.ignore_config_rustflags;
        if !self.no_env_rustflags {
            flags = rustflags::env_rustflags()?;
            env_set |= rustflags::env_rustflags_set();
        }
        if let Some(f) = &self.rustflags {
            flags.extend(f.split_whitespace().map(str::to_string));
        }
        crate::toolchain::flags::check("--rustflag", &self.rustflag)?;
        flags.extend(self.rustflag.iter().cloned());
        Ok(ModelFlags {
            rustflags: flags,
            frontend_threads: self.frontend_threads.map(usize::from),
            nondeterministic_frontend: self.nondeterministic_frontend,
            check: self.check,
            env_rustflags_set: env_set,
            sources: false,
            objects: self.objects,
        })
    }
}

impl BuildArgs {
    pub(crate) fn options(&self) -> Result<BuildOptions> {
        Ok(BuildOptions {
            out_dir: self.out_dir.clone(),
            pipeline: !self.no_pipeline,
            model: self.model.options()?,
            rustc_wrapper: match &self.rustc_wrapper {
                Some(w) => Some(w.clone()),
                None => std::env::var("RUSTC_WRAPPER").ok(),
            }
            .filter(|w| !w.is_empty()),
        })
    }
}

impl Selection {
    /// No `--target` means the host (decided once rustc has been asked).
    pub(crate) fn options(&self, profile: Option<&str>) -> Result<GraphOptions> {
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
            driver: self.for_tool.clone(),
        })
    }
}
