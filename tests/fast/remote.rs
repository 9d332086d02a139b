//! The store backed by a remote build cache (a real nginx with WebDAV on
//! loopback): a second machine gets the sysroot without compiling, the
//! records are REAPI `ActionResult`s, and every way the cache can fail
//! gives one warning line, a local build and a correct sysroot.
//!
//! A "machine" is its own store, with the mock library and registry
//! sources copied to paths of its own, and the stand-in toolchain.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::cache_server::{Access, Fault, FaultProxy, Nginx, free_port};
use crate::support::*;

pub(crate) struct Machine {
    pub(crate) store: PathBuf,
    pub(crate) library: PathBuf,
    pub(crate) vendor: PathBuf,
    pub(crate) project: PathBuf,
}

impl Machine {
    pub(crate) fn new() -> Machine {
        let root = tempdir();
        let (library, vendor) = (root.join("src/library"), root.join("registry/vendor"));
        copy_dir(&mock_dir().join("library"), &library);
        copy_dir(&mock_dir().join("vendor"), &vendor);
        Machine {
            store: root.join("store"),
            library,
            vendor,
            project: project(&[("Xargo.toml", "[dependencies.alloc]\n")]),
        }
    }

    pub(crate) fn cmd(&self, remote: &str) -> std::process::Command {
        let mut c = sysgen_cargo(&self.project, &self.store, &self.library);
        c.env("SYSGEN_VENDOR", &self.vendor)
            .env("FAKE_RUSTC_LOG", self.store.join("rustc.log"))
            .env("SYSGEN_REMOTE_CACHE", remote)
            .env("SYSGEN_REMOTE_CACHE_TIMEOUT", "1")
            .args(["build", "--target", "thumbv6m-none-eabi"]);
        c
    }

    /// `sysgen cargo build` with this remote cache: its stderr.
    pub(crate) fn build(&self, remote: &str) -> String {
        let o = self.cmd(remote).output().unwrap();
        ok(&o)
    }

    /// How many crates the stand-in rustc compiled for this machine.
    pub(crate) fn compiled(&self) -> usize {
        std::fs::read_to_string(self.store.join("rustc.log"))
            .unwrap_or_default()
            .lines()
            .count()
    }

    /// The sysroot cargo was given last.
    pub(crate) fn sysroot(&self) -> PathBuf {
        let log = std::fs::read_to_string(self.project.join("cargo.log")).unwrap();
        let flags = log
            .lines()
            .find_map(|l| l.strip_prefix("CARGO_ENCODED_RUSTFLAGS="))
            .unwrap();
        PathBuf::from(
            flags
                .split(['\u{1f}', ' '])
                .find_map(|f| f.strip_prefix("--sysroot="))
                .unwrap(),
        )
    }

    pub(crate) fn cache_list(&self) -> String {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .env("SYSGEN_CACHE_DIR", &self.store)
            .args(["cache", "list"])
            .output()
            .unwrap();
        assert!(o.status.success());
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

pub(crate) fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    err
}

/// The lines of sysgen's own that warn.
pub(crate) fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("sysgen: warning"))
        .collect()
}

/// Every file of a sysroot: relative path and bytes.
pub(crate) fn contents(sysroot: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    files_below(sysroot)
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(sysroot.join(&p)).unwrap()))
        .collect()
}

/// A machine that built the sysroot and uploaded it to `nginx`: its
/// sysroot's contents.
pub(crate) fn first_machine(nginx: &Nginx) -> Vec<(PathBuf, Vec<u8>)> {
    let a = Machine::new();
    let err = a.build(&nginx.url());
    assert!(err.contains("built sysroot"), "{err}");
    assert!(
        err.contains("uploaded the sysroot to the remote cache"),
        "{err}"
    );
    assert!(warnings(&err).is_empty(), "{err}");
    contents(&a.sysroot())
}

// ---- protobuf, read independently of sysgen's own definitions ----

