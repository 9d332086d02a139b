//! The sysroot store is exactly what its keys say, and only yours: a file
//! changed, removed or added in a published sysroot is never reused (the
//! entry is discarded with one warning naming the file, and built again);
//! a store, entry, lock or fingerprint cache that another user owns, or
//! that its group or others may write, is refused with one line and
//! nothing is reused. (Found by the hostile probe: an overwritten or
//! deleted `libcore.rlib` gave "reusing sysroot"; with a shared
//! SYSGEN_CACHE_DIR, an entry planted by `nobody` was reused by root.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

const TARGET: &str = "thumbv6m-none-eabi";

/// `sysgen cargo build --target thumbv6m-none-eabi` in `project`, with the
/// mock library, the stand-in rustc and cargo, and SYSGEN_CACHE_DIR=`cache`.
fn build(project: &Path, cache: &Path) -> Command {
    let mut c = sysgen_cargo(project, cache, &mock_dir().join("library"));
    c.args(["build", "--target", TARGET]);
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", stderr(&o));
    stderr(&o)
}

/// The one published entry's directory.
fn entry(cache: &Path) -> PathBuf {
    let root = cache.join("sysroots");
    let mut found = Vec::new();
    for fam in std::fs::read_dir(&root).unwrap() {
        let fam = fam.unwrap();
        let name = fam.file_name().to_string_lossy().into_owned();
        if name == "build" || name == "locks" || name.starts_with('.') {
            continue;
        }
        for v in std::fs::read_dir(fam.path()).unwrap() {
            found.push(v.unwrap().path());
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

fn lib_dir(entry: &Path) -> PathBuf {
    entry.join(format!("sysroot/lib/rustlib/{TARGET}/lib"))
}

#[test]
fn a_changed_missing_or_added_file_in_a_stored_sysroot_is_never_reused() {
    let cache = tempdir();
    let p = project(&[("Xargo.toml", "[dependencies.alloc]\n")]);
    assert!(ok(build(&p, &cache).output().unwrap()).contains("built sysroot"));
    let e = entry(&cache);
    let core = lib_dir(&e).join("libcore.rlib");
    let original = std::fs::read(&core).unwrap();
    assert!(ok(build(&p, &cache).output().unwrap()).contains("reusing sysroot"));

    type Tamper = fn(&Path);
    let cases: [(&str, Tamper, &str); 3] = [
        (
            "changed",
            |core| std::fs::write(core, "EVIL").unwrap(),
            "libcore.rlib changed",
        ),
        (
            "deleted",
            |core| std::fs::remove_file(core).unwrap(),
            "libcore.rlib is missing",
        ),
        (
            "added",
            |core| std::fs::write(core.with_file_name("libevil.rlib"), "EVIL").unwrap(),
            "libevil.rlib was added",
        ),
    ];
    for (what, tamper, says) in cases {
        tamper(&core);
        let err = ok(build(&p, &cache).output().unwrap());
        let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
        assert!(
            warnings.len() == 1 && warnings[0].contains(says) && warnings[0].contains("discarding"),
            "{what}: {err}"
        );
        assert!(err.contains("built sysroot"), "{what}: {err}");
        // Built again in the same place, as it was.
        let e = entry(&cache);
        assert_eq!(
            std::fs::read(lib_dir(&e).join("libcore.rlib")).unwrap(),
            original
        );
        assert!(!lib_dir(&e).join("libevil.rlib").exists(), "{what}");
        assert!(ok(build(&p, &cache).output().unwrap()).contains("reusing sysroot"));
    }
}

/// One line, exit 2, cargo never runs, nothing is reused or removed.
fn refused(o: Output, project: &Path, says: &[&str]) {
    let e = one_line_error(&o);
    for s in says {
        assert!(e.contains(s), "{e}");
    }
    assert!(!project.join("cargo.log").exists(), "cargo ran");
}

#[test]
fn a_store_another_user_can_write_is_refused() {
    // A shared cache directory, as /tmp is: sticky and world-writable.
    let shared = tempdir();
    run_ok(Command::new("chmod").arg("1777").arg(&shared));
    // `nobody` builds first, so the store is nobody's.
    let theirs = project(&[("Xargo.toml", "[dependencies.alloc]\n")]);
    run_ok(Command::new("chown").arg("-R").arg("nobody").arg(&theirs));
    let mut as_nobody = Command::new("setpriv");
    as_nobody.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]);
    let b = build(&theirs, &shared);
    as_nobody
        .arg(b.get_program())
        .args(b.get_args())
        .current_dir(&theirs)
        .envs(b.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WRAPPER");
    assert!(ok(as_nobody.output().unwrap()).contains("built sysroot"));
    let mine = project(&[("Xargo.toml", "[dependencies.alloc]\n")]);
    refused(
        build(&mine, &shared).output().unwrap(),
        &mine,
        &[
            "sysroots",
            "belongs to uid 65534",
            "chown",
            "SYSGEN_CACHE_DIR",
        ],
    );
    // Planted inside a store of one's own: an entry, then a file of it.
    let cache = tempdir();
    ok(build(&mine, &cache).output().unwrap());
    std::fs::remove_file(mine.join("cargo.log")).unwrap();
    let e = entry(&cache);
    run_ok(Command::new("chown").arg("nobody").arg(&e));
    refused(
        build(&mine, &cache).output().unwrap(),
        &mine,
        &["belongs to uid 65534"],
    );
    run_ok(Command::new("chown").arg("root").arg(&e));
    let core = lib_dir(&e).join("libcore.rlib");
    run_ok(Command::new("chmod").arg("g+w").arg(&core));
    refused(
        build(&mine, &cache).output().unwrap(),
        &mine,
        &["libcore.rlib", "writable by its group or others", "chmod"],
    );
    assert!(core.exists(), "nothing is removed");
    run_ok(Command::new("chmod").arg("g-w").arg(&core));
    // The locks, and the fingerprint cache that vouches for the digests.
    for path in [cache.join("sysroots/locks"), cache.join("fingerprints")] {
        assert!(path.exists(), "{}", path.display());
        run_ok(Command::new("chmod").arg("o+w").arg(&path));
        refused(
            build(&mine, &cache).output().unwrap(),
            &mine,
            &[path.to_str().unwrap(), "writable"],
        );
        run_ok(Command::new("chmod").arg("o-w").arg(&path));
    }
    assert!(ok(build(&mine, &cache).output().unwrap()).contains("reusing sysroot"));
}

/// What sysgen creates in its store is private whatever the umask: with
/// umask 002 (group-writable files) its own entries are still reused.
#[test]
fn the_store_sysgen_makes_is_private_whatever_the_umask() {
    let cache = tempdir();
    let p = project(&[("Xargo.toml", "[dependencies.alloc]\n")]);
    let with_umask = || {
        let b = build(&p, &cache);
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg("umask 002 && exec \"$@\"")
            .arg("sh")
            .arg(b.get_program())
            .args(b.get_args())
            .current_dir(&p)
            .envs(b.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("RUSTC_WRAPPER");
        c.output().unwrap()
    };
    assert!(ok(with_umask()).contains("built sysroot"));
    use std::os::unix::fs::PermissionsExt;
    let root = cache.join("sysroots");
    assert_eq!(
        std::fs::metadata(&root).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert!(ok(with_umask()).contains("reusing sysroot"));
}
