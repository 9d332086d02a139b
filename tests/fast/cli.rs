//! Bad input at the command line: one line on stderr naming the problem and
//! the fix, exit status 2, and no output file written.

use std::process::Command;

use crate::support::*;

fn sysgen_fails(args: &[&str]) -> String {
    let dir = tempdir();
    let out = dir.join("graph.json");
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .args(args)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("sysgen: error: "), "{stderr}");
    assert!(!out.exists(), "nothing may be written on error");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn mock_args<'a>(lib: &'a str, vendor: &'a str) -> Vec<&'a str> {
    vec!["graph", "--rust-src", lib, "--vendor", vendor]
}

#[test]
fn unknown_target() {
    let m = mock_dir();
    let (lib, ven) = (m.join("library"), m.join("vendor"));
    let mut a = mock_args(lib.to_str().unwrap(), ven.to_str().unwrap());
    a.extend(["--target", "x86_64-unknown-nowhere"]);
    let e = sysgen_fails(&a);
    assert!(
        e.contains("unknown target `x86_64-unknown-nowhere`") && e.contains("--print target-list"),
        "{e}"
    );
}

#[test]
fn unknown_crate() {
    let m = mock_dir();
    let (lib, ven) = (m.join("library"), m.join("vendor"));
    let mut a = mock_args(lib.to_str().unwrap(), ven.to_str().unwrap());
    a.extend(["--crates", "sdt"]);
    assert!(sysgen_fails(&a).contains("unknown crate `sdt`"));
}

#[test]
fn unknown_feature() {
    let m = mock_dir();
    let (lib, ven) = (m.join("library"), m.join("vendor"));
    let mut a = mock_args(lib.to_str().unwrap(), ven.to_str().unwrap());
    a.extend(["--features", "turbo"]);
    assert!(sysgen_fails(&a).contains("unknown feature `turbo`"));
}

#[test]
fn missing_rust_src() {
    let e = sysgen_fails(&["graph", "--rust-src", "/nonexistent/rust-src"]);
    assert!(
        e.contains("/nonexistent/rust-src") && e.contains("library"),
        "{e}"
    );
}

#[test]
fn missing_registry_sources() {
    let m = mock_dir();
    let empty = tempdir();
    let lib = m.join("library");
    let e = sysgen_fails(&mock_args(lib.to_str().unwrap(), empty.to_str().unwrap()));
    assert!(
        e.contains("hashmapx 0.3.1") && e.contains("sysgen fetch --vendor"),
        "{e}"
    );
}

#[test]
fn malformed_manifest() {
    let lib = tempdir();
    copy_dir(&mock_dir().join("library"), &lib);
    std::fs::write(lib.join("std/Cargo.toml"), "[package\nname = 1\n").unwrap();
    let ven = mock_dir().join("vendor");
    let e = sysgen_fails(&mock_args(lib.to_str().unwrap(), ven.to_str().unwrap()));
    assert!(
        e.contains("malformed manifest") && e.contains("std/Cargo.toml") && e.contains("line 1"),
        "{e}"
    );
}

#[test]
fn malformed_lockfile() {
    let lib = tempdir();
    copy_dir(&mock_dir().join("library"), &lib);
    std::fs::write(lib.join("Cargo.lock"), "[[package]\n").unwrap();
    let ven = mock_dir().join("vendor");
    let e = sysgen_fails(&mock_args(lib.to_str().unwrap(), ven.to_str().unwrap()));
    assert!(e.contains("malformed lockfile"), "{e}");
}

#[test]
fn graph_of_the_mock_workspace_succeeds() {
    // The same arguments without a mistake work, so the failures above are
    // about the mistakes and nothing else.
    let m = mock_dir();
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .args(mock_args(
            m.join("library").to_str().unwrap(),
            m.join("vendor").to_str().unwrap(),
        ))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["units"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["crate"] == "std")
    );
}

/// `sysgen ARGS` in `cwd` with the stand-in compiler and the mock library.
fn fake(cwd: &std::path::Path, args: &[&str]) -> std::process::Output {
    sysgen_fake(cwd, args)
}