fn varint(b: &[u8], i: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = b[*i];
        *i += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte & 0x80 == 0 {
            return v;
        }
        shift += 7;
    }
}

/// The fields of one message: (number, wire type, payload or value).
fn fields(b: &[u8]) -> Vec<(u64, u64, Vec<u8>, u64)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let key = varint(b, &mut i);
        let (num, wt) = (key >> 3, key & 7);
        match wt {
            0 => {
                let v = varint(b, &mut i);
                out.push((num, wt, Vec::new(), v));
            }
            2 => {
                let len = varint(b, &mut i) as usize;
                out.push((num, wt, b[i..i + len].to_vec(), 0));
                i += len;
            }
            other => panic!("wire type {other} in an ActionResult"),
        }
    }
    out
}

/// An ActionResult's output files as (path, sha256, size), checked against
/// remote_execution.proto: ActionResult.output_files = 2 (OutputFile:
/// path = 1, digest = 2, is_executable = 4), Digest: hash = 1,
/// size_bytes = 2; nothing else set but exit_code = 4, which is 0.
fn action_result(bytes: &[u8]) -> Vec<(String, String, u64)> {
    let mut files = Vec::new();
    for (num, wt, payload, v) in fields(bytes) {
        match (num, wt) {
            (2, 2) => {
                let (mut path, mut hash, mut size) = (String::new(), String::new(), 0);
                for (n, w, p, v) in fields(&payload) {
                    match (n, w) {
                        (1, 2) => path = String::from_utf8(p).unwrap(),
                        (2, 2) => {
                            for (dn, dw, dp, dv) in fields(&p) {
                                match (dn, dw) {
                                    (1, 2) => hash = String::from_utf8(dp).unwrap(),
                                    (2, 0) => size = dv,
                                    other => panic!("Digest field {other:?}"),
                                }
                            }
                        }
                        (4, 0) => assert!(v <= 1, "is_executable is a bool"),
                        other => panic!("OutputFile field {other:?}"),
                    }
                }
                assert_eq!(hash.len(), 64, "{path}: {hash}");
                files.push((path, hash, size));
            }
            (4, 0) => assert_eq!(v, 0, "exit code"),
            other => panic!("ActionResult field {other:?}"),
        }
    }
    files
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_second_machine_gets_the_sysroot_from_the_cache_without_compiling() {
    let nginx = Nginx::start(&tempdir());
    let built = first_machine(&nginx);

    // The record is an ActionResult whose every digest is in the CAS with
    // that content; content went up before the record naming it.
    let cas: std::collections::BTreeMap<String, Vec<u8>> = nginx.cas().into_iter().collect();
    let ac = nginx.ac();
    assert_eq!(
        ac.len(),
        1,
        "one record: this configuration from these sources"
    );
    let mut named = 0;
    for (_, rec) in &ac {
        for (path, hash, size) in action_result(rec) {
            let blob = cas
                .get(&hash)
                .unwrap_or_else(|| panic!("{path} not in the CAS"));
            assert_eq!(sha256(blob), hash);
            assert_eq!(blob.len() as u64, size);
            named += 1;
        }
    }
    assert_eq!(named, built.len(), "every sysroot file");
    let puts: Vec<String> = nginx
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("PUT"))
        .collect();
    let first_ac = puts.iter().position(|r| r.contains("/ac/")).unwrap();
    assert!(
        first_ac == puts.len() - 1 && puts[..first_ac].iter().all(|r| r.contains("/cas/")),
        "content before the record: {puts:#?}"
    );

    // Another machine: its sources elsewhere, its own store; no compile.
    let b = Machine::new();
    let err = b.build(&nginx.url());
    assert!(
        err.contains(&format!("downloaded from {} the sysroot", nginx.url())),
        "{err}"
    );
    assert!(warnings(&err).is_empty(), "{err}");
    assert_eq!(b.compiled(), 0, "no rustc ran for the sysroot");
    assert!(
        !b.store.join("sysroots/build").exists(),
        "no build directory"
    );
    assert_eq!(contents(&b.sysroot()), built);
    assert!(
        b.cache_list()
            .contains(&format!("downloaded from {}", nginx.url())),
        "{}",
        b.cache_list()
    );
    assert!(contents(&b.sysroot()).len() > 2);

    // Its next build is a local hit: not one request.
    let before = nginx.requests().len();
    let err = b.build(&nginx.url());
    assert!(err.contains("reusing sysroot"), "{err}");
    assert_eq!(
        nginx.requests().len(),
        before,
        "a local hit uses no network"
    );
}

