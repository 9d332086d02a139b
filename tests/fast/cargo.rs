//! `sysgen cargo`: Xargo's one command, and the sysroot store it keeps.
//!
//! The fast tests run the mock library with the stand-in compiler and a
//! stand-in cargo (`tests/fake-toolchain/bin/cargo`, which records what
//! sysgen passes it). The real ones build with rust-src and the real cargo:
//! a no_std crate for Cortex-M0 from an Xargo.toml, a custom JSON target,
//! a panic=abort program for the host, and a real crate's own test suite.

use std::path::{Path, PathBuf};

use std::process::{Command, Output};

use crate::support::*;

/// `sysgen cargo ARGS` in `project` with the mock library, the stand-in
/// rustc and cargo, and the store in `store`.
fn fake_cmd(project: &Path, store: &Path, args: &[&str]) -> Command {
    let mut c = sysgen_cargo(project, store, &mock_dir().join("library"));
    c.env("FAKE_RUSTC_LOG", store.join("rustc.log")).args(args);
    c
}

fn fake(project: &Path, store: &Path, args: &[&str]) -> Output {
    fake_cmd(project, store, args).output().unwrap()
}

fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    err
}

/// What the stand-in cargo was run with: `args`, and NAME → value.
fn cargo_log(project: &Path) -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(project.join("cargo.log")).expect("cargo ran");
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The crates the stand-in rustc compiled so far for this store.
fn compiled(store: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_to_string(store.join("rustc.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// The sysroot in the flags sysgen gave cargo.
fn sysroot_flag(project: &Path) -> String {
    let log = cargo_log(project);
    let flags = &log["CARGO_ENCODED_RUSTFLAGS"];
    flags
        .split(' ')
        .find_map(|f| f.strip_prefix("--sysroot="))
        .unwrap_or_else(|| panic!("no --sysroot in {flags}"))
        .to_string()
}

fn published(store: &Path) -> Vec<String> {
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .env("SYSGEN_CACHE_DIR", store)
        .args(["cache", "list"])
        .output()
        .unwrap();
    assert!(o.status.success());
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .skip(1)
        .filter(|l| !l.contains(" sysroots, "))
        .map(str::to_string)
        .collect()
}

#[test]
fn without_a_target_or_for_commands_that_compile_nothing_cargo_runs_as_is() {
    let p = project(&[]);
    let store = tempdir();
    for args in [
        &["build", "--release"][..],
        &["metadata", "--target", "thumbv6m-none-eabi"],
        &["new", "x"],
    ] {
        ok(&fake(&p, &store, args));
        let log = cargo_log(&p);
        assert_eq!(log["args"], args.join(" "));
        assert!(!log.contains_key("CARGO_ENCODED_RUSTFLAGS"), "{log:?}");
    }
    assert!(published(&store).is_empty());
    // cargo's exit status is sysgen's.
    let o = fake_cmd(&p, &store, &["build"])
        .env("FAKE_CARGO_EXIT", "3")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn a_second_project_with_the_same_configuration_reuses_the_sysroot() {
    let store = tempdir();
    let xargo = ("Xargo.toml", "[dependencies.alloc]\n");
    let a = project(&[xargo]);
    let err = ok(&fake(
        &a,
        &store,
        &["build", "--target", "thumbv6m-none-eabi"],
    ));
    assert!(
        err.contains("built sysroot for thumbv6m-none-eabi"),
        "{err}"
    );
    let first = compiled(&store);
    assert!(first.contains(&"alloc".to_string()), "{first:?}");
    let sysroot = sysroot_flag(&a);
    assert!(
        Path::new(&sysroot)
            .join("lib/rustlib/thumbv6m-none-eabi/lib/liballoc.rlib")
            .is_file()
    );
    assert_eq!(cargo_log(&a)["args"], "build --target thumbv6m-none-eabi");

    // Another project, same configuration: nothing compiled, same sysroot.
    let b = project(&[xargo]);
    let err = ok(&fake(
        &b,
        &store,
        &["build", "--target", "thumbv6m-none-eabi"],
    ));
    assert!(err.contains("reusing sysroot"), "{err}");
    assert_eq!(compiled(&store), first, "no rustc ran for the sysroot");
    assert_eq!(sysroot_flag(&b), sysroot);

    // A changed feature is another sysroot, beside the first.
    let c = project(&[(
        "Xargo.toml",
        "[dependencies.alloc]\nfeatures = [\"optimize_for_size\"]\n",
    )]);
    let err = ok(&fake(
        &c,
        &store,
        &["build", "--target", "thumbv6m-none-eabi"],
    ));
    assert!(err.contains("built sysroot"), "{err}");
    assert_ne!(sysroot_flag(&c), sysroot);
    assert_eq!(published(&store).len(), 2, "{:?}", published(&store));
    // And the first is still there for the first project.
    let err = ok(&fake(
        &a,
        &store,
        &["build", "--target", "thumbv6m-none-eabi"],
    ));
    assert!(err.contains("reusing sysroot"), "{err}");
}

#[test]
fn an_edited_source_is_a_new_variant_and_rebuilds_only_what_read_it() {
    let store = tempdir();
    let lib = tempdir().join("library");
    copy_dir(&mock_dir().join("library"), &lib);
    let p = project(&[("Xargo.toml", "[dependencies.alloc]\n")]);
    let run = || {
        fake_cmd(&p, &store, &["build", "--target", "thumbv6m-none-eabi"])
            .env("SYSGEN_RUST_SRC", &lib)
            .output()
            .unwrap()
    };
    ok(&run());
    let first = sysroot_flag(&p);
    let before = compiled(&store).len();
    // Same size, same mtime after the edit: the change time still shows it.
    let f = lib.join("alloc/src/lib.rs");
    let text = std::fs::read_to_string(&f).unwrap();
    let mtime = std::fs::metadata(&f).unwrap().modified().unwrap();
    std::fs::write(&f, text.replace("no_std", "no_sTd")).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let err = ok(&run());
    assert!(err.contains("built sysroot"), "{err}");
    assert_ne!(sysroot_flag(&p), first);
    let after = compiled(&store);
    assert_eq!(after.len(), before + 1, "only alloc again: {after:?}");
    assert_eq!(published(&store).len(), 2);
    // Back to the old contents: the old variant again, nothing compiled.
    std::fs::write(&f, &text).unwrap();
    let err = ok(&run());
    assert!(err.contains("reusing sysroot"), "{err}");
    assert_eq!(sysroot_flag(&p), first);
}

#[test]
fn flags_reach_cargo_as_cargo_would_have_read_them_plus_the_sysroot() {
    let store = tempdir();
    let p = project(&[(
        ".cargo/config.toml",
        "[build]\nrustflags = [\"--cfg\", \"from_config\"]\nrustdocflags = [\"--cfg\", \"doc_config\"]\ntarget = \"thumbv6m-none-eabi\"\n",
    )]);
    // The target comes from build.target; the config's flags are kept.
    ok(&fake(&p, &store, &["build"]));
    let log = cargo_log(&p);
    let sysroot = sysroot_flag(&p);
    assert_eq!(
        log["CARGO_ENCODED_RUSTFLAGS"],
        format!("--cfg from_config --sysroot={sysroot}")
    );
    assert_eq!(
        log["CARGO_ENCODED_RUSTDOCFLAGS"],
        format!("--cfg doc_config --sysroot={sysroot}")
    );
    assert_eq!(log.get("RUSTFLAGS"), None, "{log:?}");
    assert!(sysroot.contains(store.to_str().unwrap()));
    // RUSTFLAGS replaces the config's flags, for cargo and for the sysroot
    // (another sysroot).
    let o = fake_cmd(&p, &store, &["build"])
        .env("RUSTFLAGS", "-Copt-level=s")
        .output()
        .unwrap();
    ok(&o);
    let log = cargo_log(&p);
    let other = sysroot_flag(&p);
    assert_ne!(other, sysroot);
    assert_eq!(
        log["CARGO_ENCODED_RUSTFLAGS"],
        format!("-Copt-level=s --sysroot={other}")
    );
    // CARGO_BUILD_TARGET wins over build.target; --target over both.
    let o = fake_cmd(&p, &store, &["check"])
        .env("CARGO_BUILD_TARGET", "x86_64-unknown-linux-gnu")
        .output()
        .unwrap();
    assert!(ok(&o).contains("sysroot for x86_64-unknown-linux-gnu"));
    let o = fake_cmd(&p, &store, &["check", "--target=thumbv6m-none-eabi"])
        .env("CARGO_BUILD_TARGET", "x86_64-unknown-linux-gnu")
        .output()
        .unwrap();
    assert!(ok(&o).contains("sysroot for thumbv6m-none-eabi"));
}

#[test]
fn test_adds_the_test_crate_with_unwinding_and_check_makes_a_metadata_sysroot() {
    let store = tempdir();
    let p = project(&[]);
    std::fs::write(
        p.join("Cargo.toml"),
        "[package]\nname = \"p\"\nversion = \"0.1.0\"\n\n[workspace]\n\n[profile.dev]\npanic = \"abort\"\n",
    )
    .unwrap();
    let status = |err: &str| {
        err.lines()
            .find(|l| l.starts_with("sysgen: built"))
            .unwrap_or_default()
            .to_string()
    };
    let err = ok(&fake(
        &p,
        &store,
        &["test", "--target", "x86_64-unknown-linux-gnu"],
    ));
    let line = status(&err);
    assert!(
        line.contains("panic_unwind") && line.contains(", test"),
        "{err}"
    );
    assert!(!line.contains("panic=abort"), "tests unwind: {line}");
    // A build follows the dev profile's panic = "abort".
    let err = ok(&fake(
        &p,
        &store,
        &["build", "--target", "x86_64-unknown-linux-gnu"],
    ));
    let line = status(&err);
    assert!(
        line.contains("panic=abort") && !line.contains(", test"),
        "{line}"
    );
    let err = ok(&fake(
        &p,
        &store,
        &["check", "--target", "x86_64-unknown-linux-gnu"],
    ));
    let sysroot = PathBuf::from(sysroot_flag(&p));
    let lib = sysroot.join("lib/rustlib/x86_64-unknown-linux-gnu/lib");
    assert!(lib.join("libstd.rmeta").is_file(), "{err}");
    assert!(!lib.join("libstd.rlib").exists());
    let list = published(&store).join("\n");
    assert!(list.contains("(check)"), "{list}");
}

#[test]
fn a_broken_xargo_toml_stops_before_cargo_runs() {
    let store = tempdir();
    let p = project(&[("Xargo.toml", "[dependencies.alloc\n")]);
    let e = one_line_error(&fake(
        &p,
        &store,
        &["build", "--target", "thumbv6m-none-eabi"],
    ));
    assert!(e.contains("Xargo.toml"), "{e}");
    assert!(!p.join("cargo.log").exists(), "cargo did not run");
    let p = project(&[("Xargo.toml", "[dependencies.nonesuch]\n")]);
    let e = one_line_error(&fake(
        &p,
        &store,
        &["build", "--target", "thumbv6m-none-eabi"],
    ));
    assert!(e.contains("nonesuch"), "{e}");
    assert!(!p.join("cargo.log").exists());
}

#[test]
fn concurrent_builds_of_one_sysroot_build_it_once() {
    let store = tempdir();
    let go = store.join("go");
    let a = project(&[("Xargo.toml", "[dependencies.alloc]\n")]);
    let b = project(&[("Xargo.toml", "[dependencies.alloc]\n")]);
    let spawn = |p: &Path| {
        fake_cmd(p, &store, &["build", "--target", "thumbv6m-none-eabi"])
            .env("FAKE_RUSTC_GO", &go)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let first = spawn(&a);
    wait_until("the first build compiles", || !compiled(&store).is_empty());
    let second = spawn(&b);
    std::thread::sleep(std::time::Duration::from_millis(300));
    std::fs::write(&go, "").unwrap();
    let (o1, o2) = (
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    );
    let e1 = ok(&o1);
    let e2 = ok(&o2);
    assert!(e1.contains("built sysroot"), "{e1}");
    assert!(
        e2.contains("waiting for another sysgen") && e2.contains("reusing sysroot"),
        "{e2}"
    );
    let crates = compiled(&store);
    let mut unique = crates.clone();
    unique.dedup();
    assert_eq!(crates, unique, "each crate compiled once");
    assert_eq!(sysroot_flag(&a), sysroot_flag(&b));
}

#[test]
fn an_interrupted_build_publishes_nothing_and_the_next_one_finishes_it() {
    let store = tempdir();
    let go = store.join("go");
    let p = project(&[("Xargo.toml", "[dependencies.alloc]\n")]);
    let mut child = fake_cmd(&p, &store, &["build", "--target", "thumbv6m-none-eabi"])
        .env("FAKE_RUSTC_GO", &go)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("a compile starts", || !compiled(&store).is_empty());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(published(&store).is_empty());
    assert!(!p.join("cargo.log").exists());
    std::fs::write(&go, "").unwrap();
    let err = ok(&fake(
        &p,
        &store,
        &["build", "--target", "thumbv6m-none-eabi"],
    ));
    assert!(err.contains("built sysroot"), "{err}");
    assert_eq!(published(&store).len(), 1);
}

#[test]
fn cache_clean_removes_what_is_old_and_unused_and_never_what_is_in_use() {
    let store = tempdir();
    let p = project(&[("Xargo.toml", "[dependencies.alloc]\n")]);
    ok(&fake(
        &p,
        &store,
        &["build", "--target", "thumbv6m-none-eabi"],
    ));
    let sysroot = PathBuf::from(sysroot_flag(&p));
    let entry = sysroot.parent().unwrap().to_path_buf();
    let clean = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .env("SYSGEN_CACHE_DIR", &store)
            .args(["cache", "clean"])
            .args(args)
            .output()
            .unwrap();
        ok(&o)
    };
    // Used just now: kept by --older-than.
    clean(&["--older-than", "1d"]);
    assert!(sysroot.is_dir());
    // Held by a running `sysgen cargo`: kept.
    let held = std::fs::File::open(entry.join("lock")).unwrap();
    held.lock_shared().unwrap();
    let err = clean(&[]);
    assert!(err.contains("in use") && sysroot.is_dir(), "{err}");
    assert!(
        err.contains("removed 1 entries"),
        "its build directory: {err}"
    );
    drop(held);
    let err = clean(&[]);
    assert!(err.contains("removed 1 entries"), "{err}");
    assert!(!sysroot.exists());
    assert!(published(&store).is_empty());
    let e = one_line_error(
        &Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .env("SYSGEN_CACHE_DIR", &store)
            .args(["cache", "clean", "--older-than", "soon"])
            .output()
            .unwrap(),
    );
    assert!(e.contains("30d"), "{e}");
}

#[test]
fn rustc_wrapper_runs_every_sysroot_compile_as_cargo_would() {
    let store = tempdir();
    let wrapper = store.join("wrap.sh");
    executable(
        &wrapper,
        &format!(
            "#!/bin/sh\necho \"$1\" >> {}\nexec \"$@\"\n",
            store.join("wrapped.log").display()
        ),
    );
    let p = project(&[]);
    let o = fake_cmd(&p, &store, &["build", "--target", "thumbv6m-none-eabi"])
        .env("RUSTC_WRAPPER", &wrapper)
        .output()
        .unwrap();
    ok(&o);
    let wrapped = std::fs::read_to_string(store.join("wrapped.log")).unwrap();
    let calls = wrapped.lines().count();
    assert_eq!(calls, compiled(&store).len(), "{wrapped}");
    assert!(wrapped.lines().all(|l| l.ends_with("/rustc")), "{wrapped}");
}

/// `sysgen cargo +toolchain …` (rustup's spelling): that toolchain's cargo
/// runs (what `rustup which --toolchain` names, with RUSTUP_TOOLCHAIN set,
/// as rustup's proxy does), and its rustc builds the sysroot unless RUSTC
/// is set, as cargo would use them. (Found: `+nightly` ran cargo with no sysroot and no
/// message.) The real toolchain is tested in `tests/real/cargo.rs`.
#[test]
fn a_plus_toolchain_selects_the_compiler_of_that_toolchain() {
    let t = tempdir();
    let bin = t.join("bin");
    executable(
        &bin.join("rustup"),
        &format!(
            "#!/bin/sh\necho \"$*\" >> \"$0.log\"\n[ \"$1 $2\" = 'which --toolchain=second' ] && {{ echo '{}'/$3; exit 0; }}\necho \"error: toolchain '${{2#--toolchain=}}' is not installed\" >&2\nexit 1\n",
            fake_rustc_path().parent().unwrap().display()
        ),
    );
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let p = project(&[("Xargo.toml", "[dependencies.core]\n")]);
    let run = |toolchain: &str, rustc: Option<&str>| {
        let mut c = fake_cmd(
            &p,
            &t.join("store"),
            &[toolchain, "build", "--target", "thumbv6m-none-eabi"],
        );
        c.env("PATH", &path).env_remove("RUSTC");
        if let Some(r) = rustc {
            c.env("RUSTC", r);
        }
        c.output().unwrap()
    };
    let err = ok(&run("+second", None));
    assert!(
        err.contains("built sysroot for thumbv6m-none-eabi"),
        "{err}"
    );
    let log = cargo_log(&p);
    assert_eq!(log["args"], "build --target thumbv6m-none-eabi");
    assert_eq!(log["RUSTUP_TOOLCHAIN"], "second");
    // RUSTC wins, as in cargo: rustup is asked for cargo only.
    std::fs::remove_file(bin.join("rustup.log")).unwrap();
    let rustc = fake_rustc_path();
    ok(&run("+second", Some(rustc.to_str().unwrap())));
    let asked = std::fs::read_to_string(bin.join("rustup.log")).unwrap();
    assert_eq!(asked, "which --toolchain=second cargo\n");
    // A toolchain rustup does not have: one line, and cargo does not run.
    std::fs::remove_file(p.join("cargo.log")).unwrap();
    let e = one_line_error(&run("+nosuch", None));
    assert!(
        e.contains("+nosuch")
            && e.contains("not installed")
            && e.contains("rustup toolchain install nosuch"),
        "{e}"
    );
    assert!(!p.join("cargo.log").exists(), "cargo ran");
}

#[test]
fn a_toolchain_name_is_never_read_as_an_option() {
    // `+-V` would reach rustup as its own option; a newline would cut the
    // message in two.
    let p = project(&[("Xargo.toml", "[dependencies.core]\n")]);
    for name in ["+-V", "+--help", "+a\nb"] {
        let o = sysgen_cargo(&p, &tempdir(), &mock_dir().join("library"))
            .args([name, "build", "--target", "thumbv6m-none-eabi"])
            .output()
            .unwrap();
        let e = one_line_error(&o);
        assert!(e.contains("is not a toolchain name"), "{e}");
    }
}
