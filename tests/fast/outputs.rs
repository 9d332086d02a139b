//! One rule for every file named with `-o`: a report may replace an
//! existing regular file (atomically, keeping its mode), `-o -` is standard
//! output, a generated project file replaces only what sysgen wrote, and a
//! symlink, device, FIFO or socket is refused with one line and is never
//! read, followed or replaced. (Found by the hostile probe: `sbom -o` turned
//! a character device into a regular file, replaced a symlink instead of
//! writing through it, read `/dev/full` without bound, hung on a FIFO, and
//! gave a 600 file back as 644.)

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::*;

fn mknod(path: &Path, kind: &str, major_minor: &[&str]) {
    let st = std::process::Command::new("mknod")
        .arg(path)
        .arg(kind)
        .args(major_minor)
        .status()
        .unwrap();
    // The tests run as root (CI, this project's machines): a device file
    // that cannot be made is a failure, not a skip.
    assert!(st.success(), "mknod {} {kind} failed", path.display());
}

/// `sysgen ARGS` against the mock library, with a bound on its time (a FIFO
/// must not make it hang).
fn sysgen_bounded(cwd: &Path, args: &[&str]) -> std::process::Output {
    let start = Instant::now();
    let o = sysgen_fake(cwd, args);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{args:?} took too long"
    );
    o
}

#[test]
fn a_report_never_replaces_a_device_a_fifo_a_socket_or_a_symlink() {
    let t = tempdir();
    mknod(&t.join("null"), "c", &["1", "3"]);
    mknod(&t.join("full"), "c", &["1", "7"]);
    mknod(&t.join("fifo"), "p", &[]);
    let _socket = std::os::unix::net::UnixListener::bind(t.join("socket")).unwrap();
    std::fs::write(t.join("target.json"), "mine").unwrap();
    std::os::unix::fs::symlink(t.join("target.json"), t.join("link")).unwrap();
    std::os::unix::fs::symlink("/proc/self/fd/1", t.join("stdout-link")).unwrap();
    for (name, what) in [
        ("null", "a device"),
        ("full", "a device"),
        ("fifo", "a FIFO"),
        ("socket", "a socket"),
        ("link", "a symbolic link"),
        ("stdout-link", "a symbolic link"),
    ] {
        for cmd in [&["sbom", "-o"][..], &["graph", "-o"][..]] {
            let mut args = cmd.to_vec();
            args.push(name);
            let e = one_line_error(&sysgen_bounded(&t, &args));
            assert!(
                e.contains(&format!("is {what}, not a regular file")),
                "{name}: {e}"
            );
        }
    }
    let ft = |n: &str| std::fs::symlink_metadata(t.join(n)).unwrap().file_type();
    assert!(ft("null").is_char_device() && ft("full").is_char_device());
    assert!(ft("fifo").is_fifo() && ft("socket").is_socket());
    assert!(ft("link").is_symlink() && ft("stdout-link").is_symlink());
    assert_eq!(
        std::fs::read_to_string(t.join("target.json")).unwrap(),
        "mine"
    );
    // timings' -o follows the same rule.
    std::fs::create_dir(t.join("build")).unwrap();
    let e = one_line_error(
        &std::process::Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .current_dir(&t)
            .args(["timings", "build", "-o", "null"])
            .output()
            .unwrap(),
    );
    assert!(e.contains("is a device, not a regular file"), "{e}");
    assert!(ft("null").is_char_device());
}

#[test]
fn a_report_replaces_a_regular_file_keeping_its_mode_and_dash_is_standard_output() {
    let t = tempdir();
    let sbom = t.join("sbom.json");
    std::fs::write(&sbom, "old").unwrap();
    std::fs::set_permissions(&sbom, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = sysgen_bounded(&t, &["sbom", "-o", "sbom.json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&sbom).unwrap();
    assert!(text.contains("CycloneDX"), "{text}");
    let mode = std::fs::metadata(&sbom).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let o = sysgen_bounded(&t, &["sbom", "-o", "-"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), text);
    assert!(!t.join("-").exists());
}

#[test]
fn rust_project_json_is_never_a_symlink_or_device_it_replaces() {
    let t = tempdir();
    std::fs::write(t.join("elsewhere.json"), "{}").unwrap();
    std::os::unix::fs::symlink(t.join("elsewhere.json"), t.join("rust-project.json")).unwrap();
    let e = one_line_error(&sysgen_bounded(&t, &["rust-project"]));
    assert!(e.contains("is a symbolic link, not a regular file"), "{e}");
    assert!(
        std::fs::symlink_metadata(t.join("rust-project.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    std::fs::remove_file(t.join("rust-project.json")).unwrap();
    mknod(&t.join("rust-project.json"), "c", &["1", "7"]);
    let e = one_line_error(&sysgen_bounded(&t, &["rust-project"]));
    assert!(e.contains("is a device, not a regular file"), "{e}");
}
