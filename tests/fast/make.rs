//! `sysgen make`, checked with GNU make: sysroots byte-identical to the
//! Ninja build's, programs that run against them, Kbuild-style rebuilds
//! (nothing when nothing changed; a touched source rebuilds its crate and
//! its dependents; a changed per-crate flag variable rebuilds exactly that
//! crate and its dependents), objects for kernels, and bad input.

use crate::support::*;

#[test]
fn bad_input_to_sysgen_make_is_one_line_and_writes_nothing() {
    let t = tempdir();
    let e = one_line_error(&sysgen_fake(
        &t,
        &["make", "--crates", "core", "-o", "with space"],
    ));
    assert!(e.contains("GNU Make cannot name"), "{e}");
    assert!(!t.join("with space").exists());
    let e = one_line_error(&sysgen_fake(
        &t,
        &["make", "--target", "x86_64-unknown-nowhere", "-o", "out"],
    ));
    assert!(e.contains("unknown target"), "{e}");
    assert!(!t.join("out").exists());
    std::fs::create_dir_all(t.join("mine")).unwrap();
    std::fs::write(t.join("mine/Makefile"), "all:\n").unwrap();
    let e = one_line_error(&sysgen_fake(
        &t,
        &["make", "--crates", "core", "-o", "mine"],
    ));
    assert!(
        e.contains("Makefile") && e.contains("not written by sysgen"),
        "{e}"
    );
    assert_eq!(
        std::fs::read_to_string(t.join("mine/Makefile")).unwrap(),
        "all:\n"
    );
}

/// Paths stand unquoted in Make's rules and recipes, so a character the
/// shell or Make would read is refused, never accepted and then run or
/// broken. (Found by the hostile probe: `-o 'a`>/tmp/pwned`b'` ran the
/// command substitution under make; `'`, `"`, `;` and `\` were accepted
/// and broke the build later.)
#[test]
fn make_refuses_every_path_character_the_shell_or_make_would_read() {
    let t = tempdir();
    for dir in [
        "a`>pwned`b",
        "a'b",
        "a\"b",
        "a;b",
        "a\\b",
        "a(b",
        "a*b",
        "~a",
    ] {
        let e = one_line_error(&sysgen_fake(&t, &["make", "--crates", "core", "-o", dir]));
        assert!(e.contains("GNU Make cannot name"), "{dir:?}: {e}");
        assert!(!t.join(dir).exists(), "{dir:?}");
    }
    assert!(!t.join("pwned").exists());
    // What it can name still works: letters of any script, digits, `_@+=,./-`.
    let o = sysgen_fake(&t, &["make", "--crates", "core", "-o", "out_ä-1.2@x+y,w"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
