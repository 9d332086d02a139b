//! Cargo's rerun rules, for a Ninja build and for the store's keys alike:
//! `rerun-if-env-changed=VAR` makes VAR's value an input of the script's
//! run; a script that prints no `rerun-if` line depends on every file of
//! its package; a `rerun-if-changed` directory stands for every file below
//! it; a rustflag `@file` is refused. (Found by the hostile probe: with
//! `MYVAR=1`, then `MYVAR=2`, `sysgen cargo build` said "reusing" with the
//! old value compiled in and `ninja` had no work; an edited file a script
//! read without `rerun-if` lines, and a changed `RUSTFLAGS=@file`, were
//! reused too.)
//!
//! The build script is compiler_builtins' in a copy of the mock library;
//! the stand-in rustc makes it run the `//! fake-script:` lines of its
//! source, which log each run and pass what they read on as a cfg.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

const TARGET: &str = "thumbv6m-none-eabi";

/// A copy of the mock library whose compiler_builtins build script runs
/// `script` (shell lines), logging each run to `<library>/runs`.
fn library_with_script(script: &[&str]) -> PathBuf {
    let lib = tempdir().join("library");
    copy_dir(&mock_dir().join("library"), &lib);
    let log = lib.join("runs");
    let mut text = format!("//! fake-script: echo run >> '{}'\n", log.display());
    for l in script {
        text.push_str(&format!("//! fake-script: {l}\n"));
    }
    text.push_str("fn main() {}\n");
    write(&lib.join("compiler-builtins/build.rs"), &text);
    lib
}

