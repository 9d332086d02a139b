//! One token pool for every rustc of a build: GNU make's jobserver.
//!
//! cargo is a jobserver for the rustc it starts, so rustc's code-generation
//! threads and parallel front end run only on tokens it holds. Under ninja
//! nothing coordinates them, and with several crates in flight each rustc
//! assumes the whole machine (60 runnable threads on 2 cores for three
//! targets, BENCHMARKS.md). So `sysgen build [-j N]` and the store's builds
//! run ninja inside one pool of N slots (default: the cores): the
//! jobserver sysgen was started under when MAKEFLAGS/CARGO_MAKEFLAGS name
//! one (under `make -j` or cargo), else a named pipe (`fifo:` in
//! `--jobserver-auth`, which reaches every process by path, whatever
//! descriptors a process in between closes) holding `jobs - 1` tokens, the
//! last slot being ninja's own. ninja ≥ 1.13 takes its jobs from the pool,
//! and every rustc below it takes its extra threads from it; an older
//! ninja cannot, and the build runs as before, with one note line.
//!
//! A pipelined rustc outlives its Ninja edge (`pipe.rs`): once the edge has
//! ended, ninja gives the edge's slot to the next job, while rustc would go
//! on generating code on it — two processes on one slot, as many times as
//! crates are in flight. So the supervisor pauses rustc (SIGSTOP) when it
//! reports the metadata, asks the pool for a token, and lets rustc go on
//! (SIGCONT) once it holds one, or once `pipe-end` runs (its edge's slot
//! stands for the code generation from then on); the token goes back when
//! rustc exits. That is cargo's accounting: a rustc holds its token until it
//! exits.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use anyhow::Result;

/// The variables through which a jobserver reaches a process.
const VARS: [&str; 3] = ["CARGO_MAKEFLAGS", "MAKEFLAGS", "MFLAGS"];

/// The pool of one build; the named pipe goes with it.
pub struct Pool {
    fifo: Option<(PathBuf, std::fs::File)>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Some((path, _)) = &self.fifo {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Whether this process was started under a jobserver.
fn inherited() -> bool {
    VARS.iter().any(|v| {
        std::env::var(v)
            .is_ok_and(|s| s.contains("--jobserver-auth=") || s.contains("--jobserver-fds="))
    })
}

/// The version of the ninja `cmd` runs, as (major, minor).
fn ninja_version(program: &std::ffi::OsStr) -> Option<(u32, u32)> {
    let out = Command::new(program).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.trim().split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Put `ninja` (not yet started) and everything below it into one pool of
/// `jobs` slots.
pub fn share(ninja: &mut Command, jobs: usize) -> Result<Pool> {
    let none = Pool { fifo: None };
    if inherited() {
        // ninja and every rustc below it find it in their environment.
        return Ok(none);
    }
    match ninja_version(ninja.get_program()) {
        Some(v) if v >= (1, 13) => {}
        v => {
            let v = v.map_or("of unknown version".to_string(), |(a, b)| {
                format!("{a}.{b}")
            });
            eprintln!(
                "sysgen: note: ninja {v} takes no jobserver, so rustc's threads are not shared out between crates; ninja 1.13 does (`pip install ninja`)"
            );
            return Ok(none);
        }
    }
    if jobs < 2 {
        ninja.arg("-j1");
        return Ok(none);
    }
    let (path, file) = make_fifo(jobs - 1)?;
    let flags = format!("-j{jobs} --jobserver-auth=fifo:{}", path.display());
    for v in VARS {
        ninja.env_remove(v);
    }
    ninja
        .env("MAKEFLAGS", &flags)
        .env("CARGO_MAKEFLAGS", &flags);
    Ok(Pool {
        fifo: Some((path, file)),
    })
}

/// A named pipe only this user can open, holding `tokens` tokens, kept
/// open for reading and writing so that it never reads as closed.
fn make_fifo(tokens: usize) -> Result<(PathBuf, std::fs::File)> {
    use std::io::Write;
    use std::os::unix::ffi::OsStrExt;
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("sysgen-jobserver-{}-{n}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: mkfifo reads a NUL-terminated path.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(crate::base::fsx::io_error(
            "create the jobserver pipe",
            &path,
            &e,
        ));
    }
    let mut file = std::fs::File::options()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| crate::base::fsx::io_error("open the jobserver pipe", &path, &e))?;
    file.write_all(&vec![b'|'; tokens])
        .map_err(|e| crate::base::fsx::io_error("fill the jobserver pipe", &path, &e))?;
    Ok((path, file))
}

