//! The toolchain matrix: every release in `tests/toolchains` (1.78, the
//! Linux kernel's minimum, to a pinned nightly), each against its own
//! rust-src and its own cargo as the oracle:
//! - the graph equals that cargo's unit graph for host std,panic_abort and
//!   for thumbv6m core,alloc;
//! - thumbv6m core,alloc builds, every crate with the flags that cargo's
//!   `-v` build passes (but the differences `flags.rs` lists, each for the
//!   releases it holds for), and a `#![no_std]` program links against it
//!   and runs under qemu-arm;
//! - where the list says `host-std`: a host std,panic_abort builds with
//!   that cargo's flags and a program using threads, a HashMap, unwinding
//!   and a backtrace runs.
//!
//! And a distribution's compiler (Debian's rustc-web: rust-src under
//! /usr/src, the compiler reached by another name) through generation,
//! build, fetch and the store, side by side with a rustup toolchain.
//!
//! scripts/setup installs the toolchains, Debian's compiler and each
//! lockfile's registry crates.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::flags::{CARGO_ONLY, SYSGEN_ONLY};
use crate::oracle;
use crate::support::{run_ok, stdout_ok};

const THUMB: &str = "thumbv6m-none-eabi";
const HOST: &str = "x86_64-unknown-linux-gnu";
/// sysgen adds compiler-builtins-mem where `target_os = "none"`
/// (rules/build-std.toml): cargo is given the same list.
const NO_LIBC_FEATURES: &str = "panic-unwind,backtrace,default,compiler-builtins-mem";

/// The matrix as `tests/toolchains` lists it: (toolchain, host std too).
fn matrix() -> Vec<(String, bool)> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/toolchains"))
            .unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next().unwrap().to_string();
            (name, w.any(|x| x == "host-std"))
        })
        .collect()
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("matrix")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `release:` of a compiler's `-vV`.
fn release_of(rustc: &Path) -> String {
    let v = stdout_ok(Command::new(rustc).arg("-vV"));
    v.lines()
        .find_map(|l| l.strip_prefix("release: "))
        .unwrap()
        .to_string()
}

/// `sysgen build` with `rustc` (its own rust-src) into `out`; then every
/// crate's source list (what Bazel and Buck2 declare) against what rustc
/// read, as tests/real/sources.rs checks the stable one's.
fn build(rustc: &Path, out: &Path, args: &[&str]) {
    let rustc_arg = rustc.display().to_string();
    let mut all = vec![
        "--rustc",
        rustc_arg.as_str(),
        "--no-config",
        "--frontend-threads=2",
    ];
    all.extend_from_slice(args);
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .arg("build")
            .args(&all)
            .arg("-o")
            .arg(out)
            .env_remove("RUSTC")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS"),
    );
    assert!(crate::sources::check_lists(out, &all) >= 3);
}

fn program(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/programs")
        .join(name)
}

