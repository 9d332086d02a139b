//! cargo as the oracle, for any toolchain: its `--unit-graph` (which
//! crates, features and dependencies a sysroot has) and its `-v` build
//! (which rustc arguments each crate gets), read into the same shapes as
//! sysgen's graph and build file. Cargo runs only here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A library unit: (crate, version, features, library dependencies).
pub type Row = (String, String, Vec<String>, Vec<String>);

/// Per (crate name, source file relative to its root): its flags without
/// paths, hashes and output formats.
pub type Calls = BTreeMap<(String, String), BTreeSet<String>>;

/// The cargo of `toolchain` (`None`: the one running the tests), with the
/// environment of a user's shell: no variables of the test's own cargo.
pub fn cargo(toolchain: Option<&str>) -> Command {
    let mut c = match toolchain {
        Some(t) => {
            let mut c = Command::new("rustup");
            c.args(["run", t, "cargo"]);
            c
        }
        None => Command::new(std::env::var("CARGO").unwrap_or("cargo".into())),
    };
    for v in [
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WRAPPER",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTUP_TOOLCHAIN",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        c.env_remove(v);
    }
    c.env("RUSTC_BOOTSTRAP", "1");
    c
}

/// The rustc of `toolchain` (`None`: the one on PATH).
pub fn rustc_of(toolchain: Option<&str>) -> PathBuf {
    match toolchain {
        Some(t) => {
            let o = Command::new("rustup")
                .args(["which", "--toolchain", t, "rustc"])
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "rustup has no toolchain {t} (scripts/setup installs it)"
            );
            PathBuf::from(String::from_utf8(o.stdout).unwrap().trim())
        }
        None => PathBuf::from("rustc"),
    }
}

/// A scratch crate for cargo to build std for: a binary with std, a
/// `#![no_std]` library without; a workspace of its own (an old cargo must
/// not read the manifest of the directory it happens to be in).
pub fn scratch(dir: &Path, std: bool) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"scratch\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    if std {
        std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
    } else {
        std::fs::write(dir.join("src/lib.rs"), "#![no_std]\n").unwrap();
    }
}

/// Name and version from a cargo package id: `path+file:///…/alloc#0.0.0`,
/// `…#compiler_builtins@0.1.160`, or the older `core 0.0.0 (path+file:…)`.
pub fn name_version(pkg_id: &str) -> (String, String) {
    if let Some((name, rest)) = pkg_id.split_once(' ') {
        let version = rest.split(' ').next().unwrap();
        return (name.to_string(), version.to_string());
    }
    let (url, frag) = pkg_id.rsplit_once('#').unwrap();
    match frag.split_once('@') {
        Some((n, v)) => (n.to_string(), v.to_string()),
        None => (
            url.rsplit('/').next().unwrap().to_string(),
            frag.to_string(),
        ),
    }
}

