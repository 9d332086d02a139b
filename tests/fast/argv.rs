//! Every rustflag reaches rustc byte for byte, through the real build
//! tools: random flags from a hostile alphabet (shell and build-language
//! metacharacters, and `pwned`, a program that must never run) are given
//! to `sysgen ninja` and `sysgen make`; the stand-in rustc records its
//! argv; the generated build runs under `ninja`, under `make`, and under
//! `make` again after the fragment regenerated itself. The flags must
//! appear in every compile's argv exactly as given, the regenerated build
//! file must be byte-identical to the first, and `pwned` must never run.
//! (Found by the hostile probe: a newline in a flag became Ninja
//! statements; after Make's self-regeneration `-Cz=#x` became `-Cz=\#x`
//! and the rest of the command a comment; `${pwd}` in a flag became the
//! build's directory.) `SYSGEN_ARGV_CASES=N` runs N
//! flags (default 500) in batches of 25; the Ninja build runs in an output
//! directory whose name is hostile too.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

const ALPHABET: &[&str] = &[
    " ", "\t", "$", ":", "#", "%", "'", "\"", "\\", "`", ";", "|", "&", "*", "?", "(", ")", "{",
    "}", "=", "@", "~", "!", "<", ">", "[", "]", "^", ",", "-", ".", "/", "_", "a", "é", "😀",
    "\u{1f}", "\u{7f}", "$(", "${", "pwned", "pwned", "$$", "\\#", "\\\\", "${pwd}", "$PWD",
];

fn cases() -> usize {
    std::env::var("SYSGEN_ARGV_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

/// Deterministic random strings of up to 10 tokens (xorshift).
fn hostile(seed: u64, n: usize) -> Vec<String> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|_| {
            let len = (next() % 11) as usize;
            (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect()
        })
        .collect()
}

/// A directory on PATH whose `pwned` leaves a mark in `marks`.
fn trap(t: &Path) -> (std::ffi::OsString, PathBuf) {
    let bin = t.join("trap");
    let marks = t.join("marks");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&marks).unwrap();
    let pwned = bin.join("pwned");
    executable(
        &pwned,
        &format!("#!/bin/sh\necho \"$@\" > '{}/$$'\n", marks.display()),
    );
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    (path, marks)
}

/// The argv of every compile the stand-in rustc recorded in `dir`, which
/// is emptied.
fn compiles(dir: &Path) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        all.push(text.split_terminator('\0').map(str::to_string).collect());
        std::fs::remove_file(p).unwrap();
    }
    all
}

/// Every compile of a sysroot crate holds `flags` in order, contiguously.
fn check_argv(under: &str, argvs: &[Vec<String>], flags: &[String]) {
    let sysroot: Vec<&Vec<String>> = argvs
        .iter()
        .filter(|a| a.iter().any(|w| w == "core" || w == "compiler_builtins"))
        .collect();
    assert!(
        !sysroot.is_empty(),
        "{under}: no compile of core was recorded"
    );
    for argv in sysroot {
        assert!(
            argv.windows(flags.len()).any(|w| w == flags),
            "{under}: the flags did not reach rustc as given.\nsent: {flags:?}\nargv: {argv:?}"
        );
    }
}

#[test]
fn every_rustflag_reaches_rustc_byte_for_byte_under_ninja_and_make() {
    let t = tempdir();
    let lib = t.join("library");
    copy_dir(&mock_dir().join("library"), &lib);
    let (path, marks) = trap(&t);
    let argv = t.join("argv");
    std::fs::create_dir_all(&argv).unwrap();
    let run = |c: &mut Command| {
        run_ok(
            c.env("PATH", &path)
                .env("FAKE_RUSTC_ARGV", &argv)
                .env_remove("MAKEFLAGS")
                .env_remove("MFLAGS"),
        )
    };
    let all = hostile(7, cases());
    let names = hostile(8, all.len().div_ceil(25));
    for (b, batch) in all.chunks(25).enumerate() {
        // Each flag an option rustc would take, so that sysgen passes it on.
        let flags: Vec<String> = batch
            .iter()
            .enumerate()
            .map(|(i, s)| format!("-Cx{i}={s}"))
            .collect();
        let sysgen = |sub: &str, out: &Path| {
            let mut c = sysgen_cmd(&t);
            c.args([sub, "--no-config", "--crates", "core", "-o"])
                .arg(out)
                .args(mock_toolchain(&lib))
                .args(flags.iter().map(|f| format!("--rustflag={f}")));
            c
        };

        // Ninja, in a directory Ninja and the shell must both quote (but
        // for what sysgen refuses there: `|`; `:`, which PATH cannot hold
        // when rustc links; control characters, which depfiles cannot).
        let name = names[b].replace(['/', '|', ':', '\t', '\u{1f}', '\u{7f}'], "_");
        let out = t.join(format!("ninja-{b}-{name}"));
        run(&mut sysgen("ninja", &out));
        run(Command::new("ninja").arg("-C").arg(&out));
        check_argv("ninja", &compiles(&argv), &flags);
        let first = std::fs::read(out.join("build.ninja")).unwrap();
        let before = regenerate_after_an_input_changes(&lib, &out.join("build.ninja"));
        run(Command::new("ninja").arg("-C").arg(&out));
        assert!(
            modified(&out.join("build.ninja")) > before,
            "ninja regenerated build.ninja"
        );
        assert_eq!(
            std::fs::read(out.join("build.ninja")).unwrap(),
            first,
            "build.ninja regenerated itself differently"
        );

        // Make: the first build, then a build by the regenerated fragment.
        let out = t.join(format!("make-{b}"));
        run(&mut sysgen("make", &out));
        run(Command::new("make").arg("-s").arg("-C").arg(&out));
        check_argv("make", &compiles(&argv), &flags);
        let first = std::fs::read(out.join("sysgen.mk")).unwrap();
        let before = regenerate_after_an_input_changes(&lib, &out.join("sysgen.mk"));
        run(Command::new("make")
            .args(["-s", "sysgen-clean", "-C"])
            .arg(&out));
        assert!(
            modified(&out.join("sysgen.mk")) > before,
            "make regenerated sysgen.mk"
        );
        assert_eq!(
            String::from_utf8(std::fs::read(out.join("sysgen.mk")).unwrap()).unwrap(),
            String::from_utf8(first).unwrap(),
            "sysgen.mk regenerated itself differently"
        );
        compiles(&argv);
        run(Command::new("make").arg("-s").arg("-C").arg(&out));
        check_argv("make after regenerating", &compiles(&argv), &flags);

        let ran: Vec<PathBuf> = std::fs::read_dir(&marks)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(ran.is_empty(), "a flag ran a command: {flags:?}");
    }
}

fn modified(p: &Path) -> std::time::SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

/// Make an input of `build_file` newer than it, so that the next build
/// regenerates it first; returns its time now, to compare with after.
fn regenerate_after_an_input_changes(lib: &Path, build_file: &Path) -> std::time::SystemTime {
    let before = modified(build_file);
    std::fs::File::options()
        .append(true)
        .open(lib.join("Cargo.toml"))
        .unwrap()
        .set_modified(before + std::time::Duration::from_secs(1))
        .unwrap();
    before
}