#[test]
fn different_sources_miss_and_add_a_record_beside_the_first() {
    let nginx = Nginx::start(&tempdir());
    let built = first_machine(&nginx);

    // Edited core: another key (the inputs differ); built here and
    // uploaded beside the first.
    let c = Machine::new();
    let f = c.library.join("core/src/lib.rs");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, format!("{text}\n// edited\n")).unwrap();
    let err = c.build(&nginx.url());
    assert!(
        err.contains("has no sysroot of this configuration and these sources"),
        "{err}"
    );
    assert!(err.contains("built sysroot"), "{err}");
    assert!(c.compiled() > 0);
    assert!(err.contains("uploaded the sysroot"), "{err}");

    // The original sources still hit the first record, and the edited
    // ones the second.
    let d = Machine::new();
    let err = d.build(&nginx.url());
    assert!(err.contains("downloaded from"), "{err}");
    assert_eq!(d.compiled(), 0);
    assert_eq!(contents(&d.sysroot()), built);
    let e = Machine::new();
    std::fs::write(
        e.library.join("core/src/lib.rs"),
        format!("{text}\n// edited\n"),
    )
    .unwrap();
    let err = e.build(&nginx.url());
    assert!(err.contains("downloaded from"), "{err}");
    assert_eq!(e.compiled(), 0);
    assert_eq!(contents(&e.sysroot()), contents(&c.sysroot()));
}

#[test]
fn a_sysroot_of_one_compiler_is_never_another_compilers() {
    let nginx = Nginx::start(&tempdir());
    let built = first_machine(&nginx);
    // Another release of the compiler, the same sources: a miss, built
    // here and uploaded as a family of its own.
    let other = fake_compiler("1.90.0");
    let b = Machine::new();
    let err = ok(&b.cmd(&nginx.url()).env("RUSTC", &other).output().unwrap());
    assert!(!err.contains("downloaded"), "{err}");
    assert!(b.compiled() > 0, "built with the other compiler");
    assert!(err.contains("uploaded the sysroot"), "{err}");
    assert_eq!(nginx.ac().len(), 2, "a record for each compiler");
    // Each compiler still gets its own.
    let c = Machine::new();
    assert!(c.build(&nginx.url()).contains("downloaded from"));
    assert_eq!(c.compiled(), 0);
    assert_eq!(contents(&c.sysroot()), built);
    let d = Machine::new();
    let err = ok(&d.cmd(&nginx.url()).env("RUSTC", &other).output().unwrap());
    assert!(err.contains("downloaded from"), "{err}");
    assert_eq!(d.compiled(), 0);
    // Side by side in one store: two entries, each reused by its compiler.
    let err = ok(&c.cmd(&nginx.url()).env("RUSTC", &other).output().unwrap());
    assert!(err.contains("downloaded from"), "{err}");
    let list = c.cache_list();
    assert_eq!(
        list.lines()
            .filter(|l| l.contains("downloaded from"))
            .count(),
        2,
        "{list}"
    );
    assert!(c.build(&nginx.url()).contains("reusing sysroot"));
    let err = ok(&c.cmd(&nginx.url()).env("RUSTC", &other).output().unwrap());
    assert!(err.contains("reusing sysroot"), "{err}");
}

