//! Pipelined compilation under Ninja: one rustc process, two build edges.
//!
//! Cargo starts a dependent as soon as rustc has written a crate's `.rmeta`,
//! while the same rustc process goes on generating code for the `.rlib`.
//! A Ninja edge ends only when its process ends, so sysgen splits one rustc
//! call over two edges that share a state directory:
//!
//! - `sysgen pipe-begin [--mkdir DIR]… STATE -- rustc …` (outputs the
//!   `.rmeta`) creates the directories rustc will write into, then starts a
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
//!
//! Failure cases:
//! - **Ordering under load**: rustc writes the rlib into its directory long
//!   before Ninja may start the codegen edge, whose output directory it is
//!   (many targets, a busy machine, `-j1`), so `pipe-begin` creates every
//!   directory rustc writes into (`--mkdir`) before rustc starts.
//! - **Recompiling in `pipe-end`** must run exactly what the edge ran:
//!   `pipe-begin` records the command, its working directory and the
//!   variables a build script set for it (`--env-file`) in
//!   STATE/command.json; the variables the build file sets
//!   (`RUSTC_BOOTSTRAP`, `CARGO_*`, `OUT_DIR`, …) are on pipe-end's own
//!   command line too, and the rest is the build's environment. Nothing
//!   else of the environment is written down: it may hold secrets. The
//!   build is relocatable, so the only absolute paths into the output
//!   directory in a record are the edge's `$PWD`: a record made before the
//!   directory moved is replayed with the old directory replaced by the
//!   new one.
//! - **Interrupting the build** (Ctrl-C, or ninja killed): once `pipe-begin`
//!   has exited, Ninja no longer knows the supervisor, so it would go on
//!   writing into the sysroot after the build stopped. The build rule passes
//!   the build's own process id (`SYSGEN_BUILD_PID`, the `$PPID` of the
//!   edge's shell, which is ninja); the supervisor watches it and, once it
//!   is gone, kills rustc and exits without recording a status, so the next
//!   build compiles the crate again.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

const NOTICE: &str = "metadata";

/// The variable through which the build rule names the build's process.
pub const BUILD_PID_VAR: &str = "SYSGEN_BUILD_PID";

/// How the edge ran rustc, for `pipe-end` to run it again.
#[derive(Serialize, Deserialize)]
struct Record {
    argv: Vec<String>,
    /// The variables a build script set for the compile (`rustc-env`).
    env: Vec<(String, String)>,
    cwd: PathBuf,
}

fn record_file(state: &Path) -> PathBuf {
    state.join("command.json")
}