#[test]
fn a_bad_panic_strategy_is_refused_whatever_crates_are_built() {
    let t = tempdir();
    let e = one_line_error(&fake(
        &t,
        &["graph", "--crates", "core", "--panic", "abrot"],
    ));
    assert!(e.contains("abrot") && e.contains("immediate-abort"), "{e}");
    std::fs::write(
        t.join("sysgen.toml"),
        "[dependencies]\ncore = {}\n\n[sysgen]\npanic = \"abrot\"\n",
    )
    .unwrap();
    let e = one_line_error(&fake(&t, &["graph"]));
    assert!(e.contains("sysgen.toml") && e.contains("line 5"), "{e}");
}

#[test]
fn crate_lists_with_empty_names() {
    let t = tempdir();
    let o = fake(&t, &["graph", "--crates", "core,"]);
    assert!(
        o.status.success(),
        "a trailing comma is harmless: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let e = one_line_error(&fake(&t, &["graph", "--crates", ","]));
    assert!(e.contains("--crates names no crate"), "{e}");
}

#[test]
fn a_lockfile_of_an_unknown_version_is_refused() {
    let lib = edited_library(|l| {
        let p = l.join("Cargo.lock");
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text.replacen("version = 4", "version = 99", 1)).unwrap();
    });
    let t = tempdir();
    let e = one_line_error(&sysgen_in(&t, &lib, &["graph"]));
    assert!(
        e.contains("Cargo.lock") && e.contains("version = 99"),
        "{e}"
    );
}

/// `sysgen ARGS` against `library` (the mock vendor dir), stand-in compiler.
fn sysgen_in(
    cwd: &std::path::Path,
    library: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .current_dir(cwd)
        .env("SYSGEN_CACHE_DIR", cwd.join(".cache"))
        .args(args)
        .arg("--rustc")
        .arg(fake_rustc_path())
        .arg("--rust-src")
        .arg(library)
        .arg("--vendor")
        .arg(mock_dir().join("vendor"))
        .output()
        .unwrap()
}

#[test]
fn a_dependency_cycle_is_named_before_anything_is_built() {
    let lib = edited_library(|l| {
        let p = l.join("core/Cargo.toml");
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str("\n[dependencies]\nalloc = { path = \"../alloc\" }\n");
        std::fs::write(&p, text).unwrap();
    });
    let t = tempdir();
    let e = one_line_error(&sysgen_in(
        &t,
        &lib,
        &["ninja", "--crates", "alloc", "-o", "out"],
    ));
    assert!(e.contains("alloc -> core -> alloc"), "{e}");
    assert!(!t.join("out").exists());
}

