//! `sysgen rust-project`, checked by rust-analyzer itself: the project file
//! loads, every listed crate resolves its dependencies and its cfg'd code,
//! and rust-analyzer infers the types of almost every pattern. A project
//! with the dependencies taken out is the control that shows the measure
//! can fail.

use crate::support::*;

#[test]
fn rust_project_replaces_only_its_own_file_and_says_what_is_wrong_in_one_line() {
    let t = tempdir();
    // Its own file: written, then rewritten byte for byte.
    let out = sysgen_fake(&t, &["rust-project", "--crates", "core"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = std::fs::read(t.join("rust-project.json")).unwrap();
    let out = sysgen_fake(&t, &["rust-project", "--crates", "core"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(t.join("rust-project.json")).unwrap(), first);

    // Someone else's: left alone.
    std::fs::write(t.join("mine.json"), "{\"crates\": []}\n").unwrap();
    let e = one_line_error(&sysgen_fake(
        &t,
        &["rust-project", "--crates", "core", "-o", "mine.json"],
    ));
    assert!(e.contains("not written by sysgen"), "{e}");
    assert_eq!(
        std::fs::read_to_string(t.join("mine.json")).unwrap(),
        "{\"crates\": []}\n"
    );

    // A build directory that is not one.
    let e = one_line_error(&sysgen_fake(
        &t,
        &["rust-project", "--crates", "core", "--build-dir", "nowhere"],
    ));
    assert!(e.contains("not a sysgen output directory"), "{e}");
}
