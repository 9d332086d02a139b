//! No process outlives the sysgen that started its build.
//!
//! The ninja that `sysgen build` and the store's builds start gets a
//! parent-death signal: if that sysgen dies, even by SIGKILL, ninja gets
//! SIGTERM, stops every command it runs (it signals each command's process
//! group) and waits for them; a pipelined rustc, which outlives its edge,
//! is stopped by its supervisor once ninja is gone (`pipe.rs`).
//!
//! That takes some milliseconds, and the output directory's lock is free
//! as soon as the sysgen is dead. So every process of such a build carries
//! two variables — the output directory ([`HOLDS_OUT_DIR`]) and the session
//! of the sysgen that started it ([`SESSION`]) — and whoever takes the
//! directory's lock next first waits for every live process that carries
//! both (its session still that one: a daemon a wrapper starts, such as
//! sccache's server, has left the session and is not waited for). What
//! has not ended after a grace period (a ninja orphaned by an older
//! sysgen, which had no parent-death signal) is stopped: its sysgen is
//! gone, and nothing it would still write is wanted.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Set for a build's processes to the output directory whose lock the
/// sysgen that started the build holds ([`crate::emit::outdir::DirLock`]).
pub const HOLDS_OUT_DIR: &str = "SYSGEN_HOLDS_OUT_DIR";

/// Set for a build's processes to the session id of the sysgen that
/// started it.
pub const SESSION: &str = "SYSGEN_BUILD_SESSION";

/// How long leftovers get to end by themselves, and then after SIGTERM.
const GRACE: Duration = Duration::from_secs(2);
const TERM_GRACE: Duration = Duration::from_secs(10);

/// Make `cmd` a process of this sysgen's build in `dir`: marked, and
/// sent SIGTERM when this process dies. Call it from the thread that
/// waits for the child (the signal follows the thread that forked).
pub fn of_build(cmd: &mut Command, dir: &Path) {
    // SAFETY: getsid(0) only reads this process's session.
    let sid = unsafe { libc::getsid(0) };
    cmd.env(HOLDS_OUT_DIR, dir).env(SESSION, sid.to_string());
    dies_with_this_process(cmd, libc::SIGTERM);
}

/// Have the child get `signal` when this process dies.
pub fn dies_with_this_process(cmd: &mut Command, signal: libc::c_int) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: prctl, getppid and _exit are async-signal-safe, and the
    // closure touches nothing else.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent died before the signal was armed.
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// A live process of an earlier build in `dir`.
struct Leftover {
    pid: i32,
    name: String,
}

/// Wait until no process of an earlier build in `dir` (the resolved
/// output directory, whose lock the caller has just taken) is alive,
/// stopping those that do not end by themselves.
pub fn wait_for(dir: &Path) {
    let started = Instant::now();
    let mut said = false;
    let mut signal = None;
    loop {
        let left = find(dir);
        if left.is_empty() {
            return;
        }
        if !said {
            let names: Vec<String> = left
                .iter()
                .map(|p| format!("{} {}", p.pid, p.name))
                .collect();
            eprintln!(
                "sysgen: waiting for {} process(es) of an earlier build in {} to end: {}",
                left.len(),
                dir.display(),
                names.join(", ")
            );
            said = true;
        }
        let waited = started.elapsed();
        let now = if waited > GRACE + TERM_GRACE {
            Some(libc::SIGKILL)
        } else if waited > GRACE {
            Some(libc::SIGTERM)
        } else {
            None
        };
        if let Some(sig) = now
            && now != signal
        {
            signal = now;
            for p in &left {
                // SAFETY: kill only sends a signal to a process of ours.
                unsafe { libc::kill(p.pid, sig) };
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The live processes of this user that carry `dir` and the session they
/// were started in, other than this one.
fn find(dir: &Path) -> Vec<Leftover> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = std::process::id() as i32;
    let want_dir = format!("{HOLDS_OUT_DIR}={}", dir.display()).into_bytes();
    let want_sid = format!("{SESSION}=").into_bytes();
    let mut out = Vec::new();
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        // Another user's environment is not readable: not ours.
        let Ok(environ) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        let vars: Vec<&[u8]> = environ.split(|b| *b == 0).collect();
        if !vars.contains(&want_dir.as_slice()) {
            continue;
        }
        let Some(sid) = vars
            .iter()
            .find_map(|v| v.strip_prefix(want_sid.as_slice()))
            .and_then(|s| std::str::from_utf8(s).ok()?.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid pgrp session …`: comm may hold anything.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let alive = fields.first().is_some_and(|s| *s != "Z" && *s != "X");
        let session = fields.get(3).and_then(|s| s.parse::<i32>().ok());
        if alive && session == Some(sid) {
            out.push(Leftover {
                pid,
                name: stat[open + 1..close].to_string(),
            });
        }
    }
    out
}
