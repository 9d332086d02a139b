//! `sysgen make`, checked with GNU make: sysroots byte-identical to the
//! Ninja build's, programs that run against them, Kbuild-style rebuilds
//! (nothing when nothing changed; a touched source rebuilds its crate and
//! its dependents; a changed per-crate flag variable rebuilds exactly that
//! crate and its dependents), objects for kernels, and bad input.

use crate::support::*;

#[test]
fn bad_input_to_sysgen_make_is_one_line_and_writes_nothing() {
    let t = tempdir();
    let e = one_line_error(&sysgen_fake(
        &t,
        &["make", "--crates", "core", "-o", "with space"],
    ));
    assert!(e.contains("GNU Make cannot name"), "{e}");
    assert!(!t.join("with space").exists());
    let e = one_line_error(&sysgen_fake(
        &t,
        &["make", "--target", "x86_64-unknown-nowhere", "-o", "out"],
    ));
    assert!(e.contains("unknown target"), "{e}");
    assert!(!t.join("out").exists());
    std::fs::create_dir_all(t.join("mine")).unwrap();
    std::fs::write(t.join("mine/Makefile"), "all:\n").unwrap();
    let e = one_line_error(&sysgen_fake(
        &t,
        &["make", "--crates", "core", "-o", "mine"],
    ));
    assert!(
        e.contains("Makefile") && e.contains("not written by sysgen"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(t.join("mine/Makefile")).unwrap(),
        "all:\n"
    );
}
