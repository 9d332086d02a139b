//! Flag parity: for the host std graph, sysgen's rustc calls match the ones
//! `cargo -Zbuild-std -v` prints, crate by crate, except for paths, hashes
//! and output-format flags, and the differences listed in `ALLOWED` below,
//! each with its reason. Both builds really run (build-script output is
//! compared too, from sysgen's @args files). Needs rust-src, the fetched
//! registry sources and ninja.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// (crate or `*`, flag) that only sysgen passes, and why.
const SYSGEN_ONLY: &[(&str, &str, &str)] = &[
    (
        "*",
        "-Zunstable-options",
        "sysgen passes it to every sysroot crate: --env-set, priv: and -Cpanic=immediate-abort need it; cargo adds it only with priv: externs",
    ),
    (
        "compiler_builtins",
        "-Ccodegen-units=10000",
        "library/Cargo.toml's per-package profile, which cargo ignores under -Zbuild-std and the compiler's bootstrap applies",
    ),
    (
        "addr2line",
        "-Copt-level=s",
        "library/Cargo.toml per-package profile (as bootstrap)",
    ),
    (
        "gimli",
        "-Copt-level=s",
        "library/Cargo.toml per-package profile (as bootstrap)",
    ),
    (
        "miniz_oxide",
        "-Copt-level=s",
        "library/Cargo.toml per-package profile (as bootstrap)",
    ),
    (
        "rustc_demangle",
        "-Copt-level=s",
        "library/Cargo.toml per-package profile (as bootstrap)",
    ),
    (
        "core",
        "-Zthreads=2",
        "rules/rustc.toml parallel-frontend: core runs alone on the critical path (the test pins --frontend-threads 2)",
    ),
    (
        "panic_abort",
        "-Cpanic=abort",
        "library/Cargo.toml profile rustflags: panic_abort is always built with panic=abort",
    ),
];

/// (crate, flag) that only cargo passes, and why.
const CARGO_ONLY: &[(&str, &str, &str)] = &[
    (
        "addr2line",
        "-Copt-level=3",
        "replaced by the per-package opt-level = \"s\" (see above)",
    ),
    (
        "gimli",
        "-Copt-level=3",
        "replaced by the per-package opt-level = \"s\"",
    ),
    (
        "miniz_oxide",
        "-Copt-level=3",
        "replaced by the per-package opt-level = \"s\"",
    ),
    (
        "rustc_demangle",
        "-Copt-level=3",
        "replaced by the per-package opt-level = \"s\"",
    ),
];

/// Split a command line the way cargo's -v output quotes it.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    cur.push(q);
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ' ' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// Flags without paths, hashes and output formats; `-C x`/`--cfg x` pairs joined.
fn normalize(args: &[String], out_dir: Option<&Path>) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    let mut i = 0;
    let mut expanded = Vec::new();
    for a in args {
        if let (Some(f), Some(dir)) = (a.strip_prefix('@'), out_dir) {
            let text = std::fs::read_to_string(dir.join(f)).unwrap();
            expanded.extend(text.lines().map(str::to_string));
        } else {
            expanded.push(a.clone());
        }
    }
    let args = expanded;
    while i < args.len() {
        let a = &args[i];
        let takes_value = [
            "-C",
            "-Z",
            "--cfg",
            "--check-cfg",
            "--crate-type",
            "--target",
            "--extern",
            "-L",
            "--out-dir",
            "--sysroot",
            "--crate-name",
            "--cap-lints",
            "-l",
            "--env-set",
        ];
        let (flag, value) = if takes_value.contains(&a.as_str()) && i + 1 < args.len() {
            i += 1;
            (a.clone(), Some(args[i].clone()))
        } else {
            (a.clone(), None)
        };
        i += 1;
        let joined = match (&flag[..], &value) {
            ("-C", Some(v)) => format!("-C{v}"),
            ("-Z", Some(v)) => format!("-Z{v}"),
            (_, Some(v)) => format!("{flag} {v}"),
            (_, None) => flag.clone(),
        };
        let skip = joined.starts_with("-Cmetadata=")
            || joined.starts_with("-Cextra-filename=")
            || joined.starts_with("--out-dir ")
            || joined.starts_with("--sysroot ")
            || joined.starts_with("-L dependency=")
            || joined.starts_with("--remap-path-prefix=")
            || joined.starts_with("--error-format=")
            || joined.starts_with("--json=")
            || joined.starts_with("--emit=")
            || joined.starts_with("--env-set ")
            || joined.starts_with("--crate-name ")
            || joined.ends_with(".rs");
        if skip {
            continue;
        }
        if let Some(ext) = joined.strip_prefix("--extern ") {
            // Keep the name and its priv:/noprelude: options, not the path.
            set.insert(format!("--extern {}", ext.split('=').next().unwrap()));
            continue;
        }
        set.insert(joined);
    }
    set
}

