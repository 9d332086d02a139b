//! One sysgen at a time in an output directory: generation into it, and
//! `sysgen build`'s build in it, are serialized by a lock; the next one
//! waits, saying so, and the result is exactly the later selection.
//! (Found by the hostile probe: two `sysgen build -o same` at once, with
//! `core,alloc` then `core`, both exited 0, and `liballoc.rlib` stayed in
//! a sysroot whose manifest listed only core and compiler_builtins.)

use std::process::{Command, Stdio};

use crate::support::*;

#[test]
fn a_second_sysgen_waits_for_the_build_in_its_output_directory() {
    let t = tempdir();
    let (go, pids) = (t.join("go"), t.join("pids"));
    std::fs::create_dir_all(&pids).unwrap();
    // The first builds core and alloc, held in the middle of the build.
    let mut first = sysgen_cmd(&t)
        .args([
            "build",
            "--no-config",
            "--crates",
            "core,alloc",
            "-o",
            "same",
        ])
        .args(mock_toolchain(&mock_dir().join("library")))
        .env("FAKE_RUSTC_GO", &go)
        .env("FAKE_RUSTC_PIDS", &pids)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the first build compiles", || {
        std::fs::read_dir(&pids).unwrap().next().is_some()
    });
    // The second asks for core only, and waits.
    let err = t.join("second.err");
    let mut second = sysgen_cmd(&t)
        .args(["ninja", "--no-config", "--crates", "core", "-o", "same"])
        .args(mock_toolchain(&mock_dir().join("library")))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    wait_until("the second says it waits", || {
        std::fs::read_to_string(&err)
            .unwrap()
            .contains("waiting for another sysgen")
    });
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(second.try_wait().unwrap().is_none(), "the second waits");
    std::fs::write(&go, "").unwrap();
    assert!(first.wait().unwrap().success());
    assert!(
        second.wait().unwrap().success(),
        "{}",
        std::fs::read_to_string(&err).unwrap()
    );
    // The later selection, exactly.
    run_ok(Command::new("ninja").arg("-C").arg(t.join("same")));
    let lib = t.join("same/sysroot/lib/rustlib/x86_64-unknown-linux-gnu");
    assert!(lib.join("lib/libcore.rlib").is_file());
    assert!(
        !lib.join("lib/liballoc.rlib").exists(),
        "alloc was not selected last"
    );
    let manifest = std::fs::read_to_string(lib.join("sysgen-manifest.json")).unwrap();
    assert!(!manifest.contains("\"alloc\""), "{manifest}");
}