/// A second machine behind `fault`: one warning line naming `expect`, a
/// local build, and the same sysroot as the first machine's.
fn faulty(fault: Option<Fault>, expect: &str) {
    let nginx = Nginx::start(&tempdir());
    let built = first_machine(&nginx);
    let (url, _proxy) = match fault {
        Some(f) => {
            let p = FaultProxy::start(nginx.port, f);
            (p.url(), Some(p))
        }
        None => (format!("http://127.0.0.1:{}", free_port()), None),
    };
    let b = Machine::new();
    let err = b.build(&url);
    let w = warnings(&err);
    assert_eq!(w.len(), 1, "one warning line: {err}");
    assert!(w[0].contains(expect), "{expect:?} in {err}");
    assert!(w[0].contains("building the sysroot here"), "{err}");
    assert!(err.contains("built sysroot"), "{err}");
    assert!(b.compiled() > 0);
    assert_eq!(contents(&b.sysroot()), built);
    assert!(b.cache_list().contains("built here"));
}

#[test]
fn a_refused_connection_is_one_warning_and_a_local_build() {
    faulty(None, "connection refused");
}

#[test]
fn a_stalled_cache_times_out_into_a_local_build() {
    faulty(Some(Fault::Stall), "no answer within the timeout");
}

#[test]
fn a_server_error_is_one_warning_and_a_local_build() {
    faulty(Some(Fault::Status(500)), "HTTP 500");
}

#[test]
fn a_truncated_blob_is_never_used() {
    faulty(
        Some(Fault::Truncate),
        "closed before the whole answer arrived",
    );
}

#[test]
fn a_corrupted_blob_is_never_used() {
    faulty(Some(Fault::Corrupt), "SHA-256");
}

#[test]
fn a_record_pointing_at_missing_content_is_one_warning_and_a_local_build() {
    let nginx = Nginx::start(&tempdir());
    let built = first_machine(&nginx);
    // The cache evicted the sysroot's content but kept the records.
    for (name, bytes) in nginx.cas() {
        if !bytes.starts_with(b"{\"format\"") {
            std::fs::remove_file(nginx.root.join("cas").join(name)).unwrap();
        }
    }
    let b = Machine::new();
    let err = b.build(&nginx.url());
    let w = warnings(&err);
    assert_eq!(w.len(), 1, "{err}");
    assert!(w[0].contains("which the cache does not have"), "{err}");
    assert!(err.contains("built sysroot"), "{err}");
    assert_eq!(contents(&b.sysroot()), built);
    // Its upload put the content back: the next machine downloads.
    let c = Machine::new();
    let err = c.build(&nginx.url());
    assert!(err.contains("downloaded from"), "{err}");
    assert_eq!(c.compiled(), 0);
}

#[test]
fn a_cache_that_has_nothing_is_a_plain_miss() {
    let nginx = Nginx::start(&tempdir());
    let proxy = FaultProxy::start(nginx.port, Fault::Status(404));
    let a = Machine::new();
    let o = a.cmd(&proxy.url()).output().unwrap();
    let err = ok(&o);
    assert!(
        err.contains("has no sysroot of this configuration"),
        "{err}"
    );
    assert!(err.contains("built sysroot"), "{err}");
    // Uploading into a 404 is a fault: one warning, the build stands.
    let w = warnings(&err);
    assert_eq!(w.len(), 1, "{err}");
    assert!(w[0].contains("HTTP 404"), "{err}");
}

#[test]
fn a_refused_upload_is_one_warning_and_the_build_stands() {
    let nginx = Nginx::start(&tempdir());
    let proxy = FaultProxy::start(nginx.port, Fault::PutStatus(413));
    let a = Machine::new();
    let err = a.build(&proxy.url());
    let w = warnings(&err);
    assert_eq!(w.len(), 1, "{err}");
    assert!(w[0].contains("413"), "{err}");
    assert!(w[0].contains("client_max_body_size 0"), "{err}");
    assert!(err.contains("built sysroot"), "{err}");
    assert!(nginx.ac().is_empty(), "nothing recorded");
}