fn cargo_calls() -> BTreeMap<(String, String), BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("flags-cargo");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"scratch\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
    let out = Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
        .current_dir(&dir)
        .env("RUSTC_BOOTSTRAP", "1")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .args([
            "build",
            "-v",
            "--release",
            "-Zbuild-std=std,panic_abort",
            "--target",
            "x86_64-unknown-linux-gnu",
        ])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cargo failed:\n{log}");
    let mut calls = BTreeMap::new();
    for line in log.lines() {
        let Some(cmd) = line
            .trim()
            .strip_prefix("Running `")
            .and_then(|l| l.strip_suffix('`'))
        else {
            continue;
        };
        let words = shell_words(cmd);
        let Some(pos) = words.iter().position(|w| w == "--crate-name") else {
            continue;
        };
        let name = words[pos + 1].clone();
        if name == "scratch" {
            continue;
        }
        let src = words.iter().find(|w| w.ends_with(".rs")).unwrap().clone();
        calls.insert((name, src), normalize(&words[1..], None));
    }
    calls
}

fn sysgen_calls() -> BTreeMap<(String, String), BTreeSet<String>> {
    // The shared host std build (tests/common): --frontend-threads=2 pinned.
    let out = crate::support::shared_build("host-std", crate::support::HOST_STD);
    // Read the calls back from build.ninja, as a user would see them.
    let text = std::fs::read_to_string(out.join("build.ninja")).unwrap();
    let mut calls = BTreeMap::new();
    for line in text.lines() {
        let Some(cmd) = line.strip_prefix("  cmd = ") else {
            continue;
        };
        let cmd = cmd.split(" && sed ").next().unwrap().replace("$$", "$");
        let words = shell_words(&cmd);
        let Some(rustc) = words.iter().position(|w| w.ends_with("/rustc")) else {
            continue;
        };
        let Some(pos) = words.iter().position(|w| w == "--crate-name") else {
            continue;
        };
        let name = words[pos + 1].clone();
        let src = words.iter().find(|w| w.ends_with(".rs")).unwrap().clone();
        calls.insert((name, src), normalize(&words[rustc + 1..], Some(&out)));
    }
    calls
}

fn allowed(list: &[(&str, &str, &str)], krate: &str, flag: &str) -> bool {
    list.iter()
        .any(|(c, f, _)| (*c == "*" || *c == krate) && *f == flag)
}

#[test]
fn host_std_flags_match_cargo_build_std() {
    let cargo = cargo_calls();
    let sysgen = sysgen_calls();
    assert_eq!(
        cargo.keys().collect::<Vec<_>>(),
        sysgen.keys().collect::<Vec<_>>(),
        "the same rustc calls (crate, source) must be made"
    );
    assert!(
        cargo.len() >= 25,
        "too few rustc calls parsed: {}",
        cargo.len()
    );
    let std_flags = sysgen
        .iter()
        .find(|((c, _), _)| c == "std")
        .map(|(_, f)| f)
        .unwrap();
    for f in [
        "--cfg backtrace_in_libstd",
        "--extern priv:hashbrown",
        "--cfg feature=\"backtrace\"",
    ] {
        assert!(
            std_flags.contains(f),
            "std lacks `{f}`: the comparison would be blind"
        );
    }
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for (key, want) in &cargo {
        let got = &sysgen[key];
        let krate = key.0.as_str();
        for f in got.difference(want) {
            used.insert((krate.to_string(), f.clone()));
            if !allowed(SYSGEN_ONLY, krate, f) {
                problems.push(format!("{krate} ({}): only sysgen passes `{f}`", key.1));
            }
        }
        for f in want.difference(got) {
            used.insert((krate.to_string(), f.clone()));
            if !allowed(CARGO_ONLY, krate, f) {
                problems.push(format!("{krate} ({}): only cargo passes `{f}`", key.1));
            }
        }
    }
    // Every allowed difference must still occur, or the list is stale.
    for (c, f, _) in SYSGEN_ONLY.iter().chain(CARGO_ONLY) {
        if !used
            .iter()
            .any(|(uc, uf)| (*c == "*" || c == uc) && f == uf)
        {
            problems.push(format!(
                "allowed difference `{f}` for {c} no longer occurs; remove it from the list"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
