//! `sysgen cargo`: Xargo's one command, and the sysroot store it keeps.
//!
//! The fast tests run the mock library with the stand-in compiler and a
//! stand-in cargo (`tests/fake-toolchain/bin/cargo`, which records what
//! sysgen passes it). The real ones build with rust-src and the real cargo:
//! a no_std crate for Cortex-M0 from an Xargo.toml, a custom JSON target,
//! a panic=abort program for the host, and a real crate's own test suite.

use std::path::{Path, PathBuf};

use std::process::{Command, Output};

use crate::support::*;

// ---- With rust-src and the real cargo ----------------------------------
/// One store for the real tests of this run (emptied once per run).
fn real_store() -> &'static Path {
    static STORE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    STORE.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cargo-store");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

fn real(project: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .current_dir(project)
        .env("SYSGEN_CACHE_DIR", real_store())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUST_TARGET_PATH")
        .arg("cargo")
        .args(args)
        .output()
        .unwrap()
}

/// The real cargo as a user would run it in `project`: without the test
/// runner's target directory (a `cargo clean` would empty it) or flags.
fn user_cargo(project: &Path) -> Command {
    let mut c = Command::new("cargo");
    c.current_dir(project)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    c
}

fn real_ok(project: &Path, args: &[&str]) -> (String, String) {
    let o = real(project, args);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "sysgen cargo {args:?}:\n{err}");
    (String::from_utf8_lossy(&o.stdout).to_string(), err)
}

const NO_STD_LIB: &str = "#![no_std]\nextern crate alloc;\nuse alloc::vec::Vec;\n\npub fn squares(n: u32) -> Vec<u32> {\n    (0..n).map(|i| i * i).collect()\n}\n";

#[test]
fn an_xargo_project_for_cortex_m0_builds_and_a_second_project_and_cargo_clean_reuse_it() {
    let files = [
        ("Xargo.toml", "[dependencies.alloc]\n"),
        ("src/lib.rs", NO_STD_LIB),
    ];
    let a = project(&files);
    let (_, err) = real_ok(&a, &["build", "--target", "thumbv6m-none-eabi"]);
    assert!(
        err.contains("built sysroot") && err.contains("Compiling p v0.1.0"),
        "{err}"
    );
    assert!(
        a.join("target/thumbv6m-none-eabi/debug/libp.rlib")
            .is_file()
    );

    let b = project(&files);
    let (_, err) = real_ok(&b, &["build", "--target", "thumbv6m-none-eabi"]);
    assert!(
        err.contains("reusing sysroot") && !err.contains("RUSTC core"),
        "{err}"
    );
    assert!(
        b.join("target/thumbv6m-none-eabi/debug/libp.rlib")
            .is_file()
    );

    let o = user_cargo(&a).arg("clean").output().unwrap();
    assert!(o.status.success());
    let (_, err) = real_ok(&a, &["build", "--target", "thumbv6m-none-eabi"]);
    assert!(
        err.contains("reusing sysroot") && err.contains("Compiling p v0.1.0"),
        "{err}"
    );
}