#[test]
fn rust_src_of_another_rust_version_is_refused() {
    let t = tempdir();
    let lib = toolchain_with_rust_src("1.97.0-nightly (0123456ab 2026-10-01)");
    let e = one_line_error(&sysgen_in(&t, &lib, &["graph"]));
    assert!(e.contains("1.97.0-nightly") && e.contains("1.95.0"), "{e}");
    // The same version (the stand-in compiler is 1.95.0) is accepted.
    let lib = toolchain_with_rust_src("1.95.0 (0123456ab 2026-04-14)");
    let o = sysgen_in(&t, &lib, &["graph"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A rust-lang/rust checkout says its version in src/version.
    let checkout = tempdir();
    copy_dir(&mock_dir().join("library"), &checkout.join("library"));
    std::fs::create_dir_all(checkout.join("src")).unwrap();
    std::fs::write(checkout.join("src/version"), "1.90.0\n").unwrap();
    let e = one_line_error(&sysgen_in(&t, &checkout.join("library"), &["graph"]));
    assert!(e.contains("1.90.0") && e.contains("src/version"), "{e}");
}

#[test]
fn binary_garbage_in_files_sysgen_reads_is_a_one_line_error_naming_the_file() {
    let garbage: &[u8] = b"\x00\xff\xfe binary \x80\x81";
    let lib = edited_library(|l| std::fs::write(l.join("Cargo.lock"), garbage).unwrap());
    let t = tempdir();
    let e = one_line_error(&sysgen_in(&t, &lib, &["graph"]));
    assert!(e.contains("Cargo.lock") && e.contains("not UTF-8"), "{e}");
    let spec = t.join("garbage.json");
    std::fs::write(&spec, garbage).unwrap();
    let e = one_line_error(&fake(&t, &["graph", "--target", spec.to_str().unwrap()]));
    assert!(e.contains("garbage.json"), "{e}");
    let e = one_line_error(&fake(&t, &["graph", "--config", spec.to_str().unwrap()]));
    assert!(e.contains("garbage.json"), "{e}");
}

#[test]
fn a_program_that_is_not_rustc_is_a_user_error() {
    let t = tempdir();
    let m = mock_dir();
    for not_rustc in ["/bin/true", "/bin/false", "/nonexistent/rustc"] {
        let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .current_dir(&t)
            .env("SYSGEN_CACHE_DIR", t.join(".cache"))
            .args(["graph", "--rustc", not_rustc, "--rust-src"])
            .arg(m.join("library"))
            .output()
            .unwrap();
        let e = one_line_error(&o);
        assert!(e.contains(not_rustc) && e.contains("--rustc"), "{e}");
    }
}

#[test]
fn corrupted_cache_entries_are_ignored_and_replaced() {
    let t = tempdir();
    assert!(fake(&t, &["graph"]).status.success());
    let cache = t.join(".cache");
    let mut n = 0;
    for e in std::fs::read_dir(&cache).unwrap() {
        let p = e.unwrap().path();
        // Keep the key line, ruin the value.
        let text = std::fs::read_to_string(&p).unwrap();
        let key = text.lines().next().unwrap().to_string();
        std::fs::write(&p, format!("{key}\n\u{0}garbage{{[\n")).unwrap();
        n += 1;
    }
    assert!(
        n >= 2,
        "the cache holds the compiler's and the target's answers"
    );
    for _ in 0..2 {
        let o = fake(&t, &["graph"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn a_control_character_in_a_path_from_a_file_stays_on_one_line() {
    // Found by tests/fast/fuzz.rs: a manifest's `path` with a newline in it.
    let lib = edited_library(|l| {
        let p = l.join("std/Cargo.toml");
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text.replace("../panic_unwind", "../pan\\nic_unwind")).unwrap();
    });
    let t = tempdir();
    let e = one_line_error(&sysgen_in(&t, &lib, &["graph"]));
    assert!(e.contains("pan\\nic_unwind"), "escaped: {e}");
}

/// A path that is not UTF-8 cannot be written into a build file or given to
/// rustc: wherever it comes from, it is one line naming it, exit 2, and
/// nothing is written. (Found by the hostile probe: `graph --format crates`
/// panicked, `ninja` said "internal error" without the path, a non-UTF-8
/// `--vendor` or `--config` gave build files holding U+FFFD.)
#[test]
fn non_utf8_paths_and_flags_are_one_line_errors_naming_them() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let t = tempdir();
    let bad = |name: &str| t.join(OsStr::from_bytes(&[name.as_bytes(), b"-\xff"].concat()));
    let (lib, vendor) = (bad("library"), bad("vendor"));
    copy_dir(&mock_dir().join("library"), &lib);
    copy_dir(&mock_dir().join("vendor"), &vendor);
    std::fs::write(bad("sysgen.toml"), "[dependencies]\ncore = {}\n").unwrap();
    let run = |args: &[&OsStr], env: Option<(&str, &OsStr)>| {
        let mut c = sysgen_cmd(&t);
        c.args(args).arg("--rustc").arg(fake_rustc_path());
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let good_lib = mock_dir().join("library");
    let good_vendor = mock_dir().join("vendor");
    let s = |x: &'static str| OsStr::new(x);
    // (arguments, an environment variable, what the error names)
    type Case<'a> = (Vec<&'a OsStr>, Option<(&'a str, &'a OsStr)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![
                s("graph"),
                s("--format"),
                s("crates"),
                s("--rust-src"),
                lib.as_os_str(),
                s("--vendor"),
                good_vendor.as_os_str(),
            ],
            None,
            "rust-src's library directory",
        ),
        (
            vec![
                s("ninja"),
                s("-o"),
                s("out"),
                s("--rust-src"),
                good_lib.as_os_str(),
                s("--vendor"),
                vendor.as_os_str(),
            ],
            None,
            "the vendor directory",
        ),
        (
            vec![
                s("ninja"),
                s("-o"),
                s("out"),
                s("--rust-src"),
                good_lib.as_os_str(),
                s("--vendor"),
                good_vendor.as_os_str(),
                s("--config"),
                bad("sysgen.toml").into_os_string().leak(),
            ],
            None,
            "the config",
        ),
        (
            vec![
                s("ninja"),
                s("-o"),
                s("out"),
                s("--rust-src"),
                good_lib.as_os_str(),
                s("--vendor"),
                good_vendor.as_os_str(),
            ],
            Some(("RUSTFLAGS", OsStr::from_bytes(b"-Cfoo=\xff"))),
            "RUSTFLAGS is not valid UTF-8",
        ),
        (
            vec![
                s("ninja"),
                s("-o"),
                s("out"),
                s("--rust-src"),
                good_lib.as_os_str(),
                s("--vendor"),
                good_vendor.as_os_str(),
            ],
            Some(("CARGO_ENCODED_RUSTFLAGS", OsStr::from_bytes(b"-Cfoo=\xff"))),
            "CARGO_ENCODED_RUSTFLAGS is not valid UTF-8",
        ),
    ];
    for (args, env, names) in cases {
        let o = run(&args, env);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let e = one_line_error(&o);
        assert!(e.contains(names), "{args:?}: {e}");
        assert!(!t.join("out").exists(), "{args:?} wrote out/");
    }
}

/// A rustflag may hold any Unicode character but NUL, LF and CR, whatever
/// its source; one that holds a line break is refused with one line naming
/// the source, and nothing is written. (Found by the hostile probe: with
/// `CARGO_ENCODED_RUSTFLAGS=$'-Ca=x\n  cmd = touch /tmp/pwned #'`, the
/// flag became Ninja statements that ran a command; the same through
/// sysgen.toml and `.cargo/config.toml`.)
#[test]
fn a_rustflag_with_a_line_break_is_refused_wherever_it_comes_from() {
    let injected = "-Ca=x\n  cmd = touch pwned #";
    let t = tempdir();
    let o = sysgen_cmd(&t)
        .env("CARGO_ENCODED_RUSTFLAGS", injected)
        .args(["ninja", "--no-config", "--crates", "core", "-o", "out"])
        .args(mock_toolchain(&mock_dir().join("library")))
        .output()
        .unwrap();
    let e = one_line_error(&o);
    assert!(e.contains("CARGO_ENCODED_RUSTFLAGS: the rustflag"), "{e}");
    assert!(!t.join("out").exists() && !t.join("pwned").exists());

    let e = one_line_error(&sysgen_fake(
        &t,
        &[
            "ninja",
            "--no-config",
            "--crates",
            "core",
            "--rustflag",
            injected,
            "-o",
            "out",
        ],
    ));
    assert!(e.contains("--rustflag: the rustflag"), "{e}");

    let toml_string = injected.replace('\n', "\\n");
    std::fs::write(
        t.join("sysgen.toml"),
        format!("[dependencies]\ncore = {{}}\n\n[sysgen]\nrustflags = [\"{toml_string}\"]\n"),
    )
    .unwrap();
    let e = one_line_error(&sysgen_fake(&t, &["ninja", "-o", "out"]));
    assert!(
        e.contains("sysgen.toml: [sysgen] rustflags: the rustflag"),
        "{e}"
    );

    std::fs::write(t.join("sysgen.toml"), "[dependencies]\ncore = {}\n").unwrap();
    std::fs::create_dir_all(t.join(".cargo")).unwrap();
    std::fs::write(
        t.join(".cargo/config.toml"),
        format!("[build]\nrustflags = [\"{toml_string}\"]\n"),
    )
    .unwrap();
    let e = one_line_error(&sysgen_fake(&t, &["ninja", "-o", "out"]));
    assert!(
        e.contains("config.toml: `build.rustflags`: the rustflag"),
        "{e}"
    );
    assert!(!t.join("out").exists() && !t.join("pwned").exists());

    // A path with a line break is refused the same way.
    std::fs::remove_dir_all(t.join(".cargo")).unwrap();
    let lib = t.join("lib\nrary");
    copy_dir(&mock_dir().join("library"), &lib);
    let o = sysgen_cmd(&t)
        .args(["ninja", "--no-config", "--crates", "core", "-o", "out"])
        .args(mock_toolchain(&lib))
        .output()
        .unwrap();
    let e = one_line_error(&o);
    assert!(e.contains("holds a line break"), "{e}");
    assert!(!t.join("out").exists());
}

#[test]
fn a_build_with_no_jobs_is_refused() {
    let e = sysgen_fails(&["build", "-j", "0"]);
    assert!(e.contains("--jobs"), "{e}");
    let e = sysgen_fails(&["build", "-j", "many"]);
    assert!(e.contains("--jobs"), "{e}");
}
