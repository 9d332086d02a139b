//! `sysgen cargo …`: Xargo's one command. The sysroot for the targets cargo
//! will build for comes from the store ([`crate::store`]): built once,
//! without cargo, then reused by every project with the same configuration.
//! Then the real cargo runs, unchanged but for the rustflags that point
//! the user's crates at that sysroot.
//!
//! - Targets: `--target` (repeatable, triple or JSON file), else
//!   `CARGO_BUILD_TARGET`, else `build.target` of `.cargo/config.toml`.
//!   No target, or a subcommand that compiles nothing, runs cargo as is.
//! - The sysroot: the project's `sysgen.toml`/`Xargo.toml`, its
//!   `[profile.release]` settings, and the panic strategy of the profile
//!   cargo builds the user's crate with (tests and benches: unwind, as
//!   cargo builds them). `check`/`clippy`/`doc` get a metadata-only
//!   sysroot; `test`/`bench` add the `test` crate.
//! - Flags: cargo reads rustflags from one source only
//!   (`CARGO_ENCODED_RUSTFLAGS`, else `RUSTFLAGS`, else the config's), so
//!   sysgen picks them as cargo would, appends `--sysroot`, and passes the
//!   result as `CARGO_ENCODED_RUSTFLAGS` (likewise for rustdoc). With
//!   `--target`, cargo gives them to target crates only: build scripts and
//!   proc macros keep the toolchain's std.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::base::fsx;
use crate::config::rustflags;
use crate::library::profile::PanicStrategy;
use crate::model::declare::ModelFlags;
use crate::resolve::load::GraphOptions;
use crate::toolchain::target::CompileTarget;
use crate::user_bail;

/// What the sysroot must provide for a cargo subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Code generation: a full sysroot.
    Build,
    /// Metadata only (`check`, `clippy`, `doc`): a check sysroot.
    Check,
    /// A test harness: a full sysroot with `test`, unwinding.
    Test,
    /// Compiles nothing for the target: cargo runs as is.
    PassThrough,
}

fn kind(subcommand: &str) -> Kind {
    match subcommand {
        "build" | "b" | "run" | "r" | "rustc" => Kind::Build,
        "check" | "c" | "clippy" | "doc" | "d" | "rustdoc" => Kind::Check,
        "test" | "t" | "bench" => Kind::Test,
        _ => Kind::PassThrough,
    }
}

/// The parts of a cargo command line that sysgen needs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Invocation {
    pub subcommand: Option<String>,
    pub targets: Vec<String>,
    pub manifest_path: Option<PathBuf>,
    pub release: bool,
    pub profile: Option<String>,
    /// `-j N`/`--jobs N`: the sysroot's build gets as many slots.
    pub jobs: Option<usize>,
}

/// Global options of cargo that take a value (before the subcommand).
const GLOBAL_WITH_VALUE: &[&str] = &["--config", "-Z", "-C", "--color"];

/// Read a cargo command line without judging it (cargo does that).
pub fn parse(args: &[OsString]) -> Invocation {
    let mut inv = Invocation::default();
    let mut it = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .peekable();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if inv.subcommand.is_none() {
            if GLOBAL_WITH_VALUE.contains(&a.as_str()) {
                it.next();
            } else if !a.starts_with('-') {
                inv.subcommand = Some(a);
            }
            continue;
        }
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = |inline: Option<String>| inline.or_else(|| it.next());
        match name.as_str() {
            "--target" => inv.targets.extend(value(inline)),
            "--manifest-path" => inv.manifest_path = value(inline).map(PathBuf::from),
            "--profile" => inv.profile = value(inline),
            "--release" | "-r" => inv.release = true,
            "--jobs" | "-j" => inv.jobs = value(inline).and_then(|v| v.parse().ok()),
            n if n.starts_with("-j") && n.len() > 2 => inv.jobs = n[2..].parse().ok(),
            _ => {}
        }
    }
    inv
}

/// The cargo to run: `+toolchain`'s, else `$CARGO`, else `cargo`.
#[derive(Default)]
struct Cargo {
    program: Option<PathBuf>,
    /// The rustup toolchain `+name` selected.
    toolchain: Option<String>,
}

