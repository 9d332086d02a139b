//! Reproducible sysroots: the same inputs give byte-identical files in any
//! output directory, on every run: what a remote cache, a shared sysroot
//! store, the byte-identity of the emitters and a distribution's rebuild
//! check all rely on. Real builds (rust-src, ninja).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

fn build(out: &Path, cwd: &Path, args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .current_dir(cwd)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .arg("ninja")
        .args(args)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new("ninja").arg("-C").arg(out).output().unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn fresh(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn host_std_is_byte_identical_in_another_output_directory() {
    let a = shared_build("host-std", HOST_STD);
    let dir = fresh("repro host");
    let b = dir.join("out b");
    build(&b, &dir, HOST_STD);
    let diffs = sysroot_differences(&a.join("sysroot"), &b.join("sysroot"));
    assert!(diffs.is_empty(), "{diffs:#?}");
    assert!(
        b.join("sysroot/lib/rustlib/x86_64-unknown-linux-gnu/lib/libstd.rlib")
            .is_file()
    );
}

/// thumbv6m core and alloc with a stage-1 crate, in the release, dev and
/// dist profiles (dev and dist record directories in their debuginfo).
#[test]
fn a_staged_no_std_sysroot_is_byte_identical_in_every_profile() {
    let project = fresh("repro-stage-project");
    let write = |f: &str, text: &str| {
        let p = project.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "sysgen.toml",
        "[dependencies]\ncore = {}\nalloc = {}\ntiny = { path = \"tiny\", stage = 1 }\n\n[sysgen]\ntargets = [\"thumbv6m-none-eabi\"]\n",
    );
    write(
        "tiny/Cargo.toml",
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        "tiny/src/lib.rs",
        "#![no_std]\nextern crate alloc;\npub fn f() -> alloc::string::String { alloc::format!(\"{}\", file!()) }\n",
    );
    for profile in ["release", "dev", "dist"] {
        let base = fresh(&format!("repro-{profile}"));
        let a = base.join("a");
        let b = base.join("with space").join("b");
        build(&a, &project, &["--profile", profile]);
        build(&b, &project, &["--profile", profile]);
        let diffs = sysroot_differences(&a.join("sysroot"), &b.join("sysroot"));
        assert!(diffs.is_empty(), "{profile}: {diffs:#?}");
        let lib = a.join("sysroot/lib/rustlib/thumbv6m-none-eabi/lib");
        assert!(lib.join("libtiny.rlib").is_file() && lib.join("liballoc.rlib").is_file());
    }
}
