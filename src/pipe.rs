//! Pipelined compilation under Ninja: one rustc process, two build edges.
//!
//! Cargo starts a dependent as soon as rustc has written a crate's `.rmeta`,
//! while the same rustc process goes on generating code for the `.rlib`.
//! A Ninja edge ends only when its process ends, so sysgen splits one rustc
//! call over two edges that share a state directory:
//!
//! - `sysgen pipe-begin STATE -- rustc …` (outputs the `.rmeta`) starts a
//!   supervisor that runs rustc with JSON artifact notices, and exits as soon
//!   as the supervisor reports that the metadata is written. Dependents'
//!   metadata edges can start now.
//! - `sysgen pipe-end STATE RMETA RLIB` (outputs the `.rlib`, depends on the
//!   `.rmeta`) waits for that rustc process to end (a shared lock on a file
//!   the supervisor holds exclusively), prints its diagnostics and exits with
//!   its status.
//!
//! The supervisor holds the lock for its whole life, so a crash or kill
//! releases it; `pipe-end` then finds no status and compiles again, in the
//! foreground. A failure after the metadata removes the `.rmeta`, so the next
//! build starts over instead of trusting a half-finished crate.
//!
//! rustc runs with `--error-format=json --json=artifacts`; the supervisor
//! turns diagnostics back into the text rustc would have printed.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

/// The flags the supervisor needs from rustc (added by the plan).
pub const RUSTC_FLAGS: [&str; 2] = ["--error-format=json", "--json=artifacts"];

const NOTICE: &str = "metadata";

fn argv_file(state: &Path) -> std::path::PathBuf {
    state.join("argv.json")
}

/// `sysgen pipe-begin`: returns the exit status for Ninja.
pub fn begin(state: &Path, cmd: &[OsString]) -> Result<i32> {
    fs::create_dir_all(state).with_context(|| format!("cannot create {}", state.display()))?;
    for f in ["status", "log"] {
        let _ = fs::remove_file(state.join(f));
    }
    let argv: Vec<String> = cmd.iter().map(|s| s.to_string_lossy().into()).collect();
    crate::fsx::write_atomic(&argv_file(state), serde_json::to_string(&argv)?.as_bytes())?;
    let (reader, writer) = std::io::pipe()?;
    let mut child = {
        let mut c = Command::new(std::env::current_exe()?);
        c.arg("pipe-supervise")
            .arg(state)
            .arg("--")
            .args(cmd)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::null());
        c.spawn().context("cannot start the rustc supervisor")?
        // `c` drops here, and with it our copy of the pipe's write end.
    };
    let mut line = String::new();
    BufReader::new(reader).read_line(&mut line)?;
    if line.trim_end() == NOTICE {
        // rustc goes on generating code; `pipe-end` waits for it.
        return Ok(0);
    }
    // The supervisor ended before the metadata existed: rustc failed early.
    child.wait()?;
    print_log(state)?;
    Ok(status(state).unwrap_or(1))
}

/// `sysgen pipe-supervise` (started by `pipe-begin` only).
pub fn supervise(state: &Path, cmd: &[OsString]) -> Result<i32> {
    let lock = File::create(state.join("lock"))?;
    lock.lock()?;
    let code = run_rustc(state, cmd, &mut std::io::stdout())?;
    crate::fsx::write_atomic(&state.join("status"), format!("{code}\n").as_bytes())?;
    drop(lock);
    Ok(0)
}

/// Run rustc, writing its diagnostics to STATE/log and `metadata` to
/// `notify` once the `.rmeta` is complete.
fn run_rustc(state: &Path, cmd: &[OsString], notify: &mut dyn Write) -> Result<i32> {
    let mut log = File::create(state.join("log"))?;
    let (program, args) = cmd.split_first().context("pipe: no command")?;
    let mut child = match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            writeln!(log, "sysgen: cannot run {}: {e}", program.to_string_lossy())?;
            return Ok(127);
        }
    };
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if stderr.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&buf);
        match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(v) if v.get("$message_type").and_then(|t| t.as_str()) == Some("artifact") => {
                if v.get("emit").and_then(|e| e.as_str()) == Some("metadata") {
                    // A closed pipe only means nobody waits any more.
                    let _ = writeln!(notify, "{NOTICE}").and_then(|_| notify.flush());
                }
            }
            Ok(v) if v.get("rendered").is_some() => {
                log.write_all(v["rendered"].as_str().unwrap_or_default().as_bytes())?;
            }
            _ => log.write_all(&buf)?,
        }
    }
    let status = child.wait()?;
    Ok(status.code().unwrap_or(1))
}

/// The recorded exit status, if the run finished.
fn status(state: &Path) -> Option<i32> {
    fs::read_to_string(state.join("status"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

/// Print rustc's diagnostics (STATE/log) to stderr.
fn print_log(state: &Path) -> Result<()> {
    let mut log = Vec::new();
    if let Ok(mut f) = File::open(state.join("log")) {
        f.read_to_end(&mut log)?;
    }
    std::io::stderr().write_all(&log)?;
    Ok(())
}

/// `sysgen pipe-end`: wait for the rustc that `pipe-begin` started.
pub fn end(state: &Path, rmeta: &Path, rlib: &Path) -> Result<i32> {
    if let Ok(lock) = File::open(state.join("lock")) {
        lock.lock_shared()?;
    }
    let code = match status(state) {
        Some(code) if code != 0 || rlib.exists() => code,
        // Killed, or its output deleted since: compile again, here.
        _ => {
            let argv: Vec<OsString> = fs::read(argv_file(state))
                .ok()
                .and_then(|b| serde_json::from_slice::<Vec<String>>(&b).ok())
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect();
            if argv.is_empty() {
                let _ = fs::remove_file(rmeta);
                eprintln!(
                    "sysgen: no record of how {} was compiled; run the build again",
                    rlib.display()
                );
                return Ok(1);
            }
            run_rustc(state, &argv, &mut std::io::sink())?
        }
    };
    print_log(state)?;
    if code != 0 {
        // Never leave a metadata file that claims a finished crate.
        let _ = fs::remove_file(rmeta);
    }
    Ok(code)
}
