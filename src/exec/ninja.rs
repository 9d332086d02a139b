//! Running ninja on a generated build.

use anyhow::Result;

use crate::{user_bail, user_err};

/// Refuse to start when there is no ninja to run, before anything is
/// written (`sysgen build` checks first).
pub fn check_available() -> Result<()> {
    let ninja = std::env::var_os("NINJA").unwrap_or_else(|| "ninja".into());
    let found = if std::path::Path::new(&ninja).components().count() > 1 {
        std::path::Path::new(&ninja).is_file()
    } else {
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(&ninja).is_file()))
    };
    if !found {
        user_bail!(
            "cannot find ninja ({}); install it (`apt-get install ninja-build` or `pip install ninja`) or set NINJA",
            ninja.to_string_lossy()
        );
    }
    Ok(())
}

/// Run ninja in `dir`, showing its progress; with `jobs`, inside one
/// jobserver of that many slots.
pub fn run_ninja(dir: &std::path::Path, jobs: Option<usize>) -> Result<()> {
    run_ninja_to(dir, false, jobs)
}

/// Run ninja in `dir`, its output on stderr when `to_stderr`; with `jobs`,
/// every rustc of it in one jobserver of that many slots.
pub fn run_ninja_to(dir: &std::path::Path, to_stderr: bool, jobs: Option<usize>) -> Result<()> {
    let ninja = std::env::var_os("NINJA").unwrap_or_else(|| "ninja".into());
    let mut cmd = std::process::Command::new(&ninja);
    // The sysgen that runs this build holds the directory's lock: a
    // regeneration ninja starts must not wait for it. And the build stops
    // when this sysgen does (see `leftovers`).
    cmd.arg("-C").arg(dir);
    crate::exec::leftovers::of_build(&mut cmd, dir);
    // The remote cache's URL and header may hold credentials: no compile
    // needs them, and a pipelined one records its environment on disk.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SYSGEN_REMOTE_CACHE") {
            cmd.env_remove(name);
        }
    }
    // Opt-in: the pool bounds the threads (BENCHMARKS.md: up to 75 on 2
    // cores without it), but ninja's own scheduling with CPU priorities
    // (`priority.rs`) measured faster.
    let _pool = match jobs {
        Some(jobs) => Some(crate::exec::jobserver::share(&mut cmd, jobs)?),
        None => None,
    };
    if to_stderr {
        cmd.stdout(std::io::stderr());
    }
    let status = cmd.status().map_err(|e| {
        user_err!("cannot run ninja ({e}); install it (`apt-get install ninja-build` or `pip install ninja`) or set NINJA")
    })?;
    if !status.success() {
        user_bail!("the build failed (ninja exited with {status}); see the output above");
    }
    Ok(())
}
