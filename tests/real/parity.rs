//! Parity with cargo: for each target, the (crate, version, features, deps)
//! of every library unit and the set of build scripts sysgen resolves equal
//! what `cargo build -Zbuild-std --unit-graph` reports for a scratch crate.
//! Cargo runs only here, as the oracle. Needs rust-src and the fetched
//! registry sources (`sysgen fetch`), which `.ci/run` installs.

use std::collections::BTreeSet;
use std::process::Command;

type Row = (String, String, Vec<String>, Vec<String>);

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("src")).unwrap();
    d
}

/// Name and version from a cargo package id (`path+file:///…/alloc#0.0.0`,
/// `…#compiler_builtins@0.1.160`, `registry+…#libc@0.2.178`).
fn name_version(pkg_id: &str) -> (String, String) {
    let (url, frag) = pkg_id.rsplit_once('#').unwrap();
    match frag.split_once('@') {
        Some((n, v)) => (n.to_string(), v.to_string()),
        None => (
            url.rsplit('/').next().unwrap().to_string(),
            frag.to_string(),
        ),
    }
}

fn cargo_rows(
    target: &str,
    crates: &str,
    features: Option<&str>,
) -> (BTreeSet<Row>, BTreeSet<String>) {
    let dir = tempdir(&format!("parity-{target}"));
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"scratch\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or("cargo".into()));
    cmd.current_dir(&dir).env("RUSTC_BOOTSTRAP", "1").args([
        "build",
        "--release",
        &format!("-Zbuild-std={crates}"),
        "--target",
        target,
        "--unit-graph",
        "-Zunstable-options",
    ]);
    if let Some(f) = features {
        cmd.arg(format!("-Zbuild-std-features={f}"));
    }
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo --unit-graph failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let units = v["units"].as_array().unwrap();
    let name_of = |i: usize| name_version(units[i]["pkg_id"].as_str().unwrap());
    let mut rows = BTreeSet::new();
    let mut scripts = BTreeSet::new();
    for u in units {
        let (name, version) = name_version(u["pkg_id"].as_str().unwrap());
        if name == "scratch" {
            continue;
        }
        if u["mode"] == "run-custom-build" {
            scripts.insert(name.clone());
        }
        let kinds: Vec<&str> = u["target"]["kind"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        if u["mode"] != "build" || kinds.contains(&"custom-build") {
            continue;
        }
        let features = u["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .collect();
        let mut deps: Vec<String> = u["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["index"].as_u64().unwrap() as usize)
            .filter(|&i| {
                units[i]["mode"] == "build"
                    && !units[i]["target"]["kind"]
                        .to_string()
                        .contains("custom-build")
            })
            .map(|i| name_of(i).0)
            .collect();
        deps.sort();
        deps.dedup();
        rows.insert((name, version, features, deps));
    }
    (rows, scripts)
}

fn sysgen_rows(target: &str, crates: &str) -> (BTreeSet<Row>, BTreeSet<String>) {
    let out = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .args([
            "graph", "--target", target, "--crates", crates, "--format", "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sysgen graph failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut rows = BTreeSet::new();
    let mut scripts = BTreeSet::new();
    for u in v["units"].as_array().unwrap() {
        let s = |k: &str| u[k].as_str().unwrap().to_string();
        let list = |k: &str| {
            u[k].as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        if u["step"] == "run" {
            scripts.insert(s("crate"));
        }
        if u["kind"] == "lib" && u["host"] == false {
            rows.insert((s("crate"), s("version"), list("features"), list("deps")));
        }
    }
    (rows, scripts)
}

fn check(target: &str, crates: &str, cargo_features: Option<&str>) {
    let (want, want_scripts) = cargo_rows(target, crates, cargo_features);
    let (got, got_scripts) = sysgen_rows(target, crates);
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{target}: cargo has but sysgen lacks {missing:#?}\nsysgen has but cargo lacks {extra:#?}"
    );
    assert_eq!(want_scripts, got_scripts, "{target}: build scripts differ");
    assert!(
        want.len() >= 3,
        "{target}: suspiciously few units: {want:?}"
    );
}

#[test]
fn x86_64_linux_std_and_panic_abort() {
    check("x86_64-unknown-linux-gnu", "std,panic_abort", None);
}

#[test]
fn aarch64_linux_std() {
    check("aarch64-unknown-linux-gnu", "std", None);
}

#[test]
fn riscv64_linux_std() {
    check("riscv64gc-unknown-linux-gnu", "std", None);
}

// sysgen's defaults add compiler-builtins-mem on targets without a libc
// (rules/build-std.toml); cargo is given the same feature list explicitly.
const NO_LIBC_FEATURES: &str = "panic-unwind,backtrace,default,compiler-builtins-mem";

#[test]
fn thumbv6m_core_alloc() {
    check("thumbv6m-none-eabi", "core,alloc", Some(NO_LIBC_FEATURES));
}

#[test]
fn riscv64_none_core_alloc() {
    check(
        "riscv64gc-unknown-none-elf",
        "core,alloc",
        Some(NO_LIBC_FEATURES),
    );
}
