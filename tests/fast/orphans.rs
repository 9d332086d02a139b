//! No process outlives the sysgen that started it. `sysgen build` and
//! `sysgen cargo` are killed with SIGKILL at several points of a build;
//! every process of that build must be gone within seconds, and a rerun
//! must give a complete, correct sysroot. (Found by the hostile probe:
//! after `kill -9` of `sysgen cargo` mid-build, its ninja and rustc went
//! on under PID 1; a rerun started a second ninja in the same build
//! directory, both compiled one build script at once, and with the
//! orphan's rustc alive the rerun blocked.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::*;

/// The live processes (pid, name) of a build sysgen started in an output
/// directory below `t`: they carry `SYSGEN_HOLDS_OUT_DIR`.
fn build_processes(t: &Path) -> Vec<(u32, String)> {
    let want = format!("SYSGEN_HOLDS_OUT_DIR={}", t.display());
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(e.path().join("environ")) else {
            continue;
        };
        let marked = env
            .split(|b| *b == 0)
            .any(|v| String::from_utf8_lossy(v).starts_with(&want));
        if marked && process_alive(pid) {
            let name = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
            out.push((pid, name.trim().to_string()));
        }
    }
    out
}

fn kill9(child: &mut Child) {
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
}

/// Wait (up to five seconds) until no process of the build is left.
fn none_left(t: &Path) {
    for _ in 0..200 {
        if build_processes(t).is_empty() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("processes outlived sysgen: {:?}", build_processes(t));
}

/// A library whose compiler_builtins build script marks `started` and
/// then waits for `go`.
fn library_with_slow_script(t: &Path) -> PathBuf {
    let lib = t.join("library");
    copy_dir(&mock_dir().join("library"), &lib);
    write(
        &lib.join("compiler-builtins/build.rs"),
        &format!(
            "//! fake-script: : > '{}'\n//! fake-script: while [ ! -e '{}' ]; do sleep 0.05; done\nfn main() {{}}\n",
            t.join("script-started").display(),
            t.join("go").display()
        ),
    );
    lib
}

/// Where the build is when sysgen is killed.
#[derive(Debug, Clone, Copy)]
enum Point {
    /// rustc compiling a build script (an edge of ninja's) and core's
    /// pipelined rustc generating code after its edge ended.
    Compiling,
    /// A build script running.
    RunningScript,
}

/// Start `cmd` (whose build holds on `t/go`), wait for `point`, kill it.
fn kill_at(t: &Path, mut cmd: Command, point: Point) {
    let pids = t.join("pids");
    std::fs::create_dir_all(&pids).unwrap();
    if let Point::Compiling = point {
        cmd.env("FAKE_RUSTC_GO", t.join("go"));
    }
    let mut child = cmd
        .env("FAKE_RUSTC_PIDS", &pids)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    match point {
        Point::Compiling => {
            wait_until("two compiles run", || {
                std::fs::read_dir(&pids).unwrap().count() >= 2
            });
            // core's edge ends once its .rmeta is written.
            wait_until("a pipelined rustc outlives its edge", || {
                build_processes(t)
                    .iter()
                    .any(|(pid, _)| cmdline(*pid).contains("pipe-supervise"))
                    && !build_processes(t)
                        .iter()
                        .any(|(pid, _)| cmdline(*pid).contains("pipe-begin"))
            });
        }
        Point::RunningScript => wait_until("the build script runs", || {
            t.join("script-started").exists()
        }),
    }
    assert!(!build_processes(t).is_empty(), "{point:?}: the build runs");
    kill9(&mut child);
    none_left(t);
    std::fs::write(t.join("go"), "").unwrap();
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// The sysroot in `out` is complete: every library is the stand-in's
/// finished rlib and ninja has nothing left to do.
fn complete(out: &Path) {
    let lib = out.join("sysroot/lib/rustlib/x86_64-unknown-linux-gnu/lib");
    for krate in ["core", "compiler_builtins", "alloc"] {
        let f = lib.join(format!("lib{krate}.rlib"));
        assert_eq!(
            std::fs::read_to_string(&f).unwrap_or_default(),
            "rlib\n",
            "{}",
            f.display()
        );
    }
    let o = run_ok(Command::new("ninja").arg("-C").arg(out).arg("-n"));
    assert!(o.contains("no work to do"), "{o}");
}

#[test]
fn killing_sysgen_build_stops_its_whole_build_and_a_rerun_completes_it() {
    for point in [Point::Compiling, Point::RunningScript] {
        let t = tempdir();
        let lib = library_with_slow_script(&t);
        let build = || {
            let mut c = sysgen_cmd(&t);
            // Three slots: two compiles held, and one for core's code
            // generation, so that its edge ends at the metadata.
            c.args([
                "build",
                "-j",
                "3",
                "--no-config",
                "--crates",
                "core,alloc",
                "-o",
                "out",
            ])
            .args(mock_toolchain(&lib));
            c
        };
        kill_at(&t, build(), point);
        let o = build().output().unwrap();
        assert!(o.status.success(), "{point:?}: {}", stderr_of(&o));
        complete(&t.join("out"));
    }
}

#[test]
fn killing_sysgen_cargo_stops_its_store_build_and_cargo() {
    for point in [Point::Compiling, Point::RunningScript] {
        let t = tempdir();
        let lib = library_with_slow_script(&t);
        let p = project(&[("Xargo.toml", "[dependencies.alloc]\n")]);
        let cache = t.join("cache");
        let cargo = || {
            let mut c = sysgen_cargo(&p, &cache, &lib);
            // cargo's -j sizes the sysroot's build too (see above).
            c.args(["build", "-j", "3", "--target", "x86_64-unknown-linux-gnu"]);
            c
        };
        kill_at(&t, cargo(), point);
        let o = cargo().output().unwrap();
        assert!(o.status.success(), "{point:?}: {}", stderr_of(&o));
        let listed = stdout_ok(
            sysgen_cmd(&t)
                .env("SYSGEN_CACHE_DIR", &cache)
                .args(["cache", "list"]),
        );
        assert!(listed.contains("x86_64-unknown-linux-gnu"), "{listed}");
    }
    // Killed while cargo runs: cargo stops too.
    let t = tempdir();
    let p = project(&[("Xargo.toml", "[dependencies.core]\n")]);
    let go = t.join("cargo-go");
    let mut child = sysgen_cargo(&p, &t.join("cache"), &mock_dir().join("library"))
        .args(["build", "--target", "thumbv6m-none-eabi"])
        .env("FAKE_CARGO_GO", &go)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = t.join("cargo-go.pid");
    wait_until("cargo runs", || {
        std::fs::read_to_string(&pid_file).is_ok_and(|s| s.ends_with('\n'))
    });
    let cargo_pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    kill9(&mut child);
    wait_until("cargo stops", || !process_alive(cargo_pid));
}

/// A process of an earlier build that a parent-death signal did not stop
/// (a ninja orphaned by an older sysgen, or one that ignores SIGTERM):
/// the next sysgen in the directory says it waits for it, stops it, and
/// only then generates.
#[test]
fn a_leftover_of_an_earlier_build_is_waited_for_and_stopped() {
    let t = tempdir();
    let o = sysgen_fake(
        &t,
        &["ninja", "--no-config", "--crates", "core", "-o", "out"],
    );
    assert!(o.status.success(), "{}", stderr_of(&o));
    let out = std::fs::canonicalize(t.join("out")).unwrap();
    // SAFETY: getsid(0) reads this process's session.
    let sid = unsafe { libc::getsid(0) };
    let mut orphan = Command::new("sh")
        .args(["-c", "trap '' TERM; while :; do sleep 0.05; done"])
        .env("SYSGEN_HOLDS_OUT_DIR", &out)
        .env("SYSGEN_BUILD_SESSION", sid.to_string())
        .spawn()
        .unwrap();
    // A daemon started by the build (it left the session) is not waited for.
    let mut daemon = Command::new("setsid")
        .args(["sleep", "60"])
        .env("SYSGEN_HOLDS_OUT_DIR", &out)
        .env("SYSGEN_BUILD_SESSION", sid.to_string())
        .spawn()
        .unwrap();
    let o = sysgen_fake(
        &t,
        &["ninja", "--no-config", "--crates", "core", "-o", "out"],
    );
    let err = stderr_of(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("process(es) of an earlier build") && err.contains(" sh"),
        "{err}"
    );
    assert!(
        orphan.try_wait().unwrap().is_some(),
        "the leftover was stopped"
    );
    assert!(
        daemon.try_wait().unwrap().is_none(),
        "the daemon was left alone"
    );
    daemon.kill().unwrap();
    daemon.wait().unwrap();
}

fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
