//! One jobserver for every rustc of a build: `sysgen build -j N` runs ninja
//! (≥ 1.13, which scripts/setup installs) in a pool of N slots that every
//! rustc below it is given, and no more than N compiles run at once
//! (`sysgen cargo … -j N` does the same for the store's build; without -j,
//! for now, ninja schedules as before); under
//! `make -j` the build joins make's pool instead; an older ninja builds as
//! before, with one note line. The stand-in rustc records the jobserver it
//! was given and when its front end ran (`FAKE_RUSTC_JOBS`).

use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

/// What each compile recorded: its jobserver, and the span during which
/// it held its edge's slot (the front end of a pipelined compile, all of
/// any other).
fn records(dir: &Path) -> Vec<(String, u128, u128)> {
    records_with_reach(dir)
        .into_iter()
        .map(|(j, _, s, e)| (j, s, e))
        .collect()
}

/// …and whether the compile could open the jobserver it was named.
fn records_with_reach(dir: &Path) -> Vec<(String, bool, u128, u128)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let field = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(k).map(|r| r.trim().to_string()))
        };
        let num = |k: &str| field(k).map(|s| s.parse::<u128>().unwrap());
        let start = num("start").expect("started");
        let until = num("meta").or_else(|| num("end")).expect("finished");
        let reach = field("reachable").as_deref() == Some("yes");
        v.push((field("jobserver").unwrap(), reach, start, until));
    }
    v
}

/// The most spans that overlap at one moment.
fn most_at_once(spans: &[(String, u128, u128)]) -> usize {
    let mut events: Vec<(u128, i32)> = spans
        .iter()
        .flat_map(|(_, s, e)| [(*s, 1), (*e, -1)])
        .collect();
    // An end before a start at the same instant.
    events.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in events {
        now += d;
        most = most.max(now);
    }
    most as usize
}

fn build(t: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let jobs = t.join("jobs");
    std::fs::create_dir_all(&jobs).unwrap();
    let mut c = sysgen_cmd(t);
    c.args(["build", "--no-config", "--crates", "std", "-o", "out"])
        .args(args)
        .args(mock_toolchain(&mock_dir().join("library")))
        .env("FAKE_RUSTC_JOBS", &jobs)
        .env("FAKE_RUSTC_SLEEP", "0.05")
        .env_remove("MAKEFLAGS")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MFLAGS");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ninja_at_least_1_13() {
    let v = stdout_ok(Command::new("ninja").arg("--version"));
    let mut parts = v.trim().split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap(), parts.next().unwrap_or(0));
    assert!(
        (a, b) >= (1, 13),
        "ninja {v} on PATH: scripts/setup installs 1.13 (`pip install ninja`)"
    );
}

