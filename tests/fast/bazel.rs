//! `sysgen bazel`, checked with a real Bazel (Debian's bazel-bootstrap,
//! installed by scripts/setup): sysroots built by Bazel are byte-identical
//! to the Ninja build's, programs run against them, a second build executes
//! nothing, a copy elsewhere gets every action from a shared disk cache, the
//! query graph is sysgen's graph, and monorepos can use the generated
//! repository or generate it at fetch time.

use crate::support::*;

#[test]
fn bad_input_to_sysgen_bazel_is_one_line_and_writes_nothing() {
    let t = tempdir();
    let e = one_line_error(&sysgen_fake(
        &t,
        &["bazel", "--target", "x86_64-unknown-nowhere", "-o", "out"],
    ));
    assert!(e.contains("unknown target"), "{e}");
    assert!(!t.join("out").exists());
    let o = sysgen_in(
        &t,
        &["bazel", "--rust-src", "/nonexistent/rust-src", "-o", "out"],
    );
    let e = one_line_error(&o);
    assert!(e.contains("/nonexistent/rust-src"), "{e}");
    assert!(!t.join("out").exists());
    let ro = Mount::tmpfs("ro,size=1m");
    let out = ro.dir.join("out");
    let e = one_line_error(&sysgen_fake(
        &t,
        &["bazel", "--crates", "core", "-o", out.to_str().unwrap()],
    ));
    assert!(e.contains("Read-only"), "{e}");
    // A WORKSPACE sysgen did not write is never overwritten.
    write(&t.join("mine/WORKSPACE"), "workspace(name = \"mine\")\n");
    let e = one_line_error(&sysgen_fake(
        &t,
        &["bazel", "--crates", "core", "-o", "mine"],
    ));
    assert!(
        e.contains("WORKSPACE") && e.contains("not written by sysgen"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(t.join("mine/WORKSPACE")).unwrap(),
        "workspace(name = \"mine\")\n"
    );
}

/// What a Bazel label or workspace cannot name is refused with one line,
/// before anything is written; what it can (quotes, backslashes, `$` in
/// the paths of rust-src and the compiler) is quoted in the generated
/// Starlark. (Found by the hostile probe: a spec file named `a:b.json`
/// made a repository Bazel rejects; then a rust-src path holding `"` made
/// defs.bzl a syntax error.)
#[test]
fn names_bazel_cannot_label_are_refused_and_paths_are_quoted() {
    let t = tempdir();
    let spec = t.join("x86_64-unknown-linux-a\\b.json");
    write(&spec, "{}");
    let e = one_line_error(&sysgen_fake(
        &t,
        &[
            "bazel",
            "--crates",
            "core",
            "--target",
            spec.to_str().unwrap(),
            "-o",
            "out",
        ],
    ));
    assert!(e.contains("which a Bazel label cannot name"), "{e}");
    assert!(!t.join("out").exists());
    let e = one_line_error(&sysgen_fake(
        &t,
        &["bazel", "--crates", "core", "-o", "a b"],
    ));
    assert!(e.contains("holds a space"), "{e}");
    assert!(!t.join("a b").exists());

    let lib = t.join("li\"b\\ $x'é");
    copy_dir(&mock_dir().join("library"), &lib);
    let o = sysgen_cmd(&t)
        .args(["bazel", "--no-config", "--crates", "core", "-o", "out"])
        .args(mock_toolchain(&lib))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let defs = std::fs::read_to_string(t.join("out/defs.bzl")).unwrap();
    let literal = sysgen::emit::starlark::quote(lib.to_str().unwrap());
    assert!(
        defs.contains(&format!("library = {literal},")),
        "defs.bzl names rust-src as a Starlark literal"
    );
}
