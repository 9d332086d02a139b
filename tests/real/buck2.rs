//! `sysgen buck2` against rust-src: the cells for Cortex-M0 core,alloc and
//! for host std evaluate under starlark-rust against stand-ins for the
//! prelude in every configuration the toolchain selects on, and the
//! evaluated rules name the same crates, features, flags, dependency edges
//! and build-script wiring as `sysgen graph --format crates` (see
//! tests/buck2/check.rs). No Buck2 binary is obtainable here, so this is a
//! check by evaluation, not a Buck2 build.

use crate::buck2_check::check_against_model;
use crate::support::*;

fn check(args: &[&str]) {
    let dir = tempdir();
    let o = sysgen_in(&dir, &[&["buck2", "-o", "cell"], args].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = sysgen_in(&dir, &[&["graph", "--format", "crates"], args].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let crates: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    check_against_model(&dir.join("cell"), &crates);
}

#[test]
fn the_cortex_m0_core_alloc_cell_evaluates_to_the_crate_model() {
    check(&["--target", "thumbv6m-none-eabi", "--crates", "core,alloc"]);
}

#[test]
fn the_host_std_cell_evaluates_to_the_crate_model() {
    check(HOST_STD);
}