/// The whole matrix row of one toolchain.
fn row(toolchain: &str, host_std: bool) {
    let rustc = oracle::rustc_of(Some(toolchain));
    let release = release_of(&rustc);
    let dir = tmp(toolchain);

    // The graph, against this toolchain's cargo.
    for (target, crates, features) in [
        (HOST, "std,panic_abort", None),
        (THUMB, "core,alloc", Some(NO_LIBC_FEATURES)),
    ] {
        let what = format!("{toolchain} {target} {crates}");
        let want = oracle::unit_graph(
            Some(toolchain),
            &dir.join("graph"),
            target,
            crates,
            features,
        );
        let got = oracle::sysgen_graph(&rustc, target, crates);
        oracle::check_graphs(&what, want, got);
    }

    // thumbv6m core,alloc: built, with that cargo's flags.
    let out = dir.join("thumb");
    build(&rustc, &out, &["--target", THUMB, "--crates", "core,alloc"]);
    let cargo = oracle::cargo_calls(
        Some(toolchain),
        &dir.join("cargo-thumb"),
        false,
        THUMB,
        "core,alloc",
        Some(NO_LIBC_FEATURES),
    );
    oracle::check_calls(
        &format!("{toolchain} {THUMB}"),
        &release,
        &cargo,
        &oracle::sysgen_calls(&out),
        SYSGEN_ONLY,
        CARGO_ONLY,
    );
    // A no_std program (alloc over a bump allocator) links and runs. The
    // linker is named: rustc before 1.80 looks for its rust-lld only in the
    // sysroot it is given (rust-lang/rust#125263).
    let lld = rustc
        .parent()
        .unwrap()
        .join("../lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld");
    let exe = dir.join("bare_arm");
    run_ok(
        Command::new(&rustc)
            .arg("--sysroot")
            .arg(out.join("sysroot"))
            .args(["--target", THUMB, "-O", "-Cpanic=abort"])
            .arg(format!("-Clinker={}", lld.display()))
            .arg(program("bare_arm.rs"))
            .arg("-o")
            .arg(&exe),
    );
    assert_eq!(
        stdout_ok(Command::new("qemu-arm").arg(&exe)),
        "no_std sum: 55\n",
        "{toolchain}"
    );

    if !host_std {
        return;
    }
    let out = dir.join("std");
    build(
        &rustc,
        &out,
        &["--target", HOST, "--crates", "std,panic_abort"],
    );
    let cargo = oracle::cargo_calls(
        Some(toolchain),
        &dir.join("cargo-std"),
        true,
        HOST,
        "std,panic_abort",
        None,
    );
    oracle::check_calls(
        &format!("{toolchain} {HOST}"),
        &release,
        &cargo,
        &oracle::sysgen_calls(&out),
        SYSGEN_ONLY,
        CARGO_ONLY,
    );
    let exe = dir.join("host_std");
    run_ok(
        Command::new(&rustc)
            .arg("--sysroot")
            .arg(out.join("sysroot"))
            .args(["--edition", "2021", "-g"])
            .arg(program("host_std.rs"))
            .arg("-o")
            .arg(&exe),
    );
    assert_eq!(
        stdout_ok(&mut Command::new(&exe)),
        "sum of squares: 14\ncaught panic: true\nbacktrace names main: true\n",
        "{toolchain}"
    );
}

macro_rules! toolchain {
    ($test:ident, $name:literal) => {
        #[test]
        fn $test() {
            let (_, host_std) = matrix()
                .into_iter()
                .find(|(n, _)| n == $name)
                .expect(concat!($name, " is in tests/toolchains"));
            row($name, host_std);
        }
    };
}

toolchain!(rust_1_78_0, "1.78.0");
toolchain!(rust_1_84_0, "1.84.0");
toolchain!(rust_1_86_0, "1.86.0");
toolchain!(rust_1_90_0, "1.90.0");
toolchain!(rust_1_95_0, "1.95.0");
toolchain!(nightly_2026_10_29, "nightly-2026-10-29");

#[test]
fn every_toolchain_of_the_list_has_its_test() {
    let here = std::fs::read_to_string(file!()).unwrap();
    for (name, _) in matrix() {
        assert!(
            here.contains(&format!(
                "toolchain!(rust_{}, \"{name}\")",
                name.replace(['.', '-'], "_")
            )) || here.contains(&format!(
                "toolchain!({}, \"{name}\")",
                name.replace(['.', '-'], "_")
            )),
            "tests/toolchains lists {name}: add `toolchain!(…, \"{name}\");` to {}",
            file!()
        );
    }
}

/// Debian's rustc-web: the compiler in /usr/bin, its rust-src in
/// /usr/src/rustc-<version>/library (with a `vendor/` of its own), reached
/// here through a link of another name, as distributions version them.
struct Distribution {
    rustc: PathBuf,
    library: PathBuf,
}

fn debian() -> Distribution {
    let src = std::fs::read_dir("/usr/src")
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("rustc-"))
        })
        .expect("Debian's rust-web-src is installed (scripts/setup)");
    let version = src.file_name().unwrap().to_string_lossy()["rustc-".len()..].to_string();
    let dir = tmp("distribution-bin");
    let rustc = dir.join(format!("rustc-{version}"));
    std::os::unix::fs::symlink("/usr/bin/rustc", &rustc).unwrap();
    Distribution {
        rustc,
        library: src.join("library"),
    }
}

