//! Parity with cargo: for each target, the (crate, version, features, deps)
//! of every library unit and the set of build scripts sysgen resolves equal
//! what `cargo build -Zbuild-std --unit-graph` reports for a scratch crate.
//! Cargo runs only here, as the oracle. Needs rust-src and the fetched
//! registry sources (`sysgen fetch`), which `.ci/run` installs.

use crate::oracle;

fn check(target: &str, crates: &str, cargo_features: Option<&str>) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("parity-{target}"));
    let want = oracle::unit_graph(None, &dir, target, crates, cargo_features);
    let got = oracle::sysgen_graph(&oracle::rustc_of(None), target, crates);
    oracle::check_graphs(target, want, got);
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