#[test]
fn a_reader_only_machine_never_writes() {
    let nginx = Nginx::start(&tempdir());
    let a = Machine::new();
    let o = a
        .cmd(&nginx.url())
        .env("SYSGEN_REMOTE_CACHE_UPLOAD", "0")
        .output()
        .unwrap();
    let err = ok(&o);
    assert!(err.contains("built sysroot"), "{err}");
    assert!(
        nginx.requests().iter().all(|r| !r.starts_with("PUT")),
        "{:?}",
        nginx.requests()
    );
    assert!(nginx.ac().is_empty());
}

#[test]
fn credentials_reach_the_cache_and_nothing_else() {
    let (user, password, token) = ("builder", "s3cret-pass", "t0ken-value");
    let nginx = Nginx::start_with(
        &tempdir(),
        Access {
            user: Some((user, password)),
            header: Some(("x-cache-token", token)),
            ..Access::default()
        },
    );
    let authed = format!("http://{user}:{password}@127.0.0.1:{}", nginx.port);
    let a = Machine::new();
    let o = a
        .cmd(&authed)
        .env(
            "SYSGEN_REMOTE_CACHE_HEADER",
            format!("X-Cache-Token: {token}"),
        )
        .output()
        .unwrap();
    let err = ok(&o);
    assert!(err.contains("uploaded the sysroot"), "{err}");
    let b = Machine::new();
    let o = b
        .cmd(&authed)
        .env(
            "SYSGEN_REMOTE_CACHE_HEADER",
            format!("X-Cache-Token: {token}"),
        )
        .output()
        .unwrap();
    let err_b = ok(&o);
    assert!(
        err_b.contains("downloaded from http://***@127.0.0.1"),
        "{err_b}"
    );
    assert_eq!(b.compiled(), 0);

    // A wrong password: one warning naming the status, never the secret.
    let c = Machine::new();
    let wrong = format!("http://{user}:wrong-{password}@127.0.0.1:{}", nginx.port);
    let o = c
        .cmd(&wrong)
        .env(
            "SYSGEN_REMOTE_CACHE_HEADER",
            format!("X-Cache-Token: {token}"),
        )
        .output()
        .unwrap();
    let err_c = ok(&o);
    let w = warnings(&err_c);
    assert_eq!(w.len(), 1, "{err_c}");
    assert!(w[0].contains("401"), "{err_c}");

    // Neither the password nor the token is in anything printed or written.
    let list = b.cache_list();
    assert!(
        list.contains("downloaded from http://***@127.0.0.1"),
        "{list}"
    );
    for text in [&err, &err_b, &err_c, &list] {
        assert!(!text.contains(password) && !text.contains(token), "{text}");
    }
    for m in [&a, &b, &c] {
        for f in files_below(&m.store) {
            let bytes = std::fs::read(m.store.join(&f)).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(password) && !text.contains(token),
                "{} holds a secret",
                f.display()
            );
        }
    }
}

#[test]
fn the_proxy_variables_are_honoured() {
    let nginx = Nginx::start(&tempdir());
    let dead = format!("http://127.0.0.1:{}", free_port());
    // Through a proxy that is down: one warning.
    let a = Machine::new();
    let o = a
        .cmd(&nginx.url())
        .env("HTTP_PROXY", &dead)
        .env("http_proxy", &dead)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    let err = ok(&o);
    assert_eq!(warnings(&err).len(), 1, "{err}");
    // NO_PROXY names the cache's host: straight to it.
    let b = Machine::new();
    let o = b
        .cmd(&nginx.url())
        .env("HTTP_PROXY", &dead)
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .unwrap();
    let err = ok(&o);
    assert!(warnings(&err).is_empty(), "{err}");
    assert!(err.contains("uploaded the sysroot"), "{err}");
}