/// A token held for a pipelined rustc's code generation: asked for once
/// its edge has ended, with rustc paused until it is given or until `until`
/// exists (`pipe-end` runs, and its edge's slot stands for the code
/// generation), and given back then or when dropped (rustc exited).
pub struct CodegenToken {
    held: Arc<Mutex<Option<Held>>>,
}

/// The helper thread that asks for the token, and the token once given.
struct Held {
    helper: Option<::jobserver::HelperThread>,
    token: Arc<Mutex<Option<::jobserver::Acquired>>>,
    paused: Paused,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Stop asking first, then give back what was taken; never leave
        // rustc paused.
        drop(self.helper.take());
        if let Ok(mut t) = self.token.lock() {
            drop(t.take());
        }
        self.paused.resume();
    }
}

/// rustc's process group (rustc, or a wrapper and the rustc it runs),
/// stopped until it may run: resumed once, by whoever comes first.
#[derive(Clone)]
struct Paused(Arc<std::sync::atomic::AtomicI32>);

impl Paused {
    /// Stop the process group that `pid` (the supervisor's child) leads.
    fn stop(pid: u32) -> Paused {
        let pid = pid as i32;
        // SAFETY: kill only sends a signal to our own child's group.
        if pid > 0 && unsafe { libc::kill(-pid, libc::SIGSTOP) } == 0 {
            Paused(Arc::new(std::sync::atomic::AtomicI32::new(pid)))
        } else {
            Paused(Arc::new(std::sync::atomic::AtomicI32::new(0)))
        }
    }

    fn resume(&self) {
        let pid = self.0.swap(0, std::sync::atomic::Ordering::SeqCst);
        if pid > 0 {
            // SAFETY: as above.
            unsafe { libc::kill(-pid, libc::SIGCONT) };
        }
    }
}

impl CodegenToken {
    /// Pause rustc (`pid`, the supervisor's child, which leads a process
    /// group of its own) and ask the jobserver in
    /// the environment for a token for it, to hold until `until` exists;
    /// `None` (rustc runs on, no thread) without a jobserver.
    pub fn request(until: PathBuf, pid: u32) -> Option<CodegenToken> {
        if !inherited() || until.exists() {
            return None;
        }
        // SAFETY: the descriptors a `R,W` jobserver names are checked to
        // be pipes before use (`check_pipe`); a `fifo:` one is opened by path.
        let client = unsafe { ::jobserver::Client::from_env_ext(true) }
            .client
            .ok()?;
        let paused = Paused::stop(pid);
        let token = Arc::new(Mutex::new(None));
        let (store, go) = (token.clone(), paused.clone());
        let helper = client.into_helper_thread(move |t| {
            if let (Ok(t), Ok(mut h)) = (t, store.lock()) {
                *h = Some(t);
            }
            go.resume();
        });
        let helper = match helper {
            Ok(h) => h,
            Err(_) => {
                paused.resume();
                return None;
            }
        };
        helper.request_token();
        let held = Arc::new(Mutex::new(Some(Held {
            helper: Some(helper),
            token,
            paused,
        })));
        let watched = Arc::downgrade(&held);
        std::thread::spawn(move || {
            while let Some(held) = watched.upgrade() {
                if until.exists() {
                    let _ = held.lock().map(|mut h| h.take());
                    return;
                }
                drop(held);
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        });
        Some(CodegenToken { held })
    }
}

impl Drop for CodegenToken {
    fn drop(&mut self) {
        let _ = self.held.lock().map(|mut h| h.take());
    }
}