/// `sysgen pipe-begin`: returns the exit status for Ninja.
pub fn begin(
    state: &Path,
    mkdir: &[PathBuf],
    env_stamps: Option<&Path>,
    env_file: Option<&Path>,
    cmd: &[OsString],
) -> Result<i32> {
    let started = std::time::SystemTime::now();
    crate::base::fsx::create_dir_all(state)?;
    for d in mkdir {
        crate::base::fsx::create_dir_all(d)?;
    }
    for f in ["status", "log", WAITING] {
        let _ = fs::remove_file(state.join(f));
    }
    let script_env = match env_file {
        Some(f) => crate::exec::runscript::read_env_file(f)?,
        None => Vec::new(),
    };
    let record = Record {
        argv: cmd.iter().map(|s| s.to_string_lossy().into()).collect(),
        env: script_env.clone(),
        cwd: crate::base::fsx::current_dir()?,
    };
    crate::base::fsx::write_atomic(
        &record_file(state),
        serde_json::to_string(&record)?.as_bytes(),
    )?;
    let (reader, writer) = std::io::pipe()?;
    let mut child = {
        let mut c = Command::new(crate::base::fsx::current_exe()?);
        c.arg("pipe-supervise")
            .arg(state)
            .arg("--")
            .args(cmd)
            .envs(script_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::null());
        c.spawn().context("cannot start the rustc supervisor")?
        // `c` drops here, and with it our copy of the pipe's write end.
    };
    let mut line = String::new();
    BufReader::new(reader).read_line(&mut line)?;
    if line.trim_end() == NOTICE {
        // The dep-info is complete once the metadata is.
        if let Some(dir) = env_stamps {
            let set: Vec<&str> = script_env.iter().map(|(k, _)| k.as_str()).collect();
            crate::exec::envdeps::track_dep_info(dir, &cmd[1..], &set, started)?;
        }
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
    let lock = create(&state.join("lock"))?;
    lock.lock()?;
    let build = std::env::var(BUILD_PID_VAR)
        .ok()
        .and_then(|p| p.parse::<u32>().ok())
        .and_then(Process::find);
    let mut command = Command::new(&cmd[0]);
    command.args(&cmd[1..]).env_remove(BUILD_PID_VAR);
    let abandoned = Arc::new(AtomicBool::new(false));
    // The notice ends the edge; with a jobserver it waits for a token for
    // the code generation still to come (`jobserver.rs`), until rustc exits
    // at the latest.
    let notice = Notice::default();
    let mut codegen = None;
    let code = run_rustc(
        state,
        command,
        &mut |pid| {
            crate::exec::priority::lower_code_generation(pid);
            notice.arm();
            let send = notice.clone();
            codegen =
                crate::exec::jobserver::CodegenToken::request(state.join(WAITING), move || {
                    send.send()
                });
            if codegen.is_none() {
                notice.send();
            }
        },
        build.map(|b| (b, abandoned.clone())),
    );
    // rustc has exited: the edge ends now if it has not yet.
    notice.send();
    drop(codegen);
    let code = code?;
    if abandoned.load(Ordering::SeqCst) {
        // The build is gone: record nothing, so the next build compiles again.
        return Ok(1);
    }
    crate::base::fsx::write_atomic(&state.join("status"), format!("{code}\n").as_bytes())?;
    drop(lock);
    Ok(0)
}

/// The metadata notice to `pipe-begin` (which ends the edge): sent once,
/// from whichever thread comes first, and only once the `.rmeta` exists.
#[derive(Clone, Default)]
struct Notice(Arc<Mutex<(bool, bool)>>);

impl Notice {
    /// The `.rmeta` is written: the notice may go.
    fn arm(&self) {
        if let Ok(mut s) = self.0.lock() {
            s.0 = true;
        }
    }

    fn send(&self) {
        let Ok(mut s) = self.0.lock() else {
            return;
        };
        let (armed, sent) = *s;
        if armed && !sent {
            s.1 = true;
            // A closed pipe only means nobody waits any more.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{NOTICE}").and_then(|_| out.flush());
        }
    }
}

/// A running process, told apart from a later one with the same id by its
/// start time (Linux `/proc`).
#[derive(Clone, Copy)]
struct Process {
    pid: u32,
    start: u64,
}

impl Process {
    fn stat(pid: u32) -> Option<(char, u64)> {
        let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
        let rest = &text[text.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let state = fields.first()?.chars().next()?;
        let start = fields.get(19)?.parse().ok()?;
        Some((state, start))
    }

    fn find(pid: u32) -> Option<Process> {
        let (_, start) = Self::stat(pid)?;
        Some(Process { pid, start })
    }

    fn alive(&self) -> bool {
        Self::stat(self.pid).is_some_and(|(state, start)| state != 'Z' && start == self.start)
    }
}

/// Run rustc, writing its diagnostics to STATE/log, and calling
/// `on_metadata` (with rustc's process id) once the `.rmeta` is complete.
/// With `watch`, rustc is killed (and the flag set) once the watched build
/// process is gone.
fn run_rustc(
    state: &Path,
    mut command: Command,
    on_metadata: &mut dyn FnMut(u32),
    watch: Option<(Process, Arc<AtomicBool>)>,
) -> Result<i32> {
    let mut log = create(&state.join("log"))?;
    let started = now_ms();
    let mut metadata_at = None;
    let mut child = match command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            writeln!(
                log,
                "sysgen: cannot run {}: {e}",
                command.get_program().to_string_lossy()
            )?;
            return Ok(127);
        }
    };
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let pid = child.id();
    let child = Arc::new(Mutex::new(child));
    let finished = Arc::new(AtomicBool::new(false));
    if let Some((build, abandoned)) = watch {
        let (finished, child) = (finished.clone(), child.clone());
        std::thread::spawn(move || {
            while !finished.load(Ordering::SeqCst) {
                if !build.alive() {
                    abandoned.store(true, Ordering::SeqCst);
                    let _ = child.lock().map(|mut c| c.kill());
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
    }
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if stderr.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        if render(&buf, &mut log)? {
            metadata_at.get_or_insert_with(now_ms);
            on_metadata(pid);
        }
    }
    let status = child.lock().expect("no panics hold it").wait()?;
    finished.store(true, Ordering::SeqCst);
    // For `sysgen timings`: code generation runs outside any Ninja edge.
    let end = now_ms();
    let times = format!("{started} {} {end}\n", metadata_at.unwrap_or(end));
    let _ = crate::base::fsx::write_atomic(&state.join(TIMES), times.as_bytes());
    Ok(status.code().unwrap_or(1))
}

/// STATE/times: when rustc started, wrote the `.rmeta` and ended
/// (milliseconds since the Unix epoch).
pub const TIMES: &str = "times";

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

fn create(path: &Path) -> Result<File> {
    File::create(path).map_err(|e| crate::base::fsx::io_error("write", path, &e))
}

/// What `sysgen run-rustc` adds where the directory it runs in is known
/// only then (a Bazel action's execution root). Nothing of the command is
/// rewritten: a rustflag reaches rustc byte for byte.
#[derive(Debug, Default)]
pub struct InPwd {
    /// `--env-path NAME=PATH`: NAME is PATH below the directory.
    pub env_paths: Vec<String>,
    /// `--remap-pwd TO`: `--remap-path-prefix=<directory>=TO` is appended.
    pub remap_pwd: Option<String>,
    /// `--env-stamps DIR`: the environment variables the compile read are
    /// tracked there ([`crate::exec::envdeps::track_dep_info`]).
    pub env_stamps: Option<PathBuf>,
    /// `--env-file FILE`: a build script's `rustc-env` variables (below the
    /// directory, like `--env-path`'s paths).
    pub env_file: Option<PathBuf>,
}

/// `sysgen run-rustc [--env K=V]… [--env-path K=P]… [--remap-pwd TO] --
/// rustc …`: run a compile whose diagnostics are JSON (the model asks for
/// them: they change the rlib's bytes) and print them as rustc would have;
/// exit with rustc's status.
pub fn run_rendered(env: &[String], in_pwd: &InPwd, cmd: &[OsString]) -> Result<i32> {
    let started = std::time::SystemTime::now();
    let pwd = crate::base::fsx::current_dir()?;
    let (program, args) = cmd.split_first().context("run-rustc: no command")?;
    let mut command = Command::new(program);
    command.args(args);
    if let Some(to) = &in_pwd.remap_pwd {
        let mut a = OsString::from("--remap-path-prefix=");
        a.push(&pwd);
        a.push("=");
        a.push(to);
        command.arg(a);
    }
    for kv in env {
        let (k, v) = kv
            .split_once('=')
            .context("run-rustc: --env takes NAME=VALUE")?;
        command.env(k, v);
    }
    for kv in &in_pwd.env_paths {
        let (k, p) = kv
            .split_once('=')
            .context("run-rustc: --env-path takes NAME=PATH")?;
        command.env(k, pwd.join(p));
    }
    let script_env = match &in_pwd.env_file {
        Some(f) => crate::exec::runscript::read_env_file(&pwd.join(f))?,
        None => Vec::new(),
    };
    command.envs(script_env.iter().map(|(k, v)| (k, v)));
    let mut child = match command.stdin(Stdio::null()).stderr(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sysgen: cannot run {}: {e}", program.to_string_lossy());
            return Ok(127);
        }
    };
    let mut stderr = BufReader::new(child.stderr.take().expect("piped"));
    let mut out = std::io::stderr();
    let mut buf = Vec::new();
    while stderr.read_until(b'\n', &mut buf)? != 0 {
        render(&buf, &mut out)?;
        buf.clear();
    }
    let code = child.wait()?.code().unwrap_or(1);
    if let (0, Some(dir)) = (code, &in_pwd.env_stamps) {
        let set: Vec<&str> = script_env.iter().map(|(k, _)| k.as_str()).collect();
        crate::exec::envdeps::track_dep_info(dir, args, &set, started)?;
    }
    Ok(code)
}

/// One line of rustc's stderr as a person reads it: a diagnostic's rendered
/// text, nothing for an artifact notice, anything else as it is.
fn render(line: &[u8], out: &mut dyn Write) -> Result<bool> {
    let text = String::from_utf8_lossy(line);
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) if v.get("$message_type").and_then(|t| t.as_str()) == Some("artifact") => {
            Ok(v.get("emit").and_then(|e| e.as_str()) == Some("metadata"))
        }
        Ok(v) if v.get("rendered").is_some() => {
            out.write_all(v["rendered"].as_str().unwrap_or_default().as_bytes())?;
            Ok(false)
        }
        _ => {
            out.write_all(line)?;
            Ok(false)
        }
    }
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

/// STATE/waiting: `pipe-end` waits; its edge's slot stands for the code
/// generation from then on.
const WAITING: &str = "waiting";

/// `sysgen pipe-end`: wait for the rustc that `pipe-begin` started.
pub fn end(state: &Path, rmeta: &Path, rlib: &Path) -> Result<i32> {
    let _ = File::create(state.join(WAITING));
    if let Ok(lock) = File::open(state.join("lock")) {
        lock.lock_shared()?;
    }
    let code = match status(state) {
        Some(code) if code != 0 || rlib.exists() => code,
        // Killed, or its output deleted since: compile again, here, exactly
        // as the edge did.
        _ => match recorded_command(state)? {
            Ok(command) => {
                let kept = Kept::of(rmeta);
                let code = run_rustc(state, command, &mut |_| {}, None)?;
                kept.restore_if_same(rmeta);
                code
            }
            Err(why) => {
                let _ = fs::remove_file(rmeta);
                eprintln!("sysgen: {} {why}; run the build again", rlib.display());
                return Ok(1);
            }
        },
    };
    print_log(state)?;
    if code != 0 {
        // Never leave a metadata file that claims a finished crate.
        let _ = fs::remove_file(rmeta);
    }
    Ok(code)
}

/// A `.rmeta` as its edge left it. Compiling again in `pipe-end` writes it
/// again; Ninja's deps log holds the time its edge wrote it, and a later
/// time would make the next build start over from that crate. The same
/// bytes get their old time back.
struct Kept(Option<(Vec<u8>, std::time::SystemTime)>);

impl Kept {
    fn of(rmeta: &Path) -> Kept {
        let time = fs::metadata(rmeta).and_then(|m| m.modified());
        Kept(fs::read(rmeta).ok().zip(time.ok()))
    }

    fn restore_if_same(self, rmeta: &Path) {
        if let Some((bytes, time)) = self.0
            && fs::read(rmeta).is_ok_and(|now| now == bytes)
        {
            let _ = File::options()
                .write(true)
                .open(rmeta)
                .and_then(|f| f.set_modified(time));
        }
    }
}

/// The command `pipe-begin` recorded, in pipe-end's environment (the
/// build's, and the variables the build file sets for the crate) with the
/// build script's variables and the directory; or why it cannot be
/// replayed.
fn recorded_command(state: &Path) -> Result<std::result::Result<Command, String>> {
    let Some(r) = fs::read(record_file(state))
        .ok()
        .and_then(|b| serde_json::from_slice::<Record>(&b).ok())
        .filter(|r| !r.argv.is_empty())
    else {
        return Ok(Err("has no record of how it was compiled".into()));
    };
    let cwd = crate::base::fsx::current_dir()?;
    let (old, new) = (r.cwd.display().to_string(), cwd.display().to_string());
    let moved = |s: &String| relocate(s, &old, &new);
    let mut c = Command::new(&r.argv[0]);
    c.args(r.argv[1..].iter().map(moved))
        .envs(r.env.iter().map(|(k, v)| (k, moved(v))))
        .current_dir(cwd);
    Ok(Ok(c))
}

/// `s` with the directory `old` (followed by `/`, `=` or nothing) replaced
/// by `new`.
fn relocate(s: &str, old: &str, new: &str) -> String {
    if old == new {
        return s.to_string();
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(old) {
        let after = &rest[i + old.len()..];
        let whole = after.is_empty() || after.starts_with('/') || after.starts_with('=');
        out.push_str(&rest[..i]);
        out.push_str(if whole { new } else { old });
        rest = after;
    }
    out.push_str(rest);
    out
}