impl Cargo {
    /// The compiler of the sysroot: the `+toolchain`'s rustc, unless RUSTC
    /// is set (as in cargo, it wins over the toolchain).
    fn sources(&self) -> Result<crate::toolchain::locate::SourceOptions> {
        let mut sources = crate::toolchain::locate::SourceOptions::default();
        if let Some(t) = &self.toolchain
            && std::env::var_os("RUSTC").is_none_or(|v| v.is_empty())
        {
            sources.rustc = Some(crate::toolchain::locate::rustup_tool(t, "rustc")?);
        }
        Ok(sources)
    }

    /// What runs: the chosen program, else `$CARGO`, else `cargo`.
    fn program(&self) -> OsString {
        match &self.program {
            Some(p) => p.clone().into_os_string(),
            None => std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
        }
    }

    fn run(&self, args: &[OsString], env: &[(&str, Option<OsString>)]) -> Result<i32> {
        let mut cmd = std::process::Command::new(self.program());
        if let Some(t) = &self.toolchain {
            cmd.env("RUSTUP_TOOLCHAIN", t);
        }
        cmd.args(args);
        // `sysgen cargo` stands for cargo: cargo stops when it does.
        crate::exec::leftovers::dies_with_this_process(&mut cmd, libc::SIGTERM);
        for (k, v) in env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let status = cmd.status().map_err(|e| {
            crate::user_err!("cannot run cargo ({e}); install Rust with rustup, or set CARGO")
        })?;
        use std::os::unix::process::ExitStatusExt;
        Ok(status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(1)))
    }
}

/// The project's directory: `--manifest-path`'s, else the nearest
/// directory with a Cargo.toml from the working directory up.
fn project_dir(inv: &Invocation) -> Result<Option<PathBuf>> {
    let cwd = fsx::current_dir()?;
    if let Some(m) = &inv.manifest_path {
        let m = cwd.join(m);
        return Ok(m.parent().map(Path::to_path_buf));
    }
    Ok(cwd
        .ancestors()
        .find(|d| d.join("Cargo.toml").is_file())
        .map(Path::to_path_buf))
}

fn encode(flags: &[String]) -> OsString {
    flags.join("\u{1f}").into()
}

