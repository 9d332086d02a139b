//! The command line: clap's types, and one function per subcommand.

mod args;
mod cache;
pub mod cargo;
pub mod fetch;
pub mod regen;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use crate::base::error::UserError;
use crate::base::fsx;
use args::{BuildArgs, Cli, Command, Format, Selection};

use crate::emit::generate;
use crate::model::declare::{self, ModelFlags};
use crate::resolve::load;

/// Run one build-file emitter of the [`generate`] pipeline, giving it the
/// regeneration command of `subcommand` (what `sysgen SUBCOMMAND` regenerates
/// the same file with).
fn emit_with(
    sel: &Selection,
    build: &BuildArgs,
    subcommand: &str,
    emit: impl Fn(&load::GraphOptions, &generate::BuildOptions, generate::RegenFn) -> Result<PathBuf>,
) -> Result<PathBuf> {
    let opts = sel.options(build.model.profile.as_deref())?;
    emit(&opts, &build.options()?, &|loaded, b| {
        regen::to_args(subcommand, &opts, b, loaded)
    })
}

/// Check a report's `-o` before anything is computed (`-` is standard
/// output).
fn check_report_output(output: Option<&PathBuf>) -> Result<()> {
    match output {
        Some(p) if p.as_os_str() != "-" => fsx::check_output(p, fsx::Replace::RegularFile),
        _ => Ok(()),
    }
}

/// A report to its `-o` file, or to standard output (no `-o`, or `-o -`).
fn write_output(output: Option<&PathBuf>, text: &str) -> Result<()> {
    match output.filter(|p| p.as_os_str() != "-") {
        Some(p) => fsx::write_atomic(p, text.as_bytes()),
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
            check_report_output(output.as_ref())?;
            let rules = crate::library::rules::Rules::load()?;
            let loaded = load::load(&sel.options(model.profile.as_deref())?, &rules)?;
            let text = match format {
                Format::Json => crate::emit::json::to_string(&loaded.graph),
                Format::Dot => crate::emit::dot::to_string(&loaded.graph)?,
                Format::Crates => {
                    let flags = ModelFlags {
                        sources: true,
                        ..model.options()?
                    };
                    let m = declare::declare(&loaded, &rules, &flags)?;
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
            let (loaded, m) = declare::load_declared(&opts, &model.options()?)?;
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
            check_report_output(Some(&out))?;
            let html = crate::report::timings::report(&dir)?;
            write_output(Some(&out), &html)?;
            if out.as_os_str() != "-" {
                eprintln!("sysgen: wrote {}", out.display());
            }
            Ok(())
        }
        Command::Sbom { sel, model, output } => {
            check_report_output(output.as_ref())?;
            let (loaded, m) =
                declare::load_declared(&sel.options(model.profile.as_deref())?, &model.options()?)?;
            write_output(
                output.as_ref(),
                &crate::report::provenance::sbom(&loaded, &m)?,
            )
        }
        Command::Fetch { src } => crate::cli::fetch::fetch(&src.options()),
        Command::Cargo { args } => exit_with(crate::cli::cargo::run(args, false)?),
        Command::Cache { command } => cache::run(command),
        Command::Ninja { sel, build } => {
            let path = emit_with(&sel, &build, "ninja", generate::generate_ninja)?;
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
            let flags = ModelFlags {
                sources: true,
                ..model.options()?
            };
            let (_, m) = declare::load_declared(&sel.options(model.profile.as_deref())?, &flags)?;
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
            let dir = emit_with(&sel, &build, "make", generate::generate_make)?;
            eprintln!(
                "sysgen: wrote {}/sysgen.mk and a Makefile; build with `make -C {} -j`",
                dir.display(),
                dir.display()
            );
            Ok(())
        }
        Command::Bazel { sel, build } => {
            // A Bazel repository has no regeneration rule.
            let dir = emit_with(&sel, &build, "bazel", |o, b, _| {
                generate::generate_bazel(o, b)
            })?;
            eprintln!(
                "sysgen: wrote a Bazel repository in {}; build it with `bazel build //:all`",
                dir.display()
            );
            Ok(())
        }
        Command::Buck2 { sel, build } => {
            let dir = emit_with(&sel, &build, "buck2", generate::generate_buck2)?;
            eprintln!(
                "sysgen: wrote a Buck2 cell in {}; add it to your .buckconfig's [cells] and point toolchains//:rust at its :rust (see README)",
                dir.display()
            );
            Ok(())
        }
        Command::Build { sel, build, jobs } => {
            crate::exec::ninja::check_available()?;
            // Held through the build: the next generation waits for it.
            let _lock = crate::emit::outdir::DirLock::take(&build.out_dir)?;
            let path = emit_with(&sel, &build, "ninja", generate::generate_ninja)?;
            let dir = path.parent().expect("build.ninja has a directory");
            crate::exec::ninja::run_ninja(dir, jobs.map(usize::from))?;
            let tool = match &sel.for_tool {
                Some(name) => {
                    let rules = crate::library::rules::Rules::load()?;
                    let d = rules.driver(name)?;
                    d.sysroot_env.clone().map(|v| (name.clone(), v))
                }
                None => None,
            };
            eprintln!("{}", sysroot_usage(dir, tool));
            Ok(())
        }
        Command::RunBuildScript { spec } => crate::exec::runscript::run(&spec),
        Command::EnvCheck { stamps } => crate::exec::envdeps::check(&stamps),
        Command::PipeBegin {
            mkdir,
            env_stamps,
            env_file,
            background,
            state,
            cmd,
        } => {
            if background {
                crate::exec::priority::lower_front_end();
            }
            exit_with(crate::exec::pipe::begin(
                &state,
                &mkdir,
                env_stamps.as_deref(),
                env_file.as_deref(),
                &cmd,
            )?)
        }
        Command::PipeSupervise { state, cmd } => {
            exit_with(crate::exec::pipe::supervise(&state, &cmd)?)
        }
        Command::RunRustc {
            env,
            env_paths,
            remap_pwd,
            env_stamps,
            env_file,
            cmd,
        } => {
            let in_pwd = crate::exec::pipe::InPwd {
                env_paths,
                remap_pwd,
                env_stamps,
                env_file,
            };
            exit_with(crate::exec::pipe::run_rendered(&env, &in_pwd, &cmd)?)
        }
        Command::RustcEnv { cmd } => exit_with(crate::exec::envset::run(&cmd)?),
        Command::PipeEnd { state, rmeta, rlib } => {
            exit_with(crate::exec::pipe::end(&state, &rmeta, &rlib)?)
        }
    }
}

/// The last line of `sysgen build`: where the sysroot is and how to use it
/// (for a tool of `--for`: its name and the variable that takes a sysroot).
fn sysroot_usage(dir: &std::path::Path, tool: Option<(String, String)>) -> String {
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
    let q = crate::emit::shell::shell_quote;
    let t = targets.first().map(String::as_str).unwrap_or("TARGET");
    if let Some((tool, var)) = tool {
        return format!(
            "sysgen: {tool} sysroot for {} in {path}; use it with `{var}={} cargo {tool} run --target {t}` (or `sysgen cargo {tool} …`)",
            targets.join(", "),
            q(&path)
        );
    }
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
    // The remote cache's credentials never reach what sysgen starts.
    crate::store::remote::settings::take_from_environment();
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
