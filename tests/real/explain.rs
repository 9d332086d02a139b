//! `sysgen explain`: why a crate is in the graph, what enabled its
//! features, and where its rustc arguments come from — read from the model
//! the emitters render.

use std::process::Command;

use crate::support::*;

/// The real host std: why hashbrown is in it, and panic_abort's -Cpanic=abort.
#[test]
fn real_std_hashbrown_and_panic_abort() {
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env("SYSGEN_CACHE_DIR", tempdir())
            .args(["explain", "--crates", "std,panic_abort"])
            .args(args)
            .output()
            .unwrap();
        stdout(&o)
    };
    let out = run(&["hashbrown"]);
    assert!(
        out.contains("std depends on hashbrown (--extern hashbrown"),
        "{out}"
    );
    assert!(out.contains("rustc-dep-of-std: std asks for it"), "{out}");
    let out = run(&["panic_abort", "--flags"]);
    assert!(
        out.lines()
            .any(|l| l.contains("-Cpanic=abort") && l.contains("profile")),
        "{out}"
    );
}