#[test]
fn a_wrong_setting_is_a_one_line_error_before_anything_is_built() {
    let a = Machine::new();
    for (var, value, says) in [
        ("SYSGEN_REMOTE_CACHE", "ftp://cache", "only http and https"),
        ("SYSGEN_REMOTE_CACHE_UPLOAD", "maybe", "neither 0 nor 1"),
        ("SYSGEN_REMOTE_CACHE_HEADER", "no colon", "Name: value"),
        ("SYSGEN_REMOTE_CACHE_TIMEOUT", "soon", "number of seconds"),
    ] {
        let mut c = a.cmd("http://127.0.0.1:1");
        c.env(var, value);
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{var}={value}");
        let line = one_line_error(&o);
        assert!(line.contains(says), "{var}={value}: {line}");
        assert_eq!(a.compiled(), 0);
    }
}

#[test]
fn the_user_config_file_names_the_cache_and_the_environment_wins() {
    let nginx = Nginx::start(&tempdir());
    let a = Machine::new();
    let config = tempdir();
    write(
        &config.join("sysgen/config.toml"),
        &format!(
            "[remote-cache]\nurl = \"{}\"\nupload = false\n",
            nginx.url()
        ),
    );
    let o = a
        .cmd("")
        .env_remove("SYSGEN_REMOTE_CACHE")
        .env("XDG_CONFIG_HOME", &config)
        .output()
        .unwrap();
    let err = ok(&o);
    assert!(
        err.contains("has no sysroot of this configuration"),
        "{err}"
    );
    assert!(nginx.requests().iter().all(|r| !r.starts_with("PUT")));
    // The environment's upload=1 wins over the file's false.
    let b = Machine::new();
    let o = b
        .cmd("")
        .env_remove("SYSGEN_REMOTE_CACHE")
        .env("SYSGEN_REMOTE_CACHE_UPLOAD", "1")
        .env("XDG_CONFIG_HOME", &config)
        .output()
        .unwrap();
    let err = ok(&o);
    assert!(err.contains("uploaded the sysroot"), "{err}");
}

#[test]
fn a_project_cannot_name_the_remote_cache() {
    let a = Machine::new();
    write(
        &a.project.join("sysgen.toml"),
        "[remote-cache]\nurl = \"http://127.0.0.1:1\"\n",
    );
    let o = a
        .cmd("")
        .env_remove("SYSGEN_REMOTE_CACHE")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let line = one_line_error(&o);
    assert!(line.contains("cannot name a remote cache"), "{line}");
    assert!(line.contains("SYSGEN_REMOTE_CACHE"), "{line}");
}

#[test]
fn https_with_the_ca_that_ssl_cert_file_names() {
    let nginx = Nginx::start_with(
        &tempdir(),
        Access {
            tls: true,
            ..Access::default()
        },
    );
    let ca = nginx.ca_file.clone().unwrap();
    // Mozilla's roots do not know the test's CA: one warning, a local build.
    let a = Machine::new();
    let o = a
        .cmd(&nginx.url())
        .env_remove("SSL_CERT_FILE")
        .output()
        .unwrap();
    let err = ok(&o);
    let w = warnings(&err);
    assert_eq!(w.len(), 1, "{err}");
    assert!(err.contains("built sysroot"), "{err}");
    // With SSL_CERT_FILE naming it: uploaded, then downloaded elsewhere.
    let b = Machine::new();
    let o = b
        .cmd(&nginx.url())
        .env("SSL_CERT_FILE", &ca)
        .output()
        .unwrap();
    let err = ok(&o);
    assert!(err.contains("uploaded the sysroot"), "{err}");
    let c = Machine::new();
    let o = c
        .cmd(&nginx.url())
        .env("SSL_CERT_FILE", &ca)
        .output()
        .unwrap();
    let err = ok(&o);
    assert!(err.contains("downloaded from https://127.0.0.1"), "{err}");
    assert_eq!(c.compiled(), 0);
}