#[test]
fn a_custom_json_target_works_with_stable_cargo() {
    // thumbv6m's spec under another name: a target with no prebuilt std.
    let p = project(&[("src/lib.rs", "#![no_std]\npub fn one() -> u32 { 1 }\n")]);
    let o = Command::new("rustc")
        .env("RUSTC_BOOTSTRAP", "1")
        .args([
            "-Zunstable-options",
            "--print",
            "target-spec-json",
            "--target",
            "thumbv6m-none-eabi",
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let mut spec: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    spec.as_object_mut().unwrap().remove("is-builtin");
    std::fs::write(p.join("m0-custom.json"), spec.to_string()).unwrap();
    // By name, as Xargo's README has it: rustc finds `m0-custom.json` in
    // the working directory, and so does sysgen, once, at generation.
    // (Found: the store's build ran rustc elsewhere and failed mid-build
    // with "could not find specification for target".)
    let (_, err) = real_ok(&p, &["build", "--target", "m0-custom"]);
    assert!(err.contains("built sysroot for m0-custom"), "{err}");
    assert!(
        p.join("target/m0-custom/debug/libp.rlib").is_file(),
        "{err}"
    );
    // By path: rustc tells that target from the one by name (its crates
    // carry a hash of the file), so it is a sysroot of its own.
    let (_, err) = real_ok(&p, &["build", "--target", "m0-custom.json"]);
    assert!(err.contains("built sysroot for m0-custom"), "{err}");
    assert!(
        p.join("target/m0-custom/debug/libp.rlib").is_file(),
        "{err}"
    );
}

#[test]
fn cargo_run_of_a_host_program_with_panic_abort_in_its_profile() {
    let p = project(&[(
        "src/main.rs",
        "fn main() {\n    let v: Vec<u32> = (1..=4).collect();\n    println!(\"abort: {}, sum: {}\", cfg!(panic = \"abort\"), v.iter().sum::<u32>());\n}\n",
    )]);
    let mut manifest = std::fs::read_to_string(p.join("Cargo.toml")).unwrap();
    manifest.push_str("\n[profile.dev]\npanic = \"abort\"\n");
    std::fs::write(p.join("Cargo.toml"), manifest).unwrap();
    let (out, err) = real_ok(&p, &["run", "--target", "x86_64-unknown-linux-gnu"]);
    assert_eq!(out, "abort: true, sum: 10\n", "{err}");
    assert!(err.contains("panic=abort"), "{err}");
}

#[test]
fn a_real_crates_own_test_suite_passes_the_same_count_as_with_the_prebuilt_std() {
    // rustc-demangle from the Cargo home (std depends on it, so setup
    // fetched it), without its std-only optional dependency.
    let home = home_registry_crate("rustc-demangle-");
    let p = tempdir().join("rustc-demangle");
    copy_dir(&home, &p);
    let manifest = std::fs::read_to_string(p.join("Cargo.toml")).unwrap();
    let mut doc: toml::Table = toml::from_str(&manifest).unwrap();
    doc.remove("dependencies");
    if let Some(toml::Value::Table(f)) = doc.get_mut("features") {
        f.remove("rustc-dep-of-std");
    }
    doc.insert("workspace".into(), toml::Value::Table(Default::default()));
    std::fs::write(p.join("Cargo.toml"), toml::to_string(&doc).unwrap()).unwrap();
    let passed = |out: &str| -> u32 {
        out.lines()
            .find_map(|l| l.strip_prefix("test result: ok. "))
            .and_then(|l| l.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no test result in:\n{out}"))
    };
    let o = user_cargo(&p)
        .args(["test", "--lib", "--offline"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let prebuilt = passed(&String::from_utf8_lossy(&o.stdout));
    let (out, err) = real_ok(
        &p,
        &[
            "test",
            "--lib",
            "--offline",
            "--target",
            "x86_64-unknown-linux-gnu",
        ],
    );
    assert!(
        err.contains(", test"),
        "the test crate is in the sysroot: {err}"
    );
    assert_eq!(passed(&out), prebuilt, "{out}");
    assert!(prebuilt > 20);
}

fn home_registry_crate(prefix: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let src = home.join("registry/src");
    for index in std::fs::read_dir(&src).unwrap() {
        for e in std::fs::read_dir(index.unwrap().path()).unwrap() {
            let e = e.unwrap();
            if e.file_name().to_string_lossy().starts_with(prefix) {
                return e.path();
            }
        }
    }
    panic!(
        "no {prefix}* in {} (scripts/setup fetches it)",
        src.display()
    );
}

/// A linked rustup toolchain, removed again when dropped.
struct Linked {
    name: String,
    dir: PathBuf,
}

impl Drop for Linked {
    fn drop(&mut self) {
        let _ = Command::new("rustup")
            .args(["toolchain", "uninstall", &self.name])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A second toolchain: the default one copied (hard links where the file
/// system allows), its rustc a wrapper that logs every call, linked into
/// rustup as `sysgen-second-<pid>`.
fn second_toolchain() -> Linked {
    let sysroot = stdout_ok(Command::new("rustc").args(["--print", "sysroot"]));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("second-toolchain");
    let _ = std::fs::remove_dir_all(&dir);
    let copied = |flags: &str| {
        Command::new("cp")
            .arg(flags)
            .arg(sysroot.trim())
            .arg(&dir)
            .status()
            .unwrap()
            .success()
    };
    if !copied("-al") {
        let _ = std::fs::remove_dir_all(&dir);
        assert!(copied("-a"), "cannot copy the toolchain");
    }
    // Never write into a hard link: the original toolchain shares it.
    let bin = dir.join("bin");
    std::fs::rename(bin.join("rustc"), bin.join("rustc.real")).unwrap();
    executable(
        &bin.join("rustc"),
        &format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec \"$(dirname \"$0\")/rustc.real\" \"$@\"\n",
            dir.join("rustc.log").display()
        ),
    );
    let name = format!("sysgen-second-{}", std::process::id());
    run_ok(
        Command::new("rustup")
            .args(["toolchain", "link", &name])
            .arg(&dir),
    );
    Linked { name, dir }
}

/// Replace `path` (a hard link into the original toolchain, maybe) by a
/// file of its own holding `text`.
fn replace(path: &Path, text: &str) {
    std::fs::remove_file(path).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_plus_toolchain_builds_the_sysroot_with_that_toolchains_rustc_and_rust_src() {
    let second = second_toolchain();
    let core = second
        .dir
        .join("lib/rustlib/src/rust/library/core/src/lib.rs");
    let original = std::fs::read_to_string(&core).unwrap();
    let p = project(&[
        ("Xargo.toml", "[dependencies.core]\n"),
        ("src/lib.rs", "#![no_std]\npub fn one() -> u32 { 1 }\n"),
    ]);
    let plus = format!("+{}", second.name);
    let sysgen_cargo = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sysgen"));
        c.current_dir(&p)
            .env("SYSGEN_CACHE_DIR", real_store())
            .env_remove("RUSTC")
            .env_remove("RUSTUP_TOOLCHAIN")
            // cargo test points it at the default toolchain's libraries,
            // where the second rustc would load its driver from, and then
            // take that toolchain's directory for its sysroot.
            .env_remove("LD_LIBRARY_PATH")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("CARGO_TARGET_DIR")
            .args(["cargo", &plus, "build", "--target", "thumbv6m-none-eabi"]);
        c.output().unwrap()
    };
    // The second toolchain's rust-src is the one compiled: an error put
    // into its core stops the sysroot, and cargo does not run.
    replace(
        &core,
        &format!("{original}\ncompile_error!(\"the second toolchain's core\");\n"),
    );
    let o = sysgen_cargo();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("the second toolchain's core"), "{err}");
    assert!(!p.join("target").exists(), "cargo ran");
    // Fixed (but still its own: a different source than the default
    // toolchain's), the sysroot is built by its rustc, and cargo under
    // `+second` compiles the project with that sysroot.
    replace(&core, &format!("{original}\n// the second toolchain\n"));
    let o = sysgen_cargo();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("built sysroot for thumbv6m-none-eabi"),
        "{err}"
    );
    let log = std::fs::read_to_string(second.dir.join("rustc.log")).unwrap();
    assert!(
        log.contains("--crate-name core"),
        "the sysroot's core:\n{log}"
    );
    assert!(log.contains("--crate-name p "), "the project:\n{log}");
    assert!(
        p.join("target/thumbv6m-none-eabi/debug/libp.rlib")
            .is_file(),
        "{err}"
    );
}

/// Xargo's custom crates: a path crate in stage 1 is an ordinary crate, so
/// a stable crate uses it with `extern crate` (the standard library's own
/// crates stay unstable to it, as under cargo -Zbuild-std).
#[test]
fn a_custom_stage_one_crate_is_usable_from_stable_code() {
    let p = project(&[
        (
            "Xargo.toml",
            "[dependencies.core]\n\n[dependencies.answer]\npath = \"answer\"\nstage = 1\n",
        ),
        (
            "answer/Cargo.toml",
            "[package]\nname = \"answer\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        (
            "answer/src/lib.rs",
            "#![no_std]\npub fn answer() -> u32 { 42 }\n",
        ),
        (
            "src/lib.rs",
            "#![no_std]\nextern crate answer;\npub fn twice() -> u32 { 2 * answer::answer() }\n",
        ),
    ]);
    let (_, err) = real_ok(&p, &["build", "--target", "thumbv6m-none-eabi"]);
    assert!(err.contains("answer"), "{err}");
    // …while the standard library's own crates are not for stable code.
    write(
        &p.join("src/lib.rs"),
        "#![no_std]\nextern crate compiler_builtins;\n",
    );
    let o = real(&p, &["build", "--target", "thumbv6m-none-eabi"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("E0658"), "{err}");
}
