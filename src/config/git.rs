//! Sources of custom sysroot crates: a path, or a git repository cloned
//! with the git CLI into sysgen's cache (`$SYSGEN_CACHE_DIR/git/…`). A
//! checkout is made once per (URL, reference); pin a `rev` for a build that
//! never changes under you, or delete the checkout to fetch again.
//!
//! Generation must never hang: git runs without a terminal prompt or a
//! credential dialog, with a low-speed limit for HTTP and a connect timeout
//! for SSH, and is stopped after `$SYSGEN_GIT_TIMEOUT` seconds (300 by
//! default) with an error naming the URL.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::base::hash::stable_hash;
use crate::{user_bail, user_err};

/// Which commit of a repository to check out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GitRef {
    DefaultBranch,
    Branch(String),
    Tag(String),
    Rev(String),
}

/// The directory of the package `name` in a checkout of `url` at `reference`.
pub fn package_dir(url: &str, reference: &GitRef, name: &str) -> Result<PathBuf> {
    let dir = checkout(url, reference)?;
    find_package(&dir, name).ok_or_else(|| {
        user_err!(
            "the git repository {url} has no package `{name}` (looked in {} and its subdirectories)",
            dir.display()
        )
    })
}

/// Seconds a git command may take.
fn timeout() -> u64 {
    std::env::var("SYSGEN_GIT_TIMEOUT")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(300)
}

fn git(args: &[&str], cwd: Option<&Path>) -> Result<()> {
    let mut c = Command::new("git");
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    c.args(["-c", "http.lowSpeedLimit=1", "-c", "http.lowSpeedTime=60"])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GCM_INTERACTIVE", "never")
        .env("GIT_ASKPASS", "true")
        .env("SSH_ASKPASS", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group: a timeout stops git's helpers too.
        .process_group(0);
    if std::env::var_os("GIT_SSH_COMMAND").is_none() {
        c.env(
            "GIT_SSH_COMMAND",
            "ssh -o BatchMode=yes -o ConnectTimeout=30",
        );
    }
    let mut child = c.spawn().map_err(|e| {
        user_err!("cannot run git ({e}); install git to use `git` crates in the sysroot config")
    })?;
    // Read stderr on a thread so a chatty git never blocks on a full pipe.
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let limit = timeout();
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait()? {
            break st;
        }
        if start.elapsed() > Duration::from_secs(limit) {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.kill();
            let _ = child.wait();
            user_bail!(
                "`git {}` did not finish within {limit} s (a server that does not answer?); check the URL in the sysroot config, or set SYSGEN_GIT_TIMEOUT to wait longer",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let err = reader.join().unwrap_or_default();
    if !status.success() {
        user_bail!(
            "`git {}` failed: {}; check the URL and reference in the sysroot config",
            args.join(" "),
            err.lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output")
                .trim()
        );
    }
    Ok(())
}

fn checkout(url: &str, reference: &GitRef) -> Result<PathBuf> {
    let base = crate::base::cache_dir::base_dir()
        .ok_or_else(|| user_err!("no cache directory for git checkouts; set SYSGEN_CACHE_DIR"))?;
    let r = format!("{reference:?}");
    let dir = base.join("git").join(stable_hash(&[url, &r]));
    if dir.join(".git").is_dir() {
        return Ok(dir);
    }
    crate::base::fsx::create_dir_all(&base.join("git"))?;
    // Clone beside the final place, then rename: an interrupted or failed
    // clone never looks like a checkout.
    let tmp = dir.with_extension(format!("tmp.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let tmp_s = tmp.to_string_lossy().to_string();
    let result = (|| -> Result<()> {
        match reference {
            GitRef::DefaultBranch => git(&["clone", "--quiet", url, &tmp_s], None)?,
            GitRef::Branch(b) | GitRef::Tag(b) => {
                git(&["clone", "--quiet", "--branch", b, url, &tmp_s], None)?
            }
            GitRef::Rev(rev) => {
                git(&["clone", "--quiet", url, &tmp_s], None)?;
                git(&["checkout", "--quiet", rev], Some(&tmp))?;
            }
        }
        std::fs::rename(&tmp, &dir).map_err(|e| crate::base::fsx::io_error("create", &dir, &e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result?;
    Ok(dir)
}

/// `dir` itself, or the first directory below it (two levels, nearer
/// first, in name order) whose Cargo.toml names the package `name`.
fn find_package(dir: &Path, name: &str) -> Option<PathBuf> {
    if names_package(dir, name) {
        return Some(dir.to_path_buf());
    }
    find_below(dir, name, 2)
}

fn names_package(dir: &Path, name: &str) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .and_then(|t| Some(t.get("package")?.get("name")?.as_str()? == name))
        .unwrap_or(false)
}

fn find_below(dir: &Path, name: &str, depth: u32) -> Option<PathBuf> {
    if depth == 0 {
        return None;
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && !p.ends_with(".git"))
        .collect();
    subdirs.sort();
    subdirs
        .iter()
        .find(|d| names_package(d, name))
        .cloned()
        .or_else(|| subdirs.iter().find_map(|d| find_below(d, name, depth - 1)))
}
