//! One token pool for every rustc of a build: GNU make's jobserver.
//!
//! cargo is a jobserver for the rustc it starts, so rustc's code-generation
//! threads and parallel front end run only on tokens it holds. Under ninja
//! nothing coordinates them, and with several crates in flight each rustc
//! assumes the whole machine (60 runnable threads on 2 cores for three
//! targets, BENCHMARKS.md). So `sysgen build -j N` and the store's builds
//! under `sysgen cargo … -j N` run ninja inside one pool of N slots (opt-in:
//! ninja's own scheduling with CPU priorities, `priority.rs`, measured
//! faster; a pool that held only code generation used more CPU): the
//! jobserver sysgen was started under when MAKEFLAGS/CARGO_MAKEFLAGS name
//! one (under `make -j` or cargo), else a named pipe (`fifo:` in
//! `--jobserver-auth`, which reaches every process by path, whatever
//! descriptors a process in between closes) holding `jobs - 1` tokens, the
//! last slot being ninja's own. ninja ≥ 1.13 takes its jobs from the pool,
//! and every rustc below it takes its extra threads from it; an older
//! ninja cannot, and the build runs as before, with one note line.
//!
//! A pipelined rustc outlives its Ninja edge (`pipe.rs`). When its edge
//! ends at the metadata notice, ninja gives the edge's slot to the next job
//! while rustc goes on generating code. So the supervisor holds the notice
//! back until it holds a token for that code generation: the edge keeps
//! its slot (rustc runs on it) until a second slot is free, or until rustc
//! exits. The dependents start early only when there is a slot for them,
//! and every running rustc stands on exactly one slot — cargo's
//! accounting, in which a rustc holds its token until it exits. The token
//! goes back when rustc exits, or when `pipe-end` starts waiting (its
//! edge's slot stands for the code generation from then on).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use anyhow::Result;

use crate::base::jobserver_env::VARS;

/// The pool of one build; the named pipe goes with it.
pub struct Pool {
    fifo: Option<(PathBuf, std::fs::File)>,
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Some((path, _)) = &self.fifo {
            let _ = std::fs::remove_file(path);
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

/// The prefix of the private directories that hold jobserver pipes.
const FIFO_DIR_PREFIX: &str = "sysgen-jobserver-";

/// Remove what builds that are gone left in the temporary directory: their
/// private pipe directories (and the bare pipes older sysgens made), when
/// they are this user's and their sysgen no longer runs.
fn remove_leftovers(tmp: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(rd) = std::fs::read_dir(tmp) else {
        return;
    };
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(FIFO_DIR_PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if meta.uid() != me || Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        if meta.is_dir() {
            let _ = std::fs::remove_dir_all(e.path());
        } else if std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()) {
            let _ = std::fs::remove_file(e.path());
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
/// open for reading and writing so that it never reads as closed. It lives
/// in a directory of its own, made 0700 by this process (never one someone
/// else made first: the name is not trusted, the exclusive creation is),
/// in the temporary directory, where leftovers of killed builds are
/// removed first.
fn make_fifo(tokens: usize) -> Result<(PathBuf, std::fs::File)> {
    use std::io::Write;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::DirBuilderExt;
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let tmp = std::env::temp_dir();
    remove_leftovers(&tmp);
    let mut dir = None;
    for _ in 0..16 {
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let d = tmp.join(format!(
            "{FIFO_DIR_PREFIX}{}-{n}-{nanos:08x}",
            std::process::id()
        ));
        if std::fs::DirBuilder::new().mode(0o700).create(&d).is_ok() {
            dir = Some(d);
            break;
        }
    }
    let Some(dir) = dir else {
        crate::user_bail!(
            "cannot make a private directory for the jobserver in {}; check it, or set TMPDIR",
            tmp.display()
        );
    };
    let path = dir.join("fifo");
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

/// A token held for a pipelined rustc's code generation: asked for at the
/// metadata notice, given back once `until` exists (`pipe-end` runs, and its
/// edge's slot stands for the code generation) or when dropped (rustc
/// exited).
pub struct CodegenToken {
    held: Arc<Mutex<Option<Held>>>,
}

/// The helper thread that asks for the token, and the token once given.
struct Held {
    helper: Option<::jobserver::HelperThread>,
    token: Arc<Mutex<Option<::jobserver::Acquired>>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Stop asking first, then give back what was taken.
        drop(self.helper.take());
        if let Ok(mut t) = self.token.lock() {
            drop(t.take());
        }
    }
}

impl CodegenToken {
    /// Ask the jobserver in the environment for a token, to hold until
    /// `until` exists; `granted` runs (on another thread) once it is held.
    /// `None` without a jobserver (and `granted` is not run).
    pub fn request(
        until: PathBuf,
        granted: impl FnOnce() + Send + 'static,
    ) -> Option<CodegenToken> {
        if !inherited() || until.exists() {
            return None;
        }
        // SAFETY: the descriptors a `R,W` jobserver names are checked to
        // be pipes before use (`check_pipe`); a `fifo:` one is opened by path.
        let client = unsafe { ::jobserver::Client::from_env_ext(true) }
            .client
            .ok()?;
        let token = Arc::new(Mutex::new(None));
        let store = token.clone();
        let mut granted = Some(granted);
        let helper = client
            .into_helper_thread(move |t| {
                if let (Ok(t), Ok(mut h)) = (t, store.lock()) {
                    *h = Some(t);
                    if let Some(g) = granted.take() {
                        g();
                    }
                }
            })
            .ok()?;
        helper.request_token();
        let held = Arc::new(Mutex::new(Some(Held {
            helper: Some(helper),
            token,
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
