//! What a remote cache can learn and do, tried as its operator (or anyone
//! on the path of a plain-http cache) would: a hostile server on
//! 127.0.0.1 that answers with crafted records, stalls, sends without end,
//! redirects elsewhere — and a real nginx for the honest part. Each test is
//! a class of promise (README, "What sysgen promises"): the cache never
//! chooses what sysgen reads and learns nothing from what it asks; what
//! comes down is a whole sysroot of this configuration or nothing; a cache
//! that misbehaves never fails, hangs or fills the disk; credentials go to
//! the configured origin only, and to no program sysgen starts.

use std::time::{Duration, Instant};

use crate::cache_server::{Answer, Hostile, Nginx};
use crate::remote::{Machine, first_machine, ok, warnings};
use crate::support::*;
use sysgen::store::remote::record;

/// A machine whose compiler_builtins build script reads SECRET (as
/// `rerun-if-env-changed`): its sysroot depends on the variable's value.
fn machine_reading_secret() -> Machine {
    let m = Machine::new();
    write(
        &m.library.join("compiler-builtins/build.rs"),
        "//! fake-script: echo cargo:rerun-if-env-changed=SECRET\nfn main() {}\n",
    );
    m
}

/// The (method, path) of every request nginx saw from index `from` on.
fn requests_from(nginx: &Nginx, from: usize) -> Vec<String> {
    nginx.requests()[from..]
        .iter()
        .map(|r| r.rsplit_once(' ').unwrap().0.to_string())
        .collect()
}

#[test]
fn what_sysgen_asks_the_cache_never_depends_on_a_local_value() {
    let nginx = Nginx::start(&tempdir());
    let a = machine_reading_secret();
    let err = ok(&a.cmd(&nginx.url()).env("SECRET", "alpha").output().unwrap());
    assert!(err.contains("uploaded the sysroot"), "{err}");

    // Another value here: the same requests as with the same value, the
    // comparison made locally, a local build, and no upload (which would
    // tell the cache the comparison's result).
    let before = nginx.requests().len();
    let b = machine_reading_secret();
    let err = ok(&b.cmd(&nginx.url()).env("SECRET", "beta").output().unwrap());
    assert!(err.contains("another value of SECRET"), "{err}");
    assert!(b.compiled() > 0);
    let asked_b = requests_from(&nginx, before);
    assert!(asked_b.iter().all(|r| !r.starts_with("PUT")), "{asked_b:?}");

    let before = nginx.requests().len();
    let c = machine_reading_secret();
    let err = ok(&c.cmd(&nginx.url()).env("SECRET", "alpha").output().unwrap());
    assert!(err.contains("downloaded from"), "{err}");
    assert_eq!(c.compiled(), 0);
    let asked_c = requests_from(&nginx, before);
    assert_eq!(
        asked_b, asked_c,
        "the cache sees the same requests whatever the local value"
    );
    assert!(asked_c.iter().any(|r| r.starts_with("GET /cas/")));
}

/// The real record of a sysroot, and a cache answering every `GET /ac/…`
/// with what `craft` makes of its files (every `/cas/…` from nginx,
/// uploads swallowed).
fn crafted(
    nginx: &Nginx,
    craft: impl Fn(Vec<record::File>) -> Vec<u8> + Send + Sync + 'static,
) -> Hostile {
    let real = record::decode(&nginx.ac()[0].1).unwrap();
    let port = nginx.port;
    Hostile::start(move |method, path| match (method, path) {
        ("GET", p) if p.starts_with("/ac/") => Answer::Plain(200, vec![], craft(real.clone())),
        ("GET" | "HEAD", p) if p.starts_with("/cas/") => Answer::Forward(port),
        _ => Answer::Plain(200, vec![], Vec::new()),
    })
}