/// `sysgen cargo ARGS…`: the exit status to leave with. `check_sysroot`
/// (`xargo-check`) makes any compiling subcommand use a metadata-only
/// sysroot.
pub fn run(args: Vec<OsString>, check_sysroot: bool) -> Result<i32> {
    // `+toolchain` first, as rustup's cargo takes it: that toolchain's
    // cargo runs, and its rustc builds the sysroot from its rust-src.
    let toolchain = args
        .first()
        .and_then(|a| a.to_str())
        .and_then(|a| a.strip_prefix('+'))
        .map(str::to_string);
    let (args, cargo) = match &toolchain {
        // What rustup's proxy does with `cargo +name`: that toolchain's
        // cargo, and its rustc for whatever runs `rustc` below it.
        Some(t) => (
            args[1..].to_vec(),
            Cargo {
                program: Some(crate::toolchain::locate::rustup_tool(t, "cargo")?),
                toolchain: Some(t.clone()),
            },
        ),
        None => (args, Cargo::default()),
    };
    let inv = parse(&args);
    // A tool of rules/drivers.toml with a cargo subcommand (`miri`).
    let rules = crate::library::rules::Rules::load()?;
    if let Some((tool, d)) = inv
        .subcommand
        .as_deref()
        .and_then(|s| rules.drivers.get_key_value(s))
        .filter(|(_, d)| d.cargo_subcommand.is_some())
    {
        return run_tool(tool, d, &args, &cargo, &inv);
    }
    let mut k = inv
        .subcommand
        .as_deref()
        .map(kind)
        .unwrap_or(Kind::PassThrough);
    if check_sysroot && k != Kind::PassThrough {
        k = Kind::Check;
    }
    if k == Kind::PassThrough {
        return cargo.run(&args, &[]);
    }
    let Some(dir) = project_dir(&inv)? else {
        // No project: cargo says so.
        return cargo.run(&args, &[]);
    };
    let project = crate::config::project::Project::load(&dir)?;
    let targets = configured_targets(&inv, &project);
    if targets.is_empty() {
        // Xargo's rule: without a target there is no sysroot to build.
        return cargo.run(&args, &[]);
    }
    // JSON targets as cargo finds them: relative to the working directory.
    let cwd = fsx::current_dir()?;
    let targets: Vec<String> = targets
        .into_iter()
        .map(|t| CompileTarget::parse(&t).relative_to(&cwd).rustc_arg())
        .collect();
    let panic = if k == Kind::Test {
        PanicStrategy::Unwind
    } else {
        let profile = match (&inv.profile, inv.release) {
            (Some(p), _) => p.clone(),
            (None, true) => "release".into(),
            (None, false) => "dev".into(),
        };
        project.panic(&profile)?.unwrap_or_default()
    };
    let opts = GraphOptions {
        sources: cargo.sources()?,
        targets: targets.clone(),
        crates: None,
        features: None,
        panic: Some(panic),
        config: None,
        no_config: false,
        profile: None,
        project_dir: Some(dir.clone()),
        test_harness: k == Kind::Test,
        driver: None,
    };
    let flags = ModelFlags {
        rustflags: rustflags::env_rustflags()?,
        env_rustflags_set: rustflags::env_rustflags_set(),
        check: k == Kind::Check,
        ..Default::default()
    };
    let wrapper = match std::env::var("RUSTC_WRAPPER") {
        Ok(w) => Some(w),
        Err(_) => project.rustc_wrapper.clone(),
    }
    .filter(|w| !w.is_empty());
    let regen = |loaded: &_, build: &_| crate::cli::regen::to_args("ninja", &opts, build, loaded);
    // With cargo's `-j` (or CARGO_BUILD_JOBS), the sysroot's build shares
    // one jobserver of as many slots; without, ninja schedules on its own.
    let jobs = inv
        .jobs
        .or_else(|| {
            std::env::var("CARGO_BUILD_JOBS")
                .ok()
                .and_then(|v| v.parse().ok())
        })
        .filter(|j: &usize| *j > 0);
    let stored = crate::store::build::sysroot_in_store(&opts, &flags, wrapper, &regen, jobs)?;
    let sysroot = stored.entry.sysroot();
    announce(&stored);
    let _held = stored.entry.hold();
    stored.entry.touch();

    // The user's flags for each target, as cargo would pick them; cargo
    // takes one set for every target of the run.
    let mut per_target: Vec<Vec<String>> = Vec::new();
    for t in &stored.targets {
        per_target.push(rustflags::as_cargo_reads(
            "CARGO_ENCODED_RUSTFLAGS",
            "RUSTFLAGS",
            project.rustflags_for(t),
        )?);
    }
    per_target.dedup();
    if per_target.len() > 1 {
        user_bail!(
            "the project's .cargo/config.toml gives these targets different rustflags, but one cargo run passes one set to all; run `sysgen cargo` once per --target"
        );
    }
    let json = stored.targets.iter().any(|t| t.spec_file().is_some());
    let sysroot_flag = format!("--sysroot={}", sysroot.display());
    let mut rustflags = per_target.pop().unwrap_or_default();
    let mut rustdocflags = rustflags::as_cargo_reads(
        "CARGO_ENCODED_RUSTDOCFLAGS",
        "RUSTDOCFLAGS",
        project.build_rustdocflags.clone().unwrap_or_default(),
    )?;
    for f in [&mut rustflags, &mut rustdocflags] {
        f.push(sysroot_flag.clone());
        // Custom target specs are unstable in rustc.
        if json && !f.iter().any(|x| x == "-Zunstable-options") {
            f.push("-Zunstable-options".into());
        }
    }
    let mut env: Vec<(&str, Option<OsString>)> = vec![
        ("CARGO_ENCODED_RUSTFLAGS", Some(encode(&rustflags))),
        ("RUSTFLAGS", None),
        ("CARGO_ENCODED_RUSTDOCFLAGS", Some(encode(&rustdocflags))),
        ("RUSTDOCFLAGS", None),
    ];
    if json {
        // And in cargo: what stable cargo needs to accept a `.json` target.
        env.push(("RUSTC_BOOTSTRAP", Some("1".into())));
        env.push(("CARGO_UNSTABLE_JSON_TARGET_SPEC", Some("true".into())));
    }
    cargo.run(&args, &env)
}