/// cargo's unit graph for `-Zbuild-std=CRATES`: library rows and the
/// packages whose build scripts run.
pub fn unit_graph(
    toolchain: Option<&str>,
    dir: &Path,
    target: &str,
    crates: &str,
    features: Option<&str>,
) -> (BTreeSet<Row>, BTreeSet<String>) {
    scratch(dir, true);
    let mut cmd = cargo(toolchain);
    cmd.current_dir(dir).args([
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
    let is_lib = |u: &serde_json::Value| {
        u["mode"] == "build" && !u["target"]["kind"].to_string().contains("custom-build")
    };
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
        if !is_lib(u) {
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
            .filter(|&i| is_lib(&units[i]))
            .map(|i| name_of(i).0)
            .collect();
        deps.sort();
        deps.dedup();
        rows.insert((name, version, features, deps));
    }
    (rows, scripts)
}

/// sysgen's graph in the same shape (`--rustc` of the toolchain).
pub fn sysgen_graph(rustc: &Path, target: &str, crates: &str) -> (BTreeSet<Row>, BTreeSet<String>) {
    let out = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .arg("graph")
        .arg("--rustc")
        .arg(rustc)
        .args([
            "--no-config",
            "--target",
            target,
            "--crates",
            crates,
            "--format",
            "json",
        ])
        .env_remove("RUSTC")
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

/// The two graphs agree, or the differences, named.
pub fn check_graphs(
    what: &str,
    want: (BTreeSet<Row>, BTreeSet<String>),
    got: (BTreeSet<Row>, BTreeSet<String>),
) {
    let missing: Vec<_> = want.0.difference(&got.0).collect();
    let extra: Vec<_> = got.0.difference(&want.0).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: cargo has but sysgen lacks {missing:#?}\nsysgen has but cargo lacks {extra:#?}"
    );
    assert_eq!(want.1, got.1, "{what}: build scripts differ");
    assert!(
        want.0.len() >= 3,
        "{what}: suspiciously few units: {:?}",
        want.0
    );
}

/// Split a command line the way cargo's -v output quotes it.
pub fn shell_words(s: &str) -> Vec<String> {
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

/// Flags without paths, hashes and output formats; `-C x`/`--cfg x` pairs
/// joined; an `@args` file (relative to `out_dir`) read in.
pub fn normalize(args: &[String], out_dir: Option<&Path>) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
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
    let mut i = 0;
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

/// The key of a compile: its crate name and its source below rust-src's
/// `library/` or the registry's package directory.
fn call_key(name: &str, src: &str) -> (String, String) {
    let rel = match src.rsplit_once("/library/") {
        Some((_, r)) if !src.contains("/registry/src/") => r.to_string(),
        _ => {
            // …/index.crates.io-<hash>/<pkg>-<version>/src/lib.rs or a
            // vendor directory's <pkg>-<version>/src/lib.rs.
            let parts: Vec<&str> = src.split('/').collect();
            let at = parts
                .iter()
                .rposition(|p| p.starts_with("index.crates.io") || p.ends_with("vendor"))
                .map(|i| i + 1)
                .unwrap_or(0);
            parts[at..].join("/")
        }
    };
    (name.to_string(), rel)
}

/// cargo's `-v` build of `-Zbuild-std=CRATES` for the scratch crate in
/// `dir`: every std crate's rustc call.
pub fn cargo_calls(
    toolchain: Option<&str>,
    dir: &Path,
    std: bool,
    target: &str,
    crates: &str,
    features: Option<&str>,
) -> Calls {
    scratch(dir, std);
    let mut cmd = cargo(toolchain);
    cmd.current_dir(dir).args([
        "build",
        "-v",
        "--release",
        &format!("-Zbuild-std={crates}"),
        "--target",
        target,
    ]);
    if let Some(f) = features {
        cmd.arg(format!("-Zbuild-std-features={f}"));
    }
    let out = cmd.output().unwrap();
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
        calls.insert(call_key(&name, &src), normalize(&words[1..], None));
    }
    calls
}

/// sysgen's rustc calls, read back from the build.ninja in `out` as a user
/// would see them (after the build: `@args` files are read in).
pub fn sysgen_calls(out: &Path) -> Calls {
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
        calls.insert(
            call_key(&name, &src),
            normalize(&words[rustc + 1..], Some(out)),
        );
    }
    calls
}

/// A difference from cargo that sysgen makes on purpose: (crate or `*`,
/// flag, the releases it holds for, why).
pub type Allowed<'a> = (&'a str, &'a str, &'a str, &'a str);

/// Compare the calls crate by crate: every difference must be allowed for
/// `release`, and every allowed difference that holds for the release and
/// names a crate of this build must still occur (or the list is stale).
pub fn check_calls(
    what: &str,
    release: &str,
    cargo: &Calls,
    sysgen: &Calls,
    sysgen_only: &[Allowed],
    cargo_only: &[Allowed],
) {
    assert_eq!(
        cargo.keys().collect::<Vec<_>>(),
        sysgen.keys().collect::<Vec<_>>(),
        "{what}: the same rustc calls (crate, source) must be made"
    );
    let version = semver::Version::parse(release.split('-').next().unwrap()).unwrap();
    let holds = |range: &str| semver::VersionReq::parse(range).unwrap().matches(&version);
    let allowed = |list: &[Allowed], krate: &str, flag: &str| {
        list.iter()
            .any(|(c, f, r, _)| (*c == "*" || *c == krate) && *f == flag && holds(r))
    };
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for (key, want) in cargo {
        let got = &sysgen[key];
        let krate = key.0.as_str();
        for f in got.difference(want) {
            used.insert((krate.to_string(), f.clone()));
            if !allowed(sysgen_only, krate, f) {
                problems.push(format!("{krate} ({}): only sysgen passes `{f}`", key.1));
            }
        }
        for f in want.difference(got) {
            used.insert((krate.to_string(), f.clone()));
            if !allowed(cargo_only, krate, f) {
                problems.push(format!("{krate} ({}): only cargo passes `{f}`", key.1));
            }
        }
    }
    let crates: BTreeSet<&str> = cargo.keys().map(|(c, _)| c.as_str()).collect();
    for (c, f, r, _) in sysgen_only.iter().chain(cargo_only) {
        let applies = holds(r) && (*c == "*" || crates.contains(c));
        if applies
            && !used
                .iter()
                .any(|(uc, uf)| (*c == "*" || c == uc) && f == uf)
        {
            problems.push(format!(
                "allowed difference `{f}` for {c} (Rust {r}) no longer occurs; remove it from the list"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{what}: {} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