#[test]
fn a_record_that_is_not_a_whole_sysroot_of_this_configuration_is_refused_before_any_download() {
    let nginx = Nginx::start(&tempdir());
    first_machine(&nginx);
    let readme = "4e1243bd22c66e76c2ba9eddc1f91394e57f9f83b36d75c4e1d2f6e8d9fa1c37";
    type Craft = Box<dyn Fn(Vec<record::File>) -> Vec<u8> + Send + Sync>;
    let cases: Vec<(&str, Craft)> = vec![
        ("nothing", Box::new(|_| record::encode(&[]))),
        (
            "a README",
            Box::new(move |_| {
                record::encode(&[record::File {
                    path: "sysroot/README".into(),
                    sha256: readme.into(),
                    size: 10,
                    executable: false,
                }])
            }),
        ),
        (
            "a file where a directory is",
            Box::new(|mut f| {
                let mut dir = f[0].clone();
                dir.path = "sysroot/lib/rustlib".into();
                f.push(dir);
                record::encode(&f)
            }),
        ),
        (
            "a name of 300 bytes",
            Box::new(|mut f| {
                let mut long = f[0].clone();
                long.path = format!("sysroot/{}", "x".repeat(300));
                f.push(long);
                record::encode(&f)
            }),
        ),
        (
            "4 TB",
            Box::new(|mut f| {
                for x in &mut f {
                    x.size = 4 << 40;
                }
                record::encode(&f)
            }),
        ),
        (
            "one crate missing",
            Box::new(|mut f| {
                f.retain(|x| !x.path.ends_with("libcore.rlib"));
                record::encode(&f)
            }),
        ),
    ];
    for (what, craft) in cases {
        let hostile = crafted(&nginx, craft);
        let m = Machine::new();
        let err = ok(&m.cmd(&hostile.url()).output().unwrap());
        let w = warnings(&err);
        assert_eq!(w.len(), 1, "{what}: {err}");
        assert!(w[0].contains("remote cache"), "{what}: {err}");
        assert!(m.compiled() > 0, "{what}: built here");
        assert!(
            hostile
                .seen()
                .iter()
                .all(|s| !(s.method == "GET" && s.path.starts_with("/cas/"))),
            "{what}: nothing was downloaded"
        );
        assert!(
            m.cache_list().contains("built here") && !m.cache_list().contains("downloaded"),
            "{what}: {}",
            m.cache_list()
        );
    }
}

