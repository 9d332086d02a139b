//! What cargo refuses, sysgen refuses too, with one line that points at
//! the fix, never accepting it silently. (Found by the hostile probe:
//! `panic = "weird"` and `codegen-units = 0` in a profile were accepted;
//! a build script's `cargo:rustc-flags=--cfg x` was dropped and
//! `cargo:rustc-env=NOEQUALS` became `--env-set NOEQUALS`.)

use std::process::Command;

use crate::support::*;

#[test]
fn a_profile_cargo_would_refuse_is_refused_even_when_unused() {
    for (profile, says) in [
        (
            "[profile.dev]\npanic = \"weird\"\n",
            "[profile.dev]: `panic = \"weird\"` is not valid",
        ),
        (
            "[profile.release.package.core]\ncodegen-units = 0\n",
            "[profile.release].package.core: `codegen-units = 0` is not valid",
        ),
    ] {
        let p = project(&[("sysgen.toml", "[dependencies]\ncore = {}\n")]);
        let manifest = std::fs::read_to_string(p.join("Cargo.toml")).unwrap();
        write(&p.join("Cargo.toml"), &format!("{manifest}\n{profile}"));
        let e = one_line_error(&sysgen_fake(&p, &["ninja", "-o", "out"]));
        assert!(e.contains(says), "{e}");
        assert!(!p.join("out").exists());
    }
}

/// A copy of the mock library whose compiler_builtins build script prints
/// `line`; the build of core in it, with its output.
fn build_with_directive(line: &str) -> std::process::Output {
    let lib = tempdir().join("library");
    copy_dir(&mock_dir().join("library"), &lib);
    write(
        &lib.join("compiler-builtins/build.rs"),
        &format!("//! fake-script: echo '{line}'\nfn main() {{}}\n"),
    );
    let t = tempdir();
    let o = sysgen_cmd(&t)
        .args(["ninja", "--no-config", "--crates", "core", "-o", "out"])
        .args(mock_toolchain(&lib))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Command::new("ninja")
        .arg("-C")
        .arg(t.join("out"))
        .output()
        .unwrap()
}

#[test]
fn a_directive_cargo_would_refuse_fails_the_build_naming_the_script() {
    for (line, says) in [
        (
            "cargo:rustc-flags=--cfg x",
            "allows only -l and -L flags, not `--cfg`",
        ),
        (
            "cargo:rustc-env=NOEQUALS",
            "`cargo:rustc-env=NOEQUALS` has no `=`",
        ),
    ] {
        let o = build_with_directive(line);
        let text =
            String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{line}: {text}");
        assert!(
            text.contains(says) && text.contains("compiler_builtins"),
            "{line}: {text}"
        );
    }
    // What cargo takes there still works.
    let o = build_with_directive("cargo:rustc-flags=-l static=m -L native=/x");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}

/// `sysgen build` without a ninja to run says so before it writes
/// anything. (Found by the hostile probe: it created the output
/// directory, then failed.)
#[test]
fn sysgen_build_without_ninja_fails_before_writing() {
    let t = tempdir();
    let o = sysgen_cmd(&t)
        .env("PATH", "/nonexistent")
        .env_remove("NINJA")
        .args(["build", "--no-config", "--crates", "core", "-o", "out"])
        .args(mock_toolchain(&mock_dir().join("library")))
        .output()
        .unwrap();
    let e = one_line_error(&o);
    assert!(
        e.contains("cannot find ninja") && e.contains("NINJA"),
        "{e}"
    );
    assert!(!t.join("out").exists());
}