#[test]
fn a_distributions_compiler_with_its_rust_src_elsewhere_generates_builds_and_stores() {
    let d = debian();
    let t = tmp("distribution");
    let sysgen = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sysgen"));
        c.env("SYSGEN_CACHE_DIR", t.join("cache"))
            .env("XDG_CONFIG_HOME", t.join("no-config"))
            .env_remove("RUSTC")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("SYSGEN_REMOTE_CACHE");
        c
    };
    // `sysgen fetch` with that compiler's cargo: its lockfile's crates.
    run_ok(
        sysgen()
            .arg("fetch")
            .arg("--rustc")
            .arg(&d.rustc)
            .arg("--rust-src")
            .arg(&d.library),
    );
    // Generation and the build, rust-src named explicitly.
    let out = t.join("out");
    run_ok(
        sysgen()
            .arg("build")
            .arg("--rustc")
            .arg(&d.rustc)
            .arg("--rust-src")
            .arg(&d.library)
            .args([
                "--no-config",
                "--target",
                THUMB,
                "--crates",
                "core,alloc",
                "-o",
            ])
            .arg(&out),
    );
    // Debian ships no rust-lld: link with the one rustup's toolchain has.
    let lld = oracle::rustc_of(Some("1.95.0"))
        .parent()
        .unwrap()
        .join("../lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld");
    let exe = t.join("bare_arm");
    run_ok(
        Command::new(&d.rustc)
            .arg("--sysroot")
            .arg(out.join("sysroot"))
            .args(["--target", THUMB, "-O", "-Cpanic=abort"])
            .arg(format!("-Clinker={}", lld.display()))
            .arg(program("bare_arm.rs"))
            .arg("-o")
            .arg(&exe),
    );
    assert_eq!(
        stdout_ok(Command::new("qemu-arm").arg(&exe)),
        "no_std sum: 55\n"
    );

    // The store, side by side with a rustup toolchain: one entry each,
    // each reused by its own compiler only.
    let project = t.join("project");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(
        project.join("src/lib.rs"),
        "#![no_std]\nextern crate alloc;\npub fn v() -> alloc::vec::Vec<u8> { alloc::vec![1, 2] }\n",
    )
    .unwrap();
    std::fs::write(project.join("Xargo.toml"), "[dependencies.alloc]\n").unwrap();
    let rustup = oracle::rustc_of(Some("1.90.0"));
    let cargo_build = |rustc: &Path| {
        let o = sysgen()
            .current_dir(&project)
            .env("RUSTC", rustc)
            .args(["cargo", "build", "--target", THUMB])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(o.status.success(), "{err}");
        err
    };
    for rustc in [&d.rustc, &rustup] {
        let err = cargo_build(rustc);
        assert!(err.contains("built sysroot"), "{}: {err}", rustc.display());
    }
    for rustc in [&d.rustc, &rustup] {
        let err = cargo_build(rustc);
        assert!(
            err.contains("reusing sysroot"),
            "{}: {err}",
            rustc.display()
        );
    }
    let list = stdout_ok(sysgen().args(["cache", "list"]));
    assert_eq!(
        list.lines().filter(|l| l.contains(THUMB)).count(),
        2,
        "{list}"
    );
}

#[test]
fn fetching_for_one_toolchain_never_disturbs_anothers_crates() {
    // One vendor directory for the oldest layout and the newest: each
    // fetch only adds, and both generate from it afterwards.
    let t = tmp("fetch-two");
    let vendor = t.join("vendor");
    let old = oracle::rustc_of(Some("1.78.0"));
    let new = oracle::rustc_of(Some("nightly-2026-10-29"));
    for rustc in [&old, &new] {
        run_ok(
            Command::new(env!("CARGO_BIN_EXE_sysgen"))
                .arg("fetch")
                .arg("--rustc")
                .arg(rustc)
                .arg("--vendor")
                .arg(&vendor)
                .env("SYSGEN_CACHE_DIR", t.join("cache"))
                .env_remove("RUSTC"),
        );
    }
    for rustc in [&old, &new] {
        run_ok(
            Command::new(env!("CARGO_BIN_EXE_sysgen"))
                .arg("graph")
                .arg("--rustc")
                .arg(rustc)
                .arg("--vendor")
                .arg(&vendor)
                .args(["--no-config", "--target", HOST, "--crates", "std"])
                .env("SYSGEN_CACHE_DIR", t.join("cache"))
                .env_remove("RUSTC"),
        );
    }
}