#[test]
fn a_cache_that_dribbles_or_sends_without_end_is_cut_off() {
    // A record sent one byte at a time: the request's deadline (three idle
    // timeouts of 1 s) ends it, not the server.
    let slow = Hostile::start(|_, path| {
        if path.starts_with("/ac/") {
            Answer::Dribble {
                declared: 100_000,
                every: Duration::from_millis(400),
            }
        } else {
            Answer::Plain(404, vec![], Vec::new())
        }
    });
    let m = Machine::new();
    let t = Instant::now();
    let err = ok(&m.cmd(&slow.url()).output().unwrap());
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    assert_eq!(warnings(&err).len(), 1, "{err}");
    assert!(m.compiled() > 0);

    // Blobs without end: the download stops at the size the record
    // declares, writes no more, and the build is local.
    let nginx = Nginx::start(&tempdir());
    first_machine(&nginx);
    let real = nginx.ac()[0].1.clone();
    let endless = Hostile::start(move |method, path| match (method, path) {
        ("GET", p) if p.starts_with("/ac/") => Answer::Plain(200, vec![], real.clone()),
        ("GET", _) => Answer::Endless { declared: 1 << 40 },
        _ => Answer::Plain(200, vec![], Vec::new()),
    });
    let m = Machine::new();
    let err = ok(&m.cmd(&endless.url()).output().unwrap());
    let w = warnings(&err);
    assert_eq!(w.len(), 1, "{err}");
    assert!(w[0].contains("more than the"), "{err}");
    assert!(m.compiled() > 0);
    let leftover: u64 = files_below(&m.store)
        .iter()
        .filter(|f| f.to_string_lossy().contains(".tmp-"))
        .map(|f| {
            std::fs::metadata(m.store.join(f))
                .map(|x| x.len())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(leftover, 0, "no staging left");
}

#[test]
fn staging_no_live_sysgen_owns_is_removed_counted_and_cleaned() {
    let nginx = Nginx::start(&tempdir());
    let m = Machine::new();
    ok(&m.cmd(&nginx.url()).output().unwrap());
    // A download killed with SIGKILL: its staging directory, owned by a
    // process that is gone.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let sysroots = m.store.join("sysroots");
    let family = std::fs::read_dir(&sysroots)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| !["build", "locks"].iter().any(|n| p.ends_with(n)))
        .unwrap();
    let plant = |name: &str| {
        let d = family.join(format!(".tmp-{name}-{pid}/sysroot"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("partial.rlib"), vec![0u8; 3 << 20]).unwrap();
    };
    plant("first");
    let list = m.cache_list();
    assert!(
        list.contains("left by interrupted downloads 3.0 MiB"),
        "{list}"
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sysgen"))
        .env("SYSGEN_CACHE_DIR", &m.store)
        .args(["cache", "clean", "--older-than", "30d"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(m.cache_list().contains("left by interrupted downloads 0 B"));
    // And the next run of sysgen removes it by itself.
    plant("second");
    ok(&m.cmd(&nginx.url()).output().unwrap());
    assert!(m.cache_list().contains("left by interrupted downloads 0 B"));
}

#[test]
fn credentials_go_to_the_configured_origin_only_and_to_no_program_sysgen_starts() {
    let (user, password, token) = ("builder", "s3cret-pass", "t0ken-value");
    // Where a redirect would lead: it must never be asked.
    let elsewhere = Hostile::start(|_, _| Answer::Plain(404, vec![], Vec::new()));
    let away = format!("http://127.0.0.1:{}/ac/stolen", elsewhere.port);
    let redirecting = Hostile::start(move |method, _| match method {
        "GET" | "HEAD" => Answer::Plain(302, vec![("Location".into(), away.clone())], Vec::new()),
        _ => Answer::Plain(404, vec![], Vec::new()),
    });
    let url = format!("http://{user}:{password}@127.0.0.1:{}", redirecting.port);
    let m = Machine::new();
    let o = m
        .cmd(&url)
        .env(
            "SYSGEN_REMOTE_CACHE_HEADER",
            format!("X-Cache-Token: {token}"),
        )
        .output()
        .unwrap();
    let err = ok(&o);
    let w = warnings(&err);
    assert_eq!(w.len(), 1, "{err}");
    assert!(w[0].contains("redirect to another origin"), "{err}");
    assert!(elsewhere.seen().is_empty(), "{:?}", elsewhere.seen());
    assert!(!err.contains(password) && !err.contains(token), "{err}");

    // An upload answered with a redirect (to the same origin, even) is a
    // fault: never turned into another request.
    let moved = Hostile::start(|method, path| match method {
        "PUT" => Answer::Plain(
            301,
            vec![("Location".into(), format!("/moved{path}"))],
            Vec::new(),
        ),
        _ => Answer::Plain(404, vec![], Vec::new()),
    });
    let m = Machine::new();
    let err = ok(&m.cmd(&moved.url()).output().unwrap());
    assert!(
        err.contains("never turns an upload into another request"),
        "{err}"
    );
    assert!(
        moved.seen().iter().all(|s| !s.path.starts_with("/moved")),
        "{:?}",
        moved.seen()
    );

    // cargo, and everything below it, never sees the cache's settings.
    let log = std::fs::read_to_string(m.project.join("cargo.log")).unwrap();
    assert!(!log.contains("seen SYSGEN_REMOTE"), "{log}");
}

#[test]
fn a_timeout_setting_that_would_overflow_the_clock_is_one_line() {
    let m = Machine::new();
    let o = m
        .cmd("http://127.0.0.1:9")
        .env("SYSGEN_REMOTE_CACHE_TIMEOUT", "18446744073709551615")
        .output()
        .unwrap();
    let e = one_line_error(&o);
    assert!(e.contains("SYSGEN_REMOTE_CACHE_TIMEOUT"), "{e}");
    let config = tempdir();
    write(
        &config.join("sysgen/config.toml"),
        "[remote-cache]\nurl = \"http://127.0.0.1:9\"\ntimeout = 9223372036854775807\n",
    );
    let o = m
        .cmd("")
        .env_remove("SYSGEN_REMOTE_CACHE")
        .env_remove("SYSGEN_REMOTE_CACHE_TIMEOUT")
        .env("XDG_CONFIG_HOME", &config)
        .output()
        .unwrap();
    let e = one_line_error(&o);
    assert!(e.contains("timeout = 9223372036854775807"), "{e}");
}