/// A cache directory sysgen cannot use is named as such. (Found by the
/// hostile probe: a dangling symlink said "File exists (os error 17)", a
/// non-UTF-8 SYSGEN_CACHE_DIR "choose another -o DIR".)
#[test]
fn a_cache_directory_sysgen_cannot_use_is_named_with_the_fix() {
    use std::os::unix::ffi::OsStrExt;
    let t = tempdir();
    std::os::unix::fs::symlink(t.join("gone"), t.join("dangling")).unwrap();
    let bad = std::ffi::OsStr::from_bytes(b"/tmp/sysgen-\xff-cache").to_os_string();
    for (dir, says) in [
        (t.join("dangling").into_os_string(), "is a symlink to"),
        (bad, "is not valid UTF-8"),
    ] {
        let o = sysgen_cmd(&t)
            .env("SYSGEN_CACHE_DIR", &dir)
            .args(["ninja", "--no-config", "--crates", "core", "-o", "out"])
            .args(mock_toolchain(&mock_dir().join("library")))
            .output()
            .unwrap();
        let e = one_line_error(&o);
        assert!(e.contains("SYSGEN_CACHE_DIR") && e.contains(says), "{e}");
        assert!(!t.join("out").exists());
    }
}

/// `--vendor` at something that is not a vendor directory says so; only a
/// vendor directory that lacks packages is told to fetch into it. (Found:
/// `--vendor /` was told to run `sysgen fetch --vendor /`.)
#[test]
fn a_vendor_path_that_is_no_vendor_directory_is_named_as_such() {
    let t = tempdir();
    write(&t.join("afile"), "");
    write(&t.join("project/src/main.rs"), "fn main() {}\n");
    std::fs::create_dir_all(t.join("empty")).unwrap();
    let root = t.display().to_string();
    for (vendor, says, fix) in [
        (
            "/".to_string(),
            "/ is not a vendor directory",
            "sysgen fetch --vendor DIR",
        ),
        (
            format!("{root}/project"),
            "project is not a vendor directory",
            "sysgen fetch --vendor DIR",
        ),
        (
            format!("{root}/afile"),
            "is not a directory",
            "sysgen fetch --vendor DIR",
        ),
        (
            format!("{root}/missing"),
            "missing does not exist",
            &format!("sysgen fetch --vendor {root}/missing"),
        ),
        (
            format!("{root}/empty"),
            "not in the vendor directory",
            &format!("sysgen fetch --vendor {root}/empty"),
        ),
    ] {
        let o = sysgen_cmd(&t)
            .args(["ninja", "--no-config", "-o", "out"])
            .args(["--rustc", fake_rustc_path().to_str().unwrap()])
            .args(["--rust-src", mock_dir().join("library").to_str().unwrap()])
            .args(["--vendor", &vendor])
            .output()
            .unwrap();
        let e = one_line_error(&o);
        assert!(e.contains(says) && e.contains(fix), "{vendor}: {e}");
        assert!(!e.contains("--vendor /`"), "{e}");
    }
}

/// `--config` at rust-src's library (or its manifests), at a directory, or
/// at a project's Cargo.toml says what it is pointing at and what
/// `--config` takes. (Found: `--config library/` was told to reinstall
/// rust-src.)
#[test]
fn a_config_path_that_is_no_config_says_what_it_is() {
    let t = tempdir();
    let lib = mock_dir().join("library");
    let p = project(&[("Xargo.toml", "[dependencies.core]\n")]);
    for (config, says) in [
        (
            lib.clone(),
            "is rust-src's `library` directory, not a config",
        ),
        (
            lib.join("Cargo.toml"),
            "is a manifest of rust-src's library workspace",
        ),
        (
            lib.join("core/Cargo.toml"),
            "is a manifest of rust-src's library workspace",
        ),
        (p.clone(), "is a directory; --config takes"),
        (p.join("Cargo.toml"), "is a Cargo manifest, not a config"),
    ] {
        let o = sysgen_cmd(&t)
            .args(["ninja", "-o", "out", "--config"])
            .arg(&config)
            .args(mock_toolchain(&lib))
            .output()
            .unwrap();
        let e = one_line_error(&o);
        assert!(
            e.contains(says) && e.contains("sysgen.toml or Xargo.toml"),
            "{}: {e}",
            config.display()
        );
        assert!(!e.contains("reinstall"), "{e}");
    }
    let o = sysgen_cmd(&t)
        .args(["ninja", "-o", "out", "--config"])
        .arg(&p)
        .args(mock_toolchain(&lib))
        .output()
        .unwrap();
    let e = one_line_error(&o);
    assert!(
        e.contains(&format!("pass --config {}/Xargo.toml", p.display())),
        "{e}"
    );
}
