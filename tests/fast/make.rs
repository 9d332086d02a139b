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

/// Paths stand unquoted in Make's rules and recipes, so a character the
/// shell or Make would read is refused, never accepted and then run or
/// broken. (Found by the hostile probe: `-o 'a`>/tmp/pwned`b'` ran the
/// command substitution under make; `'`, `"`, `;` and `\` were accepted
/// and broke the build later.)
#[test]
fn make_refuses_every_path_character_the_shell_or_make_would_read() {
    let t = tempdir();
    for dir in [
        "a`>pwned`b",
        "a'b",
        "a\"b",
        "a;b",
        "a\\b",
        "a(b",
        "a*b",
        "~a",
    ] {
        let e = one_line_error(&sysgen_fake(&t, &["make", "--crates", "core", "-o", dir]));
        assert!(e.contains("GNU Make cannot name"), "{dir:?}: {e}");
        assert!(!t.join(dir).exists(), "{dir:?}");
    }
    assert!(!t.join("pwned").exists());
    // What it can name still works: letters of any script, digits, `_@+=,./-`.
    let o = sysgen_fake(&t, &["make", "--crates", "core", "-o", "out_ä-1.2@x+y,w"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A stand-in toolchain at a directory of its own, reporting `release`,
/// with the mock library as its rust-src (where rustup puts it).
fn toolchain(release: &str) -> std::path::PathBuf {
    let rustc = fake_compiler(release);
    let tc = rustc.parent().unwrap().parent().unwrap();
    copy_dir(
        &mock_dir().join("library"),
        &tc.join("lib/rustlib/src/rust/library"),
    );
    std::fs::write(
        tc.join("lib/rustlib/multirust-channel-manifest.toml"),
        format!("[pkg.rust-src]\nversion = \"{release}\"\n"),
    )
    .unwrap();
    rustc
}

/// `make -C out VARS…`: (stdout, the crates the stand-in compiled).
fn make_in(t: &std::path::Path, vars: &[String]) -> (String, String) {
    let log = t.join("rustc.log");
    let _ = std::fs::remove_file(&log);
    let o = std::process::Command::new("make")
        .arg("-C")
        .arg(t.join("out"))
        .args(vars)
        .env("FAKE_RUSTC_LOG", &log)
        .env("FAKE_RUSTC_PROBES", t.join("probes.log"))
        .env("SYSGEN_CACHE_DIR", t.join(".cache"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (out, std::fs::read_to_string(&log).unwrap_or_default())
}

/// `make` with `vars` regenerates nothing and compiles nothing.
fn assert_nothing_to_do(t: &std::path::Path, vars: &[String]) {
    let (out, compiled) = make_in(t, vars);
    assert_eq!(
        (out.contains("GEN"), compiled.as_str()),
        (false, ""),
        "{vars:?}: {out}"
    );
}

/// Kbuild passes its own RUSTC (and RUST_LIB_SRC) to whatever builds its
/// Rust: another compiler makes the fragment regenerate for that
/// compiler's rust-src and rebuild with it, once — not compile the first
/// toolchain's library with the second compiler. (Before, the fragment
/// kept its first rust-src until its directory was deleted.)
#[test]
fn another_compiler_or_rust_src_regenerates_the_fragment_for_them() {
    let t = tempdir();
    let (a, b) = (toolchain("1.95.0"), toolchain("1.96.0"));
    let library = |rustc: &std::path::Path| {
        rustc
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("lib/rustlib/src/rust/library")
    };
    let o = sysgen_cmd(&t)
        .args([
            "make",
            "--no-config",
            "--crates",
            "core",
            "-o",
            "out",
            "--vendor",
        ])
        .arg(mock_dir().join("vendor"))
        .arg("--rustc")
        .arg(&a)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let header = || std::fs::read_to_string(t.join("out/sysgen.mk")).unwrap();
    assert!(header().contains(&library(&a).display().to_string()));
    let (_, compiled) = make_in(&t, &[]);
    assert!(compiled.contains("core"), "{compiled}");
    // The same compiler, spelled as the default: nothing to do.
    assert_nothing_to_do(&t, &[format!("SYSGEN_RUSTC={}", a.display())]);
    // …through a link (rustup's `1.95.0` toolchain is a link to `stable`),
    // or behind a wrapper: the same compiler, not regenerated (the crates
    // are compiled again, as Kbuild does when a command line changes).
    let link = t.join("link-to-rustc");
    std::os::unix::fs::symlink(&a, &link).unwrap();
    // Known without asking it: no `rustc --print sysroot` at each make.
    let _ = std::fs::remove_file(t.join("probes.log"));
    for spelled in [link.display().to_string(), format!("env {}", a.display())] {
        let (out, _) = make_in(&t, &[format!("SYSGEN_RUSTC={spelled}")]);
        assert!(!out.contains("GEN"), "{spelled}: {out}");
        assert!(header().contains(&library(&a).display().to_string()));
    }
    assert!(!t.join("probes.log").exists());

    // Another compiler: the fragment is regenerated for its rust-src, and
    // the crates are compiled again, by it.
    let (out, compiled) = make_in(&t, &[format!("SYSGEN_RUSTC={}", b.display()), "-j2".into()]);
    assert!(out.contains("GEN     sysgen.mk"), "{out}");
    // Asked without make's jobserver variables: a $(shell) gets no
    // jobserver, and rustc warns about one it cannot reach.
    let probes = std::fs::read_to_string(t.join("probes.log")).unwrap();
    assert!(
        probes.lines().all(|l| l == "sysroot MAKEFLAGS="),
        "{probes}"
    );
    assert!(compiled.contains("core"), "{out}");
    assert!(header().contains(&library(&b).display().to_string()));
    assert!(header().contains(&format!("SYSGEN_RUSTC ?= {}", b.display())));
    // Once: the next make with that compiler has nothing to do.
    assert_nothing_to_do(&t, &[format!("SYSGEN_RUSTC={}", b.display())]);

    // Another rust-src for the same compiler (as Kbuild's RUST_LIB_SRC),
    // through a link: regenerated for it, once.
    let other = t.join("other-src");
    copy_dir(&library(&b), &other);
    std::os::unix::fs::symlink(&other, t.join("src-link")).unwrap();
    let vars = [format!("SYSGEN_RUST_SRC={}", t.join("src-link").display())];
    let (out, compiled) = make_in(&t, &vars);
    assert!(out.contains("GEN     sysgen.mk"), "{out}");
    assert!(compiled.contains("core"), "{out}");
    assert!(header().contains("other-src") || header().contains("src-link"));
    assert_nothing_to_do(&t, &vars);
}
