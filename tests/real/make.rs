//! `sysgen make`, checked with GNU make: sysroots byte-identical to the
//! Ninja build's, programs that run against them, Kbuild-style rebuilds
//! (nothing when nothing changed; a touched source rebuilds its crate and
//! its dependents; a changed per-crate flag variable rebuilds exactly that
//! crate and its dependents), objects for kernels, and bad input.

use std::path::{Path, PathBuf};

use std::process::Command;

use crate::support::*;

fn make(dir: &Path, args: &[&str]) -> String {
    run_ok(
        Command::new("make")
            .arg("-C")
            .arg(dir)
            .arg("-j2")
            .args(args),
    )
}

fn fresh(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The crates a make run compiled (its quiet `  RUSTC   core …` lines).
fn compiled(log: &str) -> Vec<String> {
    let mut v: Vec<String> = log
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("RUSTC"))
        .filter(|l| !l.contains("build script"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn library() -> PathBuf {
    let s = run_ok(Command::new("rustc").args(["--print", "sysroot"]));
    PathBuf::from(s.trim()).join("lib/rustlib/src/rust/library")
}

#[test]
fn thumbv6m_core_alloc_by_make_is_the_ninja_sysroot_and_rebuilds_like_kbuild() {
    // A copy of rust-src, so touching a source here disturbs no other test.
    let t = fresh("make-thumbv6m");
    let src = t.join("library");
    copy_dir(&library(), &src);
    let out = t.join("out");
    let mut args = vec!["make", "--rust-src", src.to_str().unwrap(), "-o", "out"];
    args.extend(THUMBV6M_CORE_ALLOC);
    let o = sysgen_in(&t, &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = make(&out, &[]);
    assert_eq!(
        compiled(&log),
        ["alloc", "compiler_builtins", "core"],
        "{log}"
    );
    assert!(!log.contains("--crate-name"), "quiet by default:\n{log}");

    // Byte for byte the Ninja build's (rust-src elsewhere: remapped alike).
    let ninja = shared_build("thumbv6m-core-alloc", THUMBV6M_CORE_ALLOC);
    let diffs = sysroot_differences(&out.join("sysroot"), &ninja.join("sysroot"));
    assert!(diffs.is_empty(), "{diffs:#?}");

    // A program for Cortex-M0 runs under qemu.
    let exe = t.join("bare_arm");
    run_ok(
        Command::new("rustc")
            .arg("--sysroot")
            .arg(out.join("sysroot"))
            .args([
                "--target",
                "thumbv6m-none-eabi",
                "-O",
                "-Cpanic=abort",
                "-o",
            ])
            .arg(&exe)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/bare_arm.rs")),
    );
    assert_eq!(
        run_ok(Command::new("qemu-arm").arg(&exe)),
        "no_std sum: 55\n"
    );

    // Nothing changed: no command runs.
    assert_eq!(compiled(&make(&out, &[])), Vec::<String>::new());
    // A touched core source: core and what depends on it.
    let f = std::fs::File::options()
        .append(true)
        .open(src.join("core/src/lib.rs"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(2))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(
        compiled(&make(&out, &[])),
        ["alloc", "compiler_builtins", "core"]
    );
    // A flag for alloc only: alloc, and nothing else (nothing depends on it).
    let log = make(&out, &["SYSGEN_RUSTFLAGS_alloc=--cfg=sysgen_test", "V=1"]);
    assert_eq!(
        compiled(&log),
        Vec::<String>::new(),
        "V=1 prints commands, not quiet lines"
    );
    assert!(
        log.contains("--crate-name alloc") && log.contains("--cfg=sysgen_test"),
        "{log}"
    );
    assert!(!log.contains("--crate-name core"), "{log}");
    // Back: the command changed again, alloc again.
    assert_eq!(compiled(&make(&out, &[])), ["alloc"]);

    // A changed manifest or lockfile: the fragment regenerates itself
    // (once), and since the commands come out the same, nothing rebuilds.
    let lock = std::fs::File::options()
        .append(true)
        .open(src.join("Cargo.lock"))
        .unwrap();
    lock.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(4))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(4));
    let log = make(&out, &[]);
    assert!(log.contains("GEN     sysgen.mk"), "{log}");
    assert_eq!(compiled(&log), Vec::<String>::new(), "{log}");
    assert!(!make(&out, &[]).contains("GEN"));

    // `make clean` removes what the fragment built, and nothing else.
    make(&out, &["clean"]);
    assert!(
        !out.join("sysroot/lib/rustlib/thumbv6m-none-eabi/lib/libcore.rlib")
            .exists()
    );
    assert!(out.join("sysgen.mk").is_file() && out.join("Makefile").is_file());
}

#[test]
fn kernel_style_core_with_objects_and_the_rust_for_linux_example() {
    let t = fresh("make-kernel");
    let o = sysgen_in(
        &t,
        &[
            "make",
            "--target",
            "x86_64-unknown-none",
            "--crates",
            "core,alloc",
            "--panic",
            "abort",
            "--objects",
            "-o",
            "out",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Included by a kernel-like Makefile, with its own flag for core.
    std::fs::write(
        t.join("Makefile"),
        "SYSGEN_OUT := $(CURDIR)/objs\nSYSGEN_RUSTFLAGS_core += --cfg no_fp_fmt_parse\ninclude out/sysgen.mk\n\nall: sysgen-all\n\t@echo linked\n",
    )
    .unwrap();
    let log = make(&t, &["V=1"]);
    assert!(log.contains("linked"), "{log}");
    let core_cmd = log
        .lines()
        .find(|l| l.contains("--crate-name core"))
        .unwrap();
    for f in [
        "-C panic=abort",
        "--cfg no_fp_fmt_parse",
        "codegen-units=1",
        "obj=",
    ] {
        assert!(core_cmd.contains(f), "{f}: {core_cmd}");
    }
    let objs = t.join("objs");
    assert!(objs.join("build/x86_64-unknown-none/obj/core.o").is_file());
    assert!(
        objs.join("sysroot/lib/rustlib/x86_64-unknown-none/lib/liballoc.rlib")
            .is_file()
    );
    assert!(
        !t.join("out/sysroot").exists(),
        "outputs went to SYSGEN_OUT"
    );

    // The Rust-for-Linux example, by make instead of ninja.
    let ex = t.join("rfl");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rust-for-linux-core"),
        &ex,
    );
    let o = sysgen_in(&ex, &["make", "-o", "out"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    make(&ex.join("out"), &[]);
    assert!(
        ex.join("out/sysroot/lib/rustlib/x86_64-unknown-none/lib/libcore.rlib")
            .is_file()
    );
}

#[test]
fn host_std_by_make_is_the_ninja_sysroot_and_runs_a_program() {
    let t = fresh("make-host");
    let mut args = vec!["make", "-o", "out"];
    args.extend(HOST_STD);
    let o = sysgen_in(&t, &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    make(&t.join("out"), &[]);
    let ninja = shared_build("host-std", HOST_STD);
    let diffs = sysroot_differences(&t.join("out/sysroot"), &ninja.join("sysroot"));
    assert!(diffs.is_empty(), "{diffs:#?}");
    let exe = t.join("host_std");
    run_ok(
        Command::new("rustc")
            .arg("--sysroot")
            .arg(t.join("out/sysroot"))
            .args(["-O", "-g", "-o"])
            .arg(&exe)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/programs/host_std.rs")),
    );
    assert_eq!(
        run_ok(&mut Command::new(&exe)),
        "sum of squares: 14\ncaught panic: true\nbacktrace names main: true\n"
    );
}