/// One line on stderr: which sysroot the command runs against, and whether
/// it was built, reused or downloaded.
fn announce(stored: &crate::store::build::Stored) {
    let s = &stored.summary;
    let mut how = s.crates.join(", ");
    if s.panic != PanicStrategy::Unwind {
        how.push_str(&format!("; panic={}", s.panic));
    }
    if s.check {
        how.push_str("; check only");
    }
    let verb = match (&stored.downloaded, stored.built) {
        (Some(url), _) => format!("downloaded from {url} the"),
        (None, true) => "built".to_string(),
        (None, false) => "reusing".to_string(),
    };
    let what = match &stored.rustc.driver {
        Some(d) => format!("{} sysroot", d.name),
        None => "sysroot".to_string(),
    };
    eprintln!(
        "sysgen: {verb} {what} for {} ({how}): {}",
        s.targets.join(", "),
        stored.entry.sysroot().display()
    );
}

/// `sysgen cargo miri SUBCOMMAND …` (any tool of rules/drivers.toml with a
/// cargo subcommand): the sysroot that tool's driver compiled, from the
/// store, for the project's configuration (its Xargo.toml/sysgen.toml
/// crates, patches and features; the targets as `sysgen cargo` finds
/// them, else the host), then the tool's own cargo subcommand with the
/// sysroot in its variable (`MIRI_SYSROOT`), so that it never builds one
/// of its own. `setup` stops after the sysroot (`--print-sysroot`: its
/// path alone on stdout).
fn run_tool(
    tool: &str,
    d: &crate::library::rules::DriverRules,
    args: &[OsString],
    cargo: &Cargo,
    inv: &Invocation,
) -> Result<i32> {
    let (Some(subcommand), Some(sysroot_env)) = (&d.cargo_subcommand, &d.sysroot_env) else {
        user_bail!(
            "`sysgen cargo {tool}` is not a cargo subcommand sysgen can run; build the sysroot with `sysgen build --for {tool}`"
        );
    };
    let Some(dir) = project_dir(inv)? else {
        user_bail!(
            "`sysgen cargo {tool}` found no Cargo.toml here or above; run it in a project or pass --manifest-path"
        );
    };
    let project = crate::config::project::Project::load(&dir)?;
    let cwd = fsx::current_dir()?;
    let targets: Vec<String> = configured_targets(inv, &project)
        .into_iter()
        .map(|t| CompileTarget::parse(&t).relative_to(&cwd).rustc_arg())
        .collect();
    let opts = GraphOptions {
        sources: cargo.sources()?,
        targets,
        crates: None,
        features: None,
        // One sysroot for `run` and `test`: unwinding, with the harness.
        panic: Some(PanicStrategy::Unwind),
        config: None,
        no_config: false,
        profile: None,
        project_dir: Some(dir.clone()),
        test_harness: d.test_harness,
        driver: Some(tool.to_string()),
    };
    let flags = ModelFlags {
        rustflags: rustflags::env_rustflags()?,
        env_rustflags_set: rustflags::env_rustflags_set(),
        ..Default::default()
    };
    let regen = |loaded: &_, build: &_| crate::cli::regen::to_args("ninja", &opts, build, loaded);
    // The tool's driver runs rustc's front end itself: no wrapper.
    let stored = crate::store::build::sysroot_in_store(&opts, &flags, None, &regen, inv.jobs)?;
    announce(&stored);
    let _held = stored.entry.hold();
    stored.entry.touch();
    let sysroot = stored.entry.sysroot();
    let after: Vec<&OsString> = args
        .iter()
        .skip_while(|a| a.to_str() != Some(tool))
        .skip(1)
        .collect();
    if after.first().and_then(|a| a.to_str()) == Some("setup") {
        if after.iter().any(|a| a.to_str() == Some("--print-sysroot")) {
            println!("{}", sysroot.display());
        }
        return Ok(0);
    }
    let program = stored.rustc.sysroot.join("bin").join(subcommand);
    if !program.is_file() {
        user_bail!(
            "{} is missing beside the {tool} driver; reinstall the component with `rustup component add {}`",
            program.display(),
            d.component
        );
    }
    // What cargo runs for `cargo miri …`: the subcommand's binary with its
    // name first, and the cargo that ran it in CARGO.
    let run = Cargo {
        program: Some(program),
        toolchain: cargo.toolchain.clone(),
    };
    let mut full: Vec<OsString> = vec![tool.into()];
    full.extend(after.into_iter().cloned());
    let cargo_program = cargo.program();
    // The driver takes the sysroot from the variable (and refuses a second
    // `--sysroot`), but cargo does not fingerprint variables: a `-C
    // metadata` naming the sysroot in the target crates' rustflags makes
    // another sysroot rebuild the project's crates instead of mixing two
    // `core`s in one target directory.
    let mut rustflags = match stored.targets.first() {
        Some(t) => rustflags::as_cargo_reads(
            "CARGO_ENCODED_RUSTFLAGS",
            "RUSTFLAGS",
            project.rustflags_for(t),
        )?,
        None => Vec::new(),
    };
    rustflags.push(format!(
        "-Cmetadata=sysgen-sysroot-{}",
        crate::base::hash::stable_hash(&[&sysroot.display().to_string()])
    ));
    run.run(
        &full,
        &[
            (sysroot_env.as_str(), Some(sysroot.into_os_string())),
            ("CARGO", Some(cargo_program)),
            ("CARGO_ENCODED_RUSTFLAGS", Some(encode(&rustflags))),
            ("RUSTFLAGS", None),
        ],
    )
}