fn runs(lib: &Path) -> usize {
    std::fs::read_to_string(lib.join("runs"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// The cfgs the script gave compiler_builtins in the build in `out`.
fn script_args(out: &Path) -> String {
    let mut found = Vec::new();
    for f in files_below(&out.join("build")) {
        if f.file_name().is_some_and(|n| n == "args")
            && f.to_string_lossy().contains("compiler_builtins")
        {
            found.push(std::fs::read_to_string(out.join("build").join(f)).unwrap());
        }
    }
    assert_eq!(found.len(), 1, "one run of the script: {found:?}");
    found.remove(0)
}

fn ninja_in(out: &Path, env: &[(&str, &str)]) -> String {
    let mut c = Command::new("ninja");
    c.arg("-C").arg(out).env_remove("MYVAR");
    for (k, v) in env {
        c.env(k, v);
    }
    run_ok(&mut c)
}

/// `sysgen EMITTER` of core for the target, from `lib`, into `t/out`.
fn generate_with(emitter: &str, lib: &Path, t: &Path) -> PathBuf {
    let out = t.join("out");
    let o = sysgen_cmd(t)
        .args([
            emitter,
            "--no-config",
            "--crates",
            "core",
            "--target",
            TARGET,
            "-o",
        ])
        .arg(&out)
        .args(mock_toolchain(lib))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn generate(lib: &Path, t: &Path) -> PathBuf {
    generate_with("ninja", lib, t)
}

#[test]
fn a_variable_a_script_said_it_reads_reruns_it_under_ninja() {
    let lib = library_with_script(&[
        "echo cargo:rerun-if-changed=build.rs",
        "echo cargo:rerun-if-env-changed=MYVAR",
        "echo \"cargo:rustc-cfg=myvar=\\\"${MYVAR-unset}\\\"\"",
    ]);
    let t = tempdir();
    let out = generate(&lib, &t);
    ninja_in(&out, &[("MYVAR", "1")]);
    assert_eq!(runs(&lib), 1);
    assert!(script_args(&out).contains("myvar=\"1\""));
    // The first build taught the build file the variable: it regenerates
    // itself and checks it from now on, without running the script.
    ninja_in(&out, &[("MYVAR", "1")]);
    let again = ninja_in(&out, &[("MYVAR", "1")]);
    assert_eq!(runs(&lib), 1, "{again}");
    assert!(!again.contains("RUSTC"), "{again}");
    // A new value runs it again, and compiles what it configures.
    let changed = ninja_in(&out, &[("MYVAR", "2")]);
    assert_eq!(runs(&lib), 2, "{changed}");
    assert!(script_args(&out).contains("myvar=\"2\""));
    assert!(changed.contains("RUSTC"), "{changed}");
    // Unset is a value too.
    ninja_in(&out, &[]);
    assert_eq!(runs(&lib), 3);
    assert!(script_args(&out).contains("myvar=\"unset\""));
    // A variable the script never named changes nothing.
    ninja_in(&out, &[("OTHER", "x")]);
    assert_eq!(runs(&lib), 3);
}

#[test]
fn a_script_without_rerun_lines_depends_on_every_file_of_its_package() {
    let lib = library_with_script(&["echo \"cargo:rustc-cfg=data=\\\"$(cat data.txt)\\\"\""]);
    write(&lib.join("compiler-builtins/data.txt"), "one");
    let t = tempdir();
    let out = generate(&lib, &t);
    ninja_in(&out, &[]);
    assert_eq!(runs(&lib), 1);
    ninja_in(&out, &[]);
    assert_eq!(runs(&lib), 1, "nothing changed");
    write(&lib.join("compiler-builtins/data.txt"), "two");
    ninja_in(&out, &[]);
    assert_eq!(runs(&lib), 2);
    assert!(script_args(&out).contains("data=\"two\""));
}

#[test]
fn a_rerun_if_changed_directory_stands_for_every_file_below_it() {
    let lib = library_with_script(&["echo cargo:rerun-if-changed=conf"]);
    write(&lib.join("compiler-builtins/conf/deep/a.txt"), "one");
    let t = tempdir();
    let out = generate(&lib, &t);
    ninja_in(&out, &[]);
    ninja_in(&out, &[]);
    assert_eq!(runs(&lib), 1);
    // Same size, the directory's own time unchanged: only the file moved.
    write(&lib.join("compiler-builtins/conf/deep/a.txt"), "two");
    ninja_in(&out, &[]);
    assert_eq!(runs(&lib), 2);
}

/// `sysgen cargo build` with the store in `cache` and the given library.
fn cargo_build(project: &Path, cache: &Path, lib: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = sysgen_cargo(project, cache, lib);
    c.env_remove("MYVAR").args(["build", "--target", TARGET]);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn said(o: &Output) -> String {
    let e = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{e}");
    e
}

#[test]
fn the_store_keys_a_sysroot_by_the_variables_and_files_its_scripts_read() {
    let lib = library_with_script(&[
        "echo cargo:rerun-if-env-changed=MYVAR",
        "echo \"cargo:rustc-cfg=myvar=\\\"${MYVAR-unset}\\\"\"",
    ]);
    let cache = tempdir();
    let p = project(&[("Xargo.toml", "[dependencies.core]\n")]);
    let build = |env: &[(&str, &str)]| said(&cargo_build(&p, &cache, &lib, env));
    assert!(build(&[("MYVAR", "1")]).contains("built sysroot"));
    assert!(build(&[("MYVAR", "1")]).contains("reusing sysroot"));
    assert!(build(&[("MYVAR", "2")]).contains("built sysroot"));
    assert_eq!(runs(&lib), 2);
    // Both values are kept: switching back rebuilds nothing.
    assert!(build(&[("MYVAR", "1")]).contains("reusing sysroot"));
    assert!(build(&[("MYVAR", "2")]).contains("reusing sysroot"));
    assert_eq!(runs(&lib), 2);

    // Without rerun lines, every file of the package is in the key.
    let lib = library_with_script(&["echo \"cargo:rustc-cfg=data=\\\"$(cat data.txt)\\\"\""]);
    write(&lib.join("compiler-builtins/data.txt"), "one");
    let cache = tempdir();
    let build = || said(&cargo_build(&p, &cache, &lib, &[]));
    assert!(build().contains("built sysroot"));
    assert!(build().contains("reusing sysroot"));
    write(&lib.join("compiler-builtins/data.txt"), "two");
    assert!(build().contains("built sysroot"));
}

/// rustc reads the arguments of `@file` itself: sysgen could not see the
/// file change, so such a flag is refused, under every command.
#[test]
fn a_rustflag_naming_an_argument_file_is_refused() {
    let t = tempdir();
    write(&t.join("flags.txt"), "-Copt-level=1\n");
    let o = sysgen_cmd(&t)
        .env("RUSTFLAGS", "@flags.txt")
        .args(["ninja", "--no-config", "--crates", "core", "-o", "out"])
        .args(mock_toolchain(&mock_dir().join("library")))
        .output()
        .unwrap();
    let e = one_line_error(&o);
    assert!(e.contains("RUSTFLAGS") && e.contains("@flags.txt"), "{e}");
    assert!(!t.join("out").exists());
    let p = project(&[("Xargo.toml", "[dependencies.core]\n")]);
    let mut c = sysgen_cargo(&p, &tempdir(), &mock_dir().join("library"));
    c.env("RUSTFLAGS", format!("@{}", t.join("flags.txt").display()))
        .args(["build", "--target", TARGET]);
    let e = one_line_error(&c.output().unwrap());
    assert!(e.contains("flags.txt"), "{e}");
    assert!(!p.join("cargo.log").exists(), "cargo ran");
}

/// rustc's dep-info names the variables `env!`/`option_env!` read
/// (`# env-dep:VAR=value`): a changed value recompiles the crate, as under
/// cargo; the variables the build sets itself (`CARGO_*`) are not tracked.
#[test]
fn a_variable_a_crate_reads_with_env_recompiles_it_under_ninja() {
    let lib = tempdir().join("library");
    copy_dir(&mock_dir().join("library"), &lib);
    let core = lib.join("core/src/lib.rs");
    let text = std::fs::read_to_string(&core).unwrap();
    write(
        &core,
        &format!("//! fake-env-dep: MYDEP\n//! fake-env-dep: CARGO_PKG_NAME\n{text}"),
    );
    let t = tempdir();
    let out = generate(&lib, &t);
    let build = |env: &[(&str, &str)]| planned_work(&ninja_in(&out, env));
    let first = build(&[("MYDEP", "1")]);
    assert!(first.iter().any(|l| l.contains("RUSTC core")), "{first:#?}");
    assert!(out.join(".sysgen/env/MYDEP").is_file());
    assert!(!out.join(".sysgen/env/CARGO_PKG_NAME").exists());
    build(&[("MYDEP", "1")]);
    assert_eq!(build(&[("MYDEP", "1")]), Vec::<String>::new(), "a no-op");
    let changed = build(&[("MYDEP", "2")]);
    assert!(
        changed.iter().any(|l| l.contains("RUSTC core")),
        "{changed:#?}"
    );
    assert_eq!(build(&[("MYDEP", "2")]), Vec::<String>::new(), "a no-op");
}

/// The same rules under the Make fragment: a changed variable or a file of
/// a package whose script printed no `rerun-if` line reruns the script.
#[test]
fn the_make_fragment_reruns_scripts_by_the_same_rules() {
    let lib = library_with_script(&[
        "echo cargo:rerun-if-env-changed=MYVAR",
        "echo cargo:rerun-if-changed=build.rs",
        "echo \"cargo:rustc-cfg=myvar=\\\"${MYVAR-unset}\\\"\"",
    ]);
    let t = tempdir();
    let out = generate_with("make", &lib, &t);
    let make = |env: &[(&str, &str)]| {
        let mut c = Command::new("make");
        c.arg("-C")
            .arg(&out)
            .env_remove("MYVAR")
            .env_remove("MAKEFLAGS")
            .env_remove("MFLAGS");
        for (k, v) in env {
            c.env(k, v);
        }
        run_ok(&mut c)
    };
    make(&[("MYVAR", "1")]);
    make(&[("MYVAR", "1")]);
    assert_eq!(runs(&lib), 1);
    make(&[("MYVAR", "2")]);
    assert_eq!(runs(&lib), 2);
    assert!(script_args(&out).contains("myvar=\"2\""));
    make(&[("MYVAR", "2")]);
    make(&[]);
    assert_eq!(runs(&lib), 3);
    assert!(script_args(&out).contains("myvar=\"unset\""));
    make(&[]);
    assert_eq!(runs(&lib), 3);
}

#[test]
fn any_variable_name_cargo_accepts_gets_a_bounded_stamp() {
    // An empty name, a long one, one of slashes: cargo accepts them all.
    let long = "V".repeat(300);
    let slashes = "/".repeat(90);
    let lib = library_with_script(&[
        "echo cargo:rerun-if-env-changed=",
        &format!("echo cargo:rerun-if-env-changed={long}"),
        &format!("echo cargo:rerun-if-env-changed={slashes}"),
    ]);
    let t = tempdir();
    let out = generate(&lib, &t);
    ninja_in(&out, &[]);
    ninja_in(&out, &[]);
    assert_eq!(runs(&lib), 1, "checked, not rerun");
    for f in std::fs::read_dir(out.join(".sysgen/env")).unwrap() {
        let name = f.unwrap().file_name();
        assert!(!name.is_empty() && name.len() <= 128, "{name:?}");
    }
    // The long one is still a variable like any other.
    let o = std::process::Command::new("ninja")
        .arg("-C")
        .arg(&out)
        .env(&long, "set now")
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(runs(&lib), 2);
}

#[test]
fn a_variable_a_script_no_longer_names_is_no_longer_checked() {
    let lib = library_with_script(&["echo cargo:rerun-if-env-changed=FIRSTVAR"]);
    let t = tempdir();
    let out = generate(&lib, &t);
    ninja_in(&out, &[]);
    ninja_in(&out, &[]);
    assert!(out.join(".sysgen/env/FIRSTVAR").exists());
    // The script now names another variable.
    let script = lib.join("compiler-builtins/build.rs");
    let text = std::fs::read_to_string(&script).unwrap();
    write(&script, &text.replace("FIRSTVAR", "SECONDVAR"));
    ninja_in(&out, &[]);
    ninja_in(&out, &[]);
    assert!(
        !out.join(".sysgen/env/FIRSTVAR").exists(),
        "its stamp is gone"
    );
    let build = std::fs::read_to_string(out.join("build.ninja")).unwrap();
    assert!(build.contains("SECONDVAR") && !build.contains("FIRSTVAR"));
    // And its value changes nothing any more.
    let before = runs(&lib);
    ninja_in(&out, &[("FIRSTVAR", "x")]);
    assert_eq!(runs(&lib), before);
}

#[test]
fn a_device_named_by_rerun_if_changed_is_never_read() {
    // cargo only stats such a path; reading /dev/zero never ends.
    let lib = library_with_script(&["echo cargo:rerun-if-changed=/dev/zero"]);
    let cache = tempdir();
    let p = project(&[("Xargo.toml", "[dependencies.core]\n")]);
    let start = std::time::Instant::now();
    assert!(said(&cargo_build(&p, &cache, &lib, &[])).contains("built sysroot"));
    assert!(said(&cargo_build(&p, &cache, &lib, &[])).contains("reusing sysroot"));
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
}
