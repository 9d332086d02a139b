//! Miri through sysgen, on the pinned nightly with its miri component
//! (scripts/setup installs both): `sysgen cargo miri` builds the sysroot
//! with Miri's driver into the store, and cargo-miri runs against it.
//!
//! - smallvec's own test suite (unit tests and doctests) passes under
//!   sysgen's sysroot as under cargo-miri's own, and the next project gets
//!   the stored sysroot without a compile;
//! - a program with a use-after-free is reported as Undefined Behavior (the
//!   sysroot's MIR is what Miri needs), a clean one prints its output, both
//!   using a custom crate of the project's Xargo.toml from the sysroot
//!   (`examples/miri`, as its README runs it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

const NIGHTLY: &str = "nightly-2026-10-29";

/// One store for this file's tests (emptied once per run).
fn store() -> &'static Path {
    static STORE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    STORE.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("miri-store");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

/// A command as a user runs it in `project`: nothing of the test runner's
/// environment (its toolchain's libraries, flags, target directory).
fn user(program: &str, project: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(project)
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("RUSTC")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("MIRI_SYSROOT")
        .env("SYSGEN_CACHE_DIR", store());
    c
}

/// `sysgen cargo +NIGHTLY miri ARGS` in `project`.
fn sysgen_miri(project: &Path, args: &[&str]) -> Output {
    user(env!("CARGO_BIN_EXE_sysgen"), project)
        .args(["cargo", &format!("+{NIGHTLY}"), "miri"])
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// Every `test result: ok. N passed` of a run, in order.
fn passed(out: &str) -> Vec<u32> {
    out.lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect()
}

fn registry_crate(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    std::fs::read_dir(home.join("registry/src"))
        .unwrap()
        .map(|i| i.unwrap().path().join(name))
        .find(|p| p.join("Cargo.toml").is_file())
        .unwrap_or_else(|| panic!("no {name} in the Cargo home (scripts/setup fetches it)"))
}

#[test]
fn smallvecs_test_suite_passes_under_sysgens_miri_sysroot_as_under_cargo_miris_own() {
    let p = tempdir().join("smallvec");
    copy_dir(&registry_crate("smallvec-1.16.6"), &p);

    // cargo-miri's own sysroot, built in a cache of its own.
    let o = user("cargo", &p)
        .env("XDG_CACHE_HOME", p.join("cargo-miri-cache"))
        .args([
            &format!("+{NIGHTLY}"),
            "miri",
            "test",
            "--locked",
            "--offline",
        ])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let own = passed(&out);
    assert_eq!(own.len(), 2, "unit tests and doctests: {out}");
    assert!(own[0] > 50, "{out}");

    // sysgen's, in the same target directory: the crates compiled against
    // the other sysroot are compiled again, and the same tests pass.
    let o = sysgen_miri(&p, &["test", "--locked", "--offline"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("sysgen: built miri sysroot for x86_64-unknown-linux-gnu")
            || err.contains("sysgen: reusing miri sysroot for x86_64-unknown-linux-gnu"),
        "{err}"
    );
    assert!(!err.contains("Preparing a sysroot for Miri"), "{err}");
    assert_eq!(passed(&out), own, "{out}");

    // Built once: the next run, and another project, reuse it.
    let o = sysgen_miri(&p, &["setup", "--print-sysroot"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("reusing miri sysroot"), "{err}");
    let sysroot = PathBuf::from(out.trim());
    assert!(sysroot.starts_with(store()), "{out}");
    let other = project(&[
        (
            "Cargo.toml",
            "[package]\nname = \"other\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("src/main.rs", "fn main() {}\n"),
    ]);
    let o = sysgen_miri(&other, &["setup", "--print-sysroot"]);
    let (out, err) = text(&o);
    assert!(err.contains("reusing miri sysroot"), "{err}");
    assert_eq!(PathBuf::from(out.trim()), sysroot);
}

#[test]
fn miri_finds_undefined_behaviour_with_sysgens_sysroot_and_an_xargo_custom_crate() {
    let p = tempdir().join("miri");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/miri"),
        &p,
    );
    // A clean program runs to its end, its custom crate from the sysroot.
    let o = sysgen_miri(&p, &["run", "--bin", "clean"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(out, "sum: 10\n", "{err}");
    assert!(
        err.contains("helper"),
        "the custom crate is in the sysroot: {err}"
    );

    // The use-after-free is Undefined Behavior, found in the custom crate's
    // raw pointer walk over memory std's allocator freed.
    let o = sysgen_miri(&p, &["run", "--bin", "uaf"]);
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{out}{err}");
    assert!(err.contains("reusing miri sysroot"), "{err}");
    assert!(err.contains("Undefined Behavior"), "{err}");
    assert!(err.contains("freed"), "{err}");
    assert!(
        err.contains("sum_raw"),
        "found inside the sysroot's crate: {err}"
    );
    assert!(!out.contains("freed:"), "{out}");
}
