//! `sysgen rustc-env -- rustc ARGS…`: rustc with the `--env-set=NAME=VALUE`
//! arguments it was given (in `@files` too) taken out and set in its
//! environment instead — how a build script's `cargo:rustc-env` reaches
//! rustc under Buck2, whose prelude writes it as `--env-set` (an unstable
//! rustc flag that later releases dropped). The Buck2 cell's toolchain runs
//! rustc through this; anything else passes unchanged, and a command with
//! no `--env-set` is run as it is.

use std::ffi::OsString;
use std::path::Path;

use anyhow::{Context, Result};

/// `@file` arguments read in, up to this depth (rustc reads one level;
/// the prelude nests one more).
const DEPTH: usize = 4;

/// Expand `@file` arguments into `out`; whether any was.
fn expand(args: &[String], depth: usize, out: &mut Vec<String>) -> Result<bool> {
    let mut any = false;
    for a in args {
        match a.strip_prefix('@') {
            Some(f) if depth < DEPTH && Path::new(f).is_file() => {
                let text = std::fs::read_to_string(f)
                    .with_context(|| format!("reading the argument file {f}"))?;
                let lines: Vec<String> = text.lines().map(str::to_string).collect();
                expand(&lines, depth + 1, out)?;
                any = true;
            }
            _ => out.push(a.clone()),
        }
    }
    Ok(any)
}

/// Run the command; returns only when rustc could not be started.
pub fn run(cmd: &[OsString]) -> Result<i32> {
    use std::os::unix::process::CommandExt;
    let (program, args) = cmd.split_first().context("rustc-env: no command")?;
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut flat = Vec::new();
    expand(&args, 0, &mut flat)?;
    let mut env = Vec::new();
    let mut rest = Vec::new();
    let mut it = flat.into_iter();
    while let Some(a) = it.next() {
        let kv = match a.strip_prefix("--env-set=") {
            Some(kv) => Some(kv.to_string()),
            None if a == "--env-set" => it.next(),
            None => None,
        };
        match kv {
            Some(kv) => match kv.split_once('=') {
                Some((k, v)) => env.push((k.to_string(), v.to_string())),
                None => rest.push(a),
            },
            None => rest.push(a),
        }
    }
    let mut c = std::process::Command::new(program);
    if env.is_empty() {
        c.args(&args);
    } else {
        // The rest as one argument file, as rustc reads it, in the action's
        // scratch directory (or the temporary one).
        let dir = std::env::var_os("BUCK_SCRATCH_PATH")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        crate::base::fsx::create_dir_all(&dir)?;
        let file = dir.join(format!("rustc-env-args-{}", std::process::id()));
        let text: String = rest.iter().map(|a| format!("{a}\n")).collect();
        crate::base::fsx::write_atomic(&file, text.as_bytes())?;
        let mut at = OsString::from("@");
        at.push(&file);
        c.arg(at).envs(env);
    }
    let e = c.exec();
    eprintln!("sysgen: cannot run {}: {e}", program.to_string_lossy());
    Ok(127)
}
