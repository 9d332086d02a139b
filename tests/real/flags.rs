//! Flag parity: for the host std graph, sysgen's rustc calls match the ones
//! `cargo -Zbuild-std -v` prints, crate by crate, except for paths, hashes
//! and output-format flags, and the differences listed in `ALLOWED` below,
//! each with its reason. Both builds really run (build-script output is
//! compared too, from sysgen's @args files). Needs rust-src, the fetched
//! registry sources and ninja.

use std::path::Path;

use crate::oracle::{self, Allowed};

/// (crate or `*`, flag, the releases it holds for, why): what only sysgen
/// passes. The toolchain matrix (tests/real/toolchains.rs) checks the same
/// list against each release's cargo.
pub const SYSGEN_ONLY: &[Allowed] = &[
    (
        "*",
        "-Zunstable-options",
        "*",
        "sysgen passes it to every sysroot crate: priv: externs and -Cpanic=immediate-abort need it; cargo adds it only with priv: externs",
    ),
    (
        "compiler_builtins",
        "-Ccodegen-units=10000",
        ">=1.82",
        "library/Cargo.toml's per-package profile (since the library has a manifest), which cargo ignores under -Zbuild-std and the compiler's bootstrap applies",
    ),
    (
        "addr2line",
        "-Copt-level=s",
        ">=1.82",
        "library/Cargo.toml per-package profile (as bootstrap)",
    ),
    (
        "gimli",
        "-Copt-level=s",
        ">=1.82",
        "library/Cargo.toml per-package profile (as bootstrap)",
    ),
    (
        "miniz_oxide",
        "-Copt-level=s",
        ">=1.90",
        "library/Cargo.toml per-package profile (as bootstrap)",
    ),
    (
        "rustc_demangle",
        "-Copt-level=s",
        ">=1.90",
        "library/Cargo.toml per-package profile (as bootstrap)",
    ),
    (
        "core",
        "-Zthreads=2",
        "*",
        "rules/rustc.toml parallel-frontend: core runs alone on the critical path (the tests pin --frontend-threads 2)",
    ),
    (
        "panic_abort",
        "-Cpanic=abort",
        ">=1.90",
        "library/Cargo.toml profile rustflags: panic_abort is always built with panic=abort",
    ),
];

/// (crate, flag, releases, why) that only cargo passes.
pub const CARGO_ONLY: &[Allowed] = &[
    (
        "addr2line",
        "-Copt-level=3",
        ">=1.82",
        "replaced by the per-package opt-level = \"s\" (see above)",
    ),
    (
        "gimli",
        "-Copt-level=3",
        ">=1.82",
        "replaced by the per-package opt-level = \"s\"",
    ),
    (
        "miniz_oxide",
        "-Copt-level=3",
        ">=1.90",
        "replaced by the per-package opt-level = \"s\"",
    ),
    (
        "rustc_demangle",
        "-Copt-level=3",
        ">=1.90",
        "replaced by the per-package opt-level = \"s\"",
    ),
    (
        "*",
        "-Zembed-metadata=no",
        ">=1.101",
        "the nightly's cargo keeps metadata out of rlibs (beside them in .rmeta files); a sysroot of self-contained rlibs works with every rustc and build system that reads it, so sysgen keeps the metadata in",
    ),
    (
        "*",
        "--force-warn=unused_crate_dependencies",
        ">=1.101",
        "the nightly's cargo collects unused dependencies for its own `unused_dependencies` lint (a cargo lint, never reported for capped crates); sysgen has no such lint",
    ),
];

#[test]
fn host_std_flags_match_cargo_build_std() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("flags-cargo");
    let cargo = oracle::cargo_calls(
        None,
        &dir,
        true,
        "x86_64-unknown-linux-gnu",
        "std,panic_abort",
        None,
    );
    // The shared host std build (tests/support): --frontend-threads=2 pinned.
    let out = crate::support::shared_build("host-std", crate::support::HOST_STD);
    let sysgen = oracle::sysgen_calls(&out);
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
    let release = crate::support::stdout_ok(std::process::Command::new("rustc").arg("-vV"));
    let release = release
        .lines()
        .find_map(|l| l.strip_prefix("release: "))
        .unwrap()
        .to_string();
    oracle::check_calls(
        "host std",
        &release,
        &cargo,
        &sysgen,
        SYSGEN_ONLY,
        CARGO_ONLY,
    );
}
