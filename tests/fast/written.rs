//! sysgen removes only what it wrote: each generation records in
//! `.sysgen/written` the paths it wrote and its build file produces, and
//! the next removes the recorded paths it no longer produces — never a
//! symlink, never a file it did not write, never anything outside the
//! directory. (Found by the hostile probe: with `build/` and `sysroot/`
//! symlinked to a tmpfs, regeneration wrote through the links, then
//! deleted them, and ninja failed with "run.json missing"; a regeneration
//! with the same selection deleted the user's `rust-lld` link and extra
//! rlib from `sysroot/`.)

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

const LIB: &str = "sysroot/lib/rustlib/x86_64-unknown-linux-gnu/lib";

/// `sysgen build --crates CRATES -o out` in `t`: generation and a real
/// ninja run of the stand-in compiler.
fn build(t: &Path, crates: &str) {
    let o = sysgen_cmd(t)
        .args(["build", "--no-config", "--crates", crates, "-o", "out"])
        .args(mock_toolchain(&mock_dir().join("library")))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `sysgen ninja` only.
fn generate(t: &Path, args: &[&str]) {
    let o = sysgen_cmd(t)
        .args(["ninja", "--no-config", "-o", "out"])
        .args(args)
        .args(mock_toolchain(&mock_dir().join("library")))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn is_link(p: &Path) -> bool {
    p.symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink())
}

#[test]
fn a_symlinked_build_or_sysroot_directory_is_written_through_and_kept() {
    let t = tempdir();
    build(&t, "core,alloc");
    // The user moves both trees to another disk and links them back.
    let elsewhere = t.join("tmpfs");
    std::fs::create_dir_all(&elsewhere).unwrap();
    for d in ["build", "sysroot"] {
        std::fs::rename(t.join("out").join(d), elsewhere.join(d)).unwrap();
        symlink(elsewhere.join(d), t.join("out").join(d)).unwrap();
    }
    build(&t, "core");
    for d in ["build", "sysroot"] {
        assert!(is_link(&t.join("out").join(d)), "{d} is still a link");
    }
    let lib = elsewhere.join("sysroot/lib/rustlib/x86_64-unknown-linux-gnu/lib");
    assert!(lib.join("libcore.rlib").is_file());
    assert!(
        !lib.join("liballoc.rlib").exists(),
        "alloc left the sysroot"
    );
    // And the build through the links is complete: nothing left to do.
    let o = run_ok(
        Command::new("ninja")
            .args(["-C", "out", "-n"])
            .current_dir(&t),
    );
    assert!(o.contains("no work to do"), "{o}");
}

#[test]
fn the_users_own_files_in_the_sysroot_stay_while_earlier_outputs_go() {
    let t = tempdir();
    let out = t.join("out");
    build(&t, "core,alloc");
    let lib = out.join(LIB);
    let bin = out.join("sysroot/lib/rustlib/x86_64-unknown-linux-gnu/bin");
    std::fs::create_dir_all(&bin).unwrap();
    symlink("/usr/bin/true", bin.join("rust-lld")).unwrap();
    write(&lib.join("libextra.rlib"), "mine\n");
    write(&out.join("build/notes.txt"), "mine\n");
    let mine = [
        bin.join("rust-lld"),
        lib.join("libextra.rlib"),
        out.join("build/notes.txt"),
    ];
    let present = |p: &PathBuf| p.symlink_metadata().is_ok();
    // The same selection: nothing of the user's goes.
    build(&t, "core,alloc");
    assert!(mine.iter().all(present));
    // A smaller one: alloc goes, the user's files stay.
    build(&t, "core");
    assert!(mine.iter().all(present));
    assert!(!lib.join("liballoc.rlib").exists());
    assert!(lib.join("libcore.rlib").is_file());
    // A recorded output the user replaced by a symlink is theirs now.
    std::fs::remove_file(lib.join("libcore.rlib")).unwrap();
    symlink("/dev/null", lib.join("libcore.rlib")).unwrap();
    generate(&t, &["--crates", "alloc", "--target", "thumbv6m-none-eabi"]);
    assert!(is_link(&lib.join("libcore.rlib")));
    assert!(mine.iter().all(present));
}

#[test]
fn a_directory_from_before_the_record_is_cleaned_once_as_before() {
    let t = tempdir();
    let out = t.join("out");
    build(&t, "core,alloc");
    // What an older sysgen left: no record.
    std::fs::remove_file(out.join(".sysgen/written")).unwrap();
    write(
        &out.join(LIB).join("libold.rlib"),
        "left by an older sysroot\n",
    );
    symlink("/usr/bin/true", out.join(LIB).join("rust-lld")).unwrap();
    generate(&t, &["--crates", "core"]);
    assert!(!out.join(LIB).join("liballoc.rlib").exists());
    assert!(!out.join(LIB).join("libold.rlib").exists());
    assert!(is_link(&out.join(LIB).join("rust-lld")), "never a symlink");
    // From then on, the record rules.
    assert!(out.join(".sysgen/written").is_file());
    write(&out.join(LIB).join("libmine.rlib"), "mine\n");
    generate(&t, &["--crates", "alloc"]);
    assert!(out.join(LIB).join("libmine.rlib").is_file());
}

#[test]
fn a_hand_edited_record_removes_nothing_outside_the_directory() {
    let t = tempdir();
    let out = t.join("out");
    generate(&t, &["--crates", "core"]);
    let victim = t.join("victim");
    write(&victim, "mine\n");
    std::fs::write(
        out.join(".sysgen/written"),
        format!(
            "{{\"version\": 1, \"paths\": [\"../victim\", {:?}, \"build/../../victim\"]}}",
            victim.display().to_string()
        ),
    )
    .unwrap();
    generate(&t, &["--crates", "core"]);
    assert!(victim.is_file());
    // A record that is not one names the file and the fix.
    std::fs::write(out.join(".sysgen/written"), "garbage").unwrap();
    let o = sysgen_cmd(&t)
        .args(["ninja", "--no-config", "--crates", "core", "-o", "out"])
        .args(mock_toolchain(&mock_dir().join("library")))
        .output()
        .unwrap();
    let e = one_line_error(&o);
    assert!(
        e.contains(".sysgen/written") && e.contains("delete it"),
        "{e}"
    );
}

/// The sysroot libraries `out/build.ninja` produces (relative to `out`).
fn produced(out: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(out.join("build.ninja")).unwrap();
    let mut v = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("build ") {
            let outs = rest.split(": ").next().unwrap();
            v.extend(
                outs.split(' ')
                    .filter(|o| o.starts_with("sysroot/"))
                    .map(str::to_string),
            );
        }
    }
    v
}