#[test]
fn every_rustc_of_a_build_gets_one_jobserver_and_the_build_stays_within_it() {
    ninja_at_least_1_13();
    let t = tempdir();
    let o = build(&t, &["-j", "2"], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let reach = records_with_reach(&t.join("jobs"));
    assert!(
        reach.iter().all(|r| r.1),
        "every compile can open it: {reach:?}"
    );
    let r = records(&t.join("jobs"));
    assert!(r.len() >= 10, "{} compiles", r.len());
    let first = &r[0].0;
    assert!(first.contains("--jobserver-auth=fifo:"), "{first}");
    assert!(
        r.iter().all(|(j, _, _)| j == first),
        "every compile, one jobserver: {r:?}"
    );
    assert!(
        most_at_once(&r) <= 2,
        "{} at once with -j 2",
        most_at_once(&r)
    );
    // The pool goes with the build.
    let fifo = first.split("fifo:").nth(1).unwrap();
    assert!(!Path::new(fifo).exists(), "{fifo} is left behind");
    // Without -j (opt-in for now), ninja schedules as it always did.
    let t = tempdir();
    let o = build(&t, &[], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(records(&t.join("jobs")).iter().all(|(j, _, _)| j == "none"));
}

/// `sysgen cargo build -j N`: cargo's -j sizes the sysroot's build too.
#[test]
fn the_stores_builds_share_one_jobserver_too() {
    ninja_at_least_1_13();
    let store = tempdir();
    let p = project(&[("Xargo.toml", "[dependencies.alloc]\n")]);
    let jobs = store.join("jobs");
    std::fs::create_dir_all(&jobs).unwrap();
    let o = sysgen_cargo(&p, &store, &mock_dir().join("library"))
        .args(["build", "-j", "2", "--target", "thumbv6m-none-eabi"])
        .env("FAKE_RUSTC_JOBS", &jobs)
        .env_remove("MAKEFLAGS")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MFLAGS")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = records(&jobs);
    assert!(r.len() >= 3, "{r:?}");
    let first = &r[0].0;
    assert!(first.contains("--jobserver-auth=fifo:"), "{first}");
    assert!(r.iter().all(|(j, _, _)| j == first), "{r:?}");
}

#[test]
fn under_make_the_build_joins_makes_jobserver() {
    ninja_at_least_1_13();
    let t = tempdir();
    let mut args = vec![
        env!("CARGO_BIN_EXE_sysgen").to_string(),
        "build".into(),
        "--no-config".into(),
        "--crates".into(),
        "core,alloc".into(),
        "-o".into(),
        "out".into(),
    ];
    args.extend(
        mock_toolchain(&mock_dir().join("library"))
            .into_iter()
            .map(|a| a.into_string().unwrap()),
    );
    write(
        &t.join("Makefile"),
        &format!("all:\n\t+{}\n", args.join(" ")),
    );
    let jobs = t.join("jobs");
    std::fs::create_dir_all(&jobs).unwrap();
    let o = Command::new("make")
        .args(["-j2", "-s"])
        .current_dir(&t)
        .env("SYSGEN_CACHE_DIR", t.join(".cache"))
        .env("FAKE_RUSTC_JOBS", &jobs)
        .env_remove("MAKEFLAGS")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (j, _, _) in records(&jobs) {
        assert!(j.contains("--jobserver-auth="), "{j}");
        assert!(
            !j.contains("sysgen-jobserver"),
            "make's, not a new one: {j}"
        );
    }
}

#[test]
fn an_older_ninja_builds_as_before_with_one_note() {
    let t = tempdir();
    let old = t.join("old-ninja");
    executable(
        &old,
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo 1.11.1; exit 0; }\nexec ninja \"$@\"\n",
    );
    let o = build(&t, &["-j", "2"], &[("NINJA", old.to_str().unwrap())]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(err.matches("takes no jobserver").count(), 1, "{err}");
    assert!(err.contains("ninja 1.11 takes no jobserver"), "{err}");
    assert!(records(&t.join("jobs")).iter().all(|(j, _, _)| j == "none"));
}

#[test]
fn the_pool_lives_in_a_private_directory_and_leftovers_of_killed_builds_go() {
    ninja_at_least_1_13();
    // What a sysgen killed with SIGKILL left in a shared /tmp: an old-style
    // pipe of a predictable name, and a pipe directory.
    let tmp = tempdir();
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let old = tmp.join(format!("sysgen-jobserver-{pid}-0"));
    assert!(Command::new("mkfifo").arg(&old).status().unwrap().success());
    let dir = tmp.join(format!("sysgen-jobserver-{pid}-1-00000000"));
    std::fs::create_dir(&dir).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(dir.join("fifo"))
            .status()
            .unwrap()
            .success()
    );
    let t = tempdir();
    let o = build(&t, &["-j", "2"], &[("TMPDIR", tmp.to_str().unwrap())]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !old.exists() && !dir.exists(),
        "leftovers of a dead build are gone"
    );
    // The pipe the compiles were given is inside a directory only this
    // user can enter.
    let r = records(&t.join("jobs"));
    let fifo = r[0]
        .0
        .split("fifo:")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let parent = Path::new(fifo).parent().unwrap();
    assert!(parent.starts_with(&tmp), "{fifo}");
    assert!(
        !parent.exists(),
        "and it goes with the build: {}",
        parent.display()
    );
    assert!(
        std::fs::read_dir(&tmp).unwrap().next().is_none(),
        "nothing left in the temporary directory"
    );
}