/// The targets cargo will build for: `--target`, else
/// `CARGO_BUILD_TARGET`, else the project's `build.target`.
fn configured_targets(inv: &Invocation, project: &crate::config::project::Project) -> Vec<String> {
    let mut targets = inv.targets.clone();
    if targets.is_empty()
        && let Ok(t) = std::env::var("CARGO_BUILD_TARGET")
        && !t.is_empty()
    {
        targets.push(t);
    }
    if targets.is_empty() {
        targets = project.build_target.clone();
    }
    targets
}

/// Whether sysgen runs as `xargo` (false) or `xargo-check` (true: the
/// sysroot is checked, not built, and the cargo command is as given).
pub fn xargo_name(argv0: &OsStr) -> Option<bool> {
    match Path::new(argv0).file_name()?.to_str()? {
        "xargo" => Some(false),
        "xargo-check" => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Invocation {
        parse(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn the_subcommand_follows_global_options_and_their_values() {
        let i = p(&[
            "-Z",
            "unstable-options",
            "--config",
            "x=1",
            "-v",
            "build",
            "--target",
            "t1",
        ]);
        assert_eq!(i.subcommand.as_deref(), Some("build"));
        assert_eq!(i.targets, ["t1"]);
    }

    #[test]
    fn targets_profiles_and_manifest_paths_in_both_spellings() {
        let i = p(&[
            "test",
            "--target=a",
            "--target",
            "b.json",
            "--release",
            "--manifest-path=x/Cargo.toml",
            "--",
            "--target",
            "c",
        ]);
        assert_eq!(
            i.targets,
            ["a", "b.json"],
            "after -- the arguments are the program's"
        );
        assert!(i.release);
        assert_eq!(i.manifest_path, Some(PathBuf::from("x/Cargo.toml")));
        assert_eq!(
            p(&["build", "--profile", "small"]).profile.as_deref(),
            Some("small")
        );
    }

    #[test]
    fn what_each_subcommand_needs_from_the_sysroot() {
        assert_eq!(kind("build"), Kind::Build);
        assert_eq!(kind("run"), Kind::Build);
        assert_eq!(kind("check"), Kind::Check);
        assert_eq!(kind("clippy"), Kind::Check);
        assert_eq!(kind("test"), Kind::Test);
        assert_eq!(kind("bench"), Kind::Test);
        assert_eq!(kind("new"), Kind::PassThrough);
        assert_eq!(kind("metadata"), Kind::PassThrough);
    }

    #[test]
    fn jobs_in_every_spelling() {
        for args in [
            &["build", "-j", "3"][..],
            &["build", "-j3"],
            &["build", "--jobs", "3"],
            &["build", "--jobs=3"],
        ] {
            assert_eq!(p(args).jobs, Some(3), "{args:?}");
        }
        assert_eq!(p(&["build"]).jobs, None);
    }

    #[test]
    fn xargo_names() {
        assert_eq!(xargo_name(OsStr::new("/usr/bin/xargo")), Some(false));
        assert_eq!(xargo_name(OsStr::new("xargo-check")), Some(true));
        assert_eq!(xargo_name(OsStr::new("sysgen")), None);
    }
}