/// Property: over random sequences of selections, with the user adding
/// files and symlinks among sysgen's between generations, every
/// generation leaves exactly the outputs of its own selection plus every
/// file of the user's, and never removes a symlink.
#[test]
fn over_random_regenerations_only_outputs_of_earlier_selections_are_removed() {
    let selections: &[&[&str]] = &[
        &["--crates", "core"],
        &["--crates", "core,alloc"],
        &["--crates", "alloc", "--check"],
        &["--crates", "std"],
        &["--crates", "core", "--target", "thumbv6m-none-eabi"],
        &[
            "--crates",
            "alloc",
            "--target",
            "thumbv6m-none-eabi",
            "--target",
            "x86_64-unknown-linux-gnu",
        ],
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let t = tempdir();
    let out = t.join("out");
    let mut mine: Vec<PathBuf> = Vec::new();
    let mut built: Vec<String> = Vec::new();
    for step in 0..24 {
        let sel = selections[(next() % selections.len() as u64) as usize];
        generate(&t, sel);
        let now = produced(&out);
        // Outputs of earlier selections that this one does not produce
        // are gone (they were regular files sysgen's build made)…
        for old in built.iter().filter(|o| !now.contains(o)) {
            assert!(!out.join(old).exists(), "step {step}: {old} stayed");
        }
        // …and everything of the user's stays.
        for p in &mine {
            assert!(
                p.symlink_metadata().is_ok(),
                "step {step}: {} went",
                p.display()
            );
        }
        // The build runs (pretended: each output written as a file).
        for o in &now {
            write(&out.join(o), "built\n");
        }
        built = now;
        // The user adds a file or a link beside sysgen's outputs.
        let dir = out.join(&built[(next() % built.len() as u64) as usize]);
        let dir = dir.parent().unwrap();
        let p = dir.join(format!("user-{step}"));
        if next() % 2 == 0 {
            write(&p, "mine\n");
        } else {
            symlink("/dev/null", &p).unwrap();
        }
        mine.push(p);
    }
}

/// Deleting what generation wrote (`rm -rf out/build`, `rm -rf
/// out/sysroot`) is repaired by the next `ninja`: the deleted files are
/// written again by regenerating, and the build after that has nothing to
/// do. (Found by the hostile probe: after `rm -rf out/build` ninja failed
/// with "run.json missing" and no hint to regenerate.)
#[test]
fn a_deleted_build_or_sysroot_directory_is_restored_by_the_next_ninja() {
    let t = tempdir();
    let out = t.join("out");
    build(&t, "std");
    for gone in [
        "build",
        "sysroot",
        "sysroot/lib/rustlib/x86_64-unknown-linux-gnu/sysgen-manifest.json",
    ] {
        let p = out.join(gone);
        if p.is_dir() {
            std::fs::remove_dir_all(&p).unwrap();
        } else {
            std::fs::remove_file(&p).unwrap();
        }
        let o = run_ok(Command::new("ninja").arg("-C").arg(&out));
        assert!(o.contains("REGENERATE deleted files"), "{gone}: {o}");
        assert!(out.join(LIB).join("libstd.rlib").is_file(), "{gone}");
        assert!(
            out.join(LIB).join("../sysgen-manifest.json").is_file(),
            "{gone}"
        );
        let o = run_ok(Command::new("ninja").arg("-C").arg(&out).arg("-n"));
        assert!(o.contains("no work to do"), "{gone}: {o}");
    }
    // A build that wrote nothing missing never regenerates.
    let o = run_ok(Command::new("ninja").arg("-C").arg(&out));
    assert!(!o.contains("REGENERATE"), "{o}");
}
