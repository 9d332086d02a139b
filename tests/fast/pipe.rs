//! Pipelined compilation (`sysgen pipe-begin` / `pipe-end`), specified with
//! a stand-in compiler: a shell script that speaks rustc's JSON protocol and
//! waits for a "go" file before it "generates code", so each test decides
//! exactly when the codegen half ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FAKE_RUSTC: &str = r#"#!/bin/sh
# fake-rustc MODE RMETA RLIB GO
mode=$1 rmeta=$2 rlib=$3 go=$4
printf '%s\n' '{"$message_type":"diagnostic","message":"w","rendered":"warning: from the front end\n"}' >&2
if [ "$mode" = needs-env ] && [ "${EDGE_ONLY_VAR:-}" != from-the-edge ]; then
  echo 'error: only accepted on the nightly compiler' >&2
  exit 1
fi
[ -n "${PID_FILE:-}" ] && echo $$ > "$PID_FILE"
# The nice value this process runs at (field 19 of /proc/PID/stat).
nice() { awk '{ print $19 }' /proc/$$/stat; }
[ "$mode" = nice ] && nice > "$rmeta.front-end-nice"
if [ "$mode" = early-error ]; then
  printf '%s\n' '{"$message_type":"diagnostic","message":"e","rendered":"error: type check failed\n"}' >&2
  exit 1
fi
echo meta > "$rmeta"
echo '{"$message_type":"artifact","artifact":"'"$rmeta"'","emit":"metadata"}' >&2
while [ ! -e "$go" ]; do sleep 0.01; done
[ "$mode" = nice ] && nice > "$rmeta.code-generation-nice"
if [ "$mode" = late-error ]; then
  echo 'plain text from an LLVM crash' >&2
  exit 3
fi
echo lib > "$rlib"
"#;

struct Pipe {
    root: PathBuf,
}

impl Pipe {
    fn new() -> Pipe {
        let root = crate::support::tempdir();
        let fake = root.join("fake-rustc");
        std::fs::write(&fake, FAKE_RUSTC).unwrap();
        Command::new("chmod").arg("+x").arg(&fake).status().unwrap();
        Pipe { root }
    }
    fn p(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
    fn begin(&self, mode: &str) -> Output {
        self.begin_with(mode, &[])
    }
    fn begin_with(&self, mode: &str, env: &[(&str, &str)]) -> Output {
        self.begin_args(mode, env, &[])
    }
    fn begin_args(&self, mode: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .envs(env.iter().copied())
            .arg("pipe-begin")
            .args(args)
            .arg("--mkdir")
            .arg(self.p("out"))
            .arg(self.p("state"))
            .arg("--")
            .arg(self.p("fake-rustc"))
            .arg(mode)
            .args([self.p("lib.rmeta"), self.p("lib.rlib"), self.p("go")])
            .output()
            .unwrap()
    }
    fn end(&self) -> Output {
        self.end_with(&[])
    }
    fn end_with(&self, env: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .envs(env.iter().copied())
            .arg("pipe-end")
            .arg(self.p("state"))
            .args([self.p("lib.rmeta"), self.p("lib.rlib")])
            .output()
            .unwrap()
    }
    fn go(&self) {
        std::fs::write(self.p("go"), "").unwrap();
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn exists(p: &Path) -> bool {
    p.exists()
}

#[test]
fn begin_returns_once_the_metadata_exists_and_end_waits_for_the_rlib() {
    let t = Pipe::new();
    let b = t.begin("ok");
    assert!(b.status.success(), "{}", stderr(&b));
    assert!(exists(&t.p("lib.rmeta")), "the metadata is written");
    assert!(
        !exists(&t.p("lib.rlib")),
        "begin returned while the compiler was still generating code"
    );
    t.go();
    let e = t.end();
    assert!(e.status.success(), "{}", stderr(&e));
    assert!(
        exists(&t.p("lib.rlib")),
        "end returns after the rlib exists"
    );
    assert!(
        stderr(&e).contains("warning: from the front end"),
        "diagnostics are printed as rustc renders them: {}",
        stderr(&e)
    );
    assert!(
        !stderr(&e).contains("$message_type"),
        "no raw JSON reaches the user"
    );
}

#[test]
fn a_front_end_error_fails_the_metadata_edge_with_the_compilers_message() {
    let t = Pipe::new();
    let b = t.begin("early-error");
    assert_eq!(b.status.code(), Some(1));
    assert!(
        stderr(&b).contains("error: type check failed"),
        "{}",
        stderr(&b)
    );
    assert!(!exists(&t.p("lib.rmeta")));
}

#[test]
fn a_codegen_error_fails_the_rlib_edge_and_forgets_the_metadata() {
    let t = Pipe::new();
    t.go();
    let b = t.begin("late-error");
    assert!(b.status.success(), "{}", stderr(&b));
    let e = t.end();
    assert_eq!(
        e.status.code(),
        Some(3),
        "the compiler's status reaches ninja"
    );
    assert!(
        stderr(&e).contains("plain text from an LLVM crash"),
        "{}",
        stderr(&e)
    );
    assert!(
        !exists(&t.p("lib.rmeta")),
        "the .rmeta is removed, so the next build compiles the crate again"
    );
}

#[test]
fn a_deleted_rlib_is_compiled_again_by_the_end_edge() {
    let t = Pipe::new();
    t.go();
    assert!(t.begin("ok").status.success());
    assert!(t.end().status.success());
    // An old time, as Ninja's deps log records it for the begin edge.
    let then = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30);
    let rmeta = std::fs::File::options().write(true).open(t.p("lib.rmeta"));
    rmeta.unwrap().set_modified(then).unwrap();
    std::fs::remove_file(t.p("lib.rlib")).unwrap();
    let e = t.end();
    assert!(e.status.success(), "{}", stderr(&e));
    assert!(exists(&t.p("lib.rlib")), "the recorded command ran again");
    // The same .rmeta keeps its time, or the next build would start over
    // from this crate (found after a killed build: every later build
    // compiled core and all that depends on it again).
    let mtime = std::fs::metadata(t.p("lib.rmeta")).unwrap().modified();
    assert_eq!(mtime.unwrap(), then);
}

#[test]
fn a_recompile_in_the_end_edge_runs_with_the_variables_of_the_edge_and_records_no_other() {
    let t = Pipe::new();
    t.go();
    // The build file's variable, and a secret of the user's environment.
    let env = [
        ("EDGE_ONLY_VAR", "from-the-edge"),
        ("MY_TOKEN", "hunter2-secret"),
    ];
    let b = t.begin_with("needs-env", &env);
    assert!(b.status.success(), "{}", stderr(&b));
    assert!(t.end().status.success());
    std::fs::remove_file(t.p("lib.rlib")).unwrap();
    // The end edge's command line sets the build file's variables too
    // (lower/layout.rs): the recompile gets them from there.
    let e = t.end_with(&env[..1]);
    assert!(e.status.success(), "{}", stderr(&e));
    assert!(exists(&t.p("lib.rlib")));
    // Nothing of the environment is written down.
    let record = std::fs::read_to_string(t.p("state/command.json")).unwrap();
    assert!(
        !record.contains("hunter2-secret") && !record.contains("EDGE_ONLY_VAR"),
        "{record}"
    );
}

#[test]
fn the_compiler_stops_when_the_build_that_began_it_is_gone() {
    let t = Pipe::new();
    // The "build": a process the begin edge names as its build.
    let mut build = Command::new("sleep").arg("600").spawn().unwrap();
    let pid_file = t.p("rustc.pid");
    let b = t.begin_with(
        "ok",
        &[
            ("SYSGEN_BUILD_PID", &build.id().to_string()),
            ("PID_FILE", pid_file.to_str().unwrap()),
        ],
    );
    assert!(b.status.success(), "{}", stderr(&b));
    let rustc: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        crate::support::process_alive(rustc),
        "the compiler is generating code"
    );
    build.kill().unwrap();
    build.wait().unwrap();
    crate::support::wait_until("the compiler is gone", || {
        !crate::support::process_alive(rustc)
    });
    t.go();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        !exists(&t.p("lib.rlib")),
        "nothing is written after the build stopped"
    );
    assert!(
        !exists(&t.p("state/status")),
        "no status: the next build compiles again"
    );
    // The next build's end edge compiles it again.
    let e = t.end();
    assert!(e.status.success(), "{}", stderr(&e));
    assert!(exists(&t.p("lib.rlib")));
}

/// The race of a pipelined build under load: rustc, started by the metadata
/// edge, writes the rlib into the sysroot's lib directory long before Ninja
/// runs the codegen edge, whose output that directory is. With one job slot
/// and a compiler that finishes at once, the codegen edge always comes late.
#[test]
fn a_pipelined_compile_never_waits_for_its_second_edge_to_create_directories() {
    for jobs in [&["-j1"][..], &[][..]] {
        let t = crate::support::tempdir();
        let o = crate::support::sysgen_fake(
            &t,
            &[
                "ninja",
                "--target",
                "x86_64-unknown-linux-gnu",
                "--target",
                "thumbv6m-none-eabi",
                "-o",
                "out",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let o = Command::new("ninja")
            .arg("-C")
            .arg(t.join("out"))
            .args(jobs)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "ninja {jobs:?}:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(&o)
        );
        assert!(
            t.join("out/sysroot/lib/rustlib/thumbv6m-none-eabi/lib/libcore.rlib")
                .is_file()
        );
    }
}

/// A jobserver of `tokens` free tokens (a named pipe), kept open by the
/// test: (its MAKEFLAGS, the pipe).
fn jobserver(t: &Pipe, tokens: usize) -> (String, std::fs::File) {
    use std::io::Write;
    let path = t.p("jobserver");
    let o = Command::new("mkfifo").arg(&path).output().unwrap();
    assert!(o.status.success());
    let mut f = std::fs::File::options()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    f.write_all(&vec![b'|'; tokens]).unwrap();
    (format!("-j2 --jobserver-auth=fifo:{}", path.display()), f)
}

/// The tokens a jobserver pipe holds now (read without waiting).
fn free_tokens(path: &Path) -> usize {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .unwrap();
    let mut buf = [0u8; 64];
    let n = f.read(&mut buf).unwrap_or(0);
    // Put them back.
    use std::io::Write;
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .write_all(&buf[..n])
        .unwrap();
    n
}

/// cargo's accounting under a jobserver: a rustc stands on one slot until
/// it exits. A pipelined compile's edge ends (and ninja gives its slot to
/// the next job) only once a second slot is in hand for the code
/// generation still to come, or once rustc exits; the token goes back when
/// rustc exits.
#[test]
fn the_edge_ends_at_the_metadata_only_with_a_token_for_the_code_generation() {
    use std::io::Write;
    let spawn = |t: &Pipe, flags: &str| {
        Command::new(env!("CARGO_BIN_EXE_sysgen"))
            .env("MAKEFLAGS", flags)
            .env("CARGO_MAKEFLAGS", flags)
            .arg("pipe-begin")
            .arg("--mkdir")
            .arg(t.p("out"))
            .arg(t.p("state"))
            .arg("--")
            .arg(t.p("fake-rustc"))
            .arg("ok")
            .args([t.p("lib.rmeta"), t.p("lib.rlib"), t.p("go")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let ended = |c: &mut std::process::Child| c.try_wait().unwrap().is_some();
    let settle = || std::thread::sleep(std::time::Duration::from_millis(400));

    // No token free: the edge keeps its slot until rustc exits.
    let t = Pipe::new();
    let (flags, _pool) = jobserver(&t, 0);
    let mut b = spawn(&t, &flags);
    crate::support::wait_until("the metadata", || exists(&t.p("lib.rmeta")));
    settle();
    assert!(
        !ended(&mut b),
        "the edge ended with no slot for the code generation"
    );
    t.go();
    assert!(b.wait().unwrap().success());
    assert!(t.end().status.success());
    assert_eq!(free_tokens(&t.p("jobserver")), 0, "no token was made up");

    // A token comes free: the edge ends while rustc generates code on it,
    // and the token goes back when rustc exits.
    let t = Pipe::new();
    let (flags, _pool) = jobserver(&t, 0);
    let mut b = spawn(&t, &flags);
    crate::support::wait_until("the metadata", || exists(&t.p("lib.rmeta")));
    settle();
    assert!(!ended(&mut b));
    std::fs::File::options()
        .write(true)
        .open(t.p("jobserver"))
        .unwrap()
        .write_all(b"|")
        .unwrap();
    crate::support::wait_until("the edge ends", || ended(&mut b));
    assert!(!exists(&t.p("lib.rlib")), "rustc still generates code");
    assert_eq!(free_tokens(&t.p("jobserver")), 0, "the token is held");
    t.go();
    let e = t.end();
    assert!(e.status.success(), "{}", stderr(&e));
    crate::support::wait_until("the token is back", || free_tokens(&t.p("jobserver")) == 1);
}

/// This process's nice value.
fn own_nice() -> i32 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    rest.split_whitespace().nth(16).unwrap().parse().unwrap()
}

/// (front end, code generation) nice values of one pipelined compile.
fn nice_of_a_compile(args: &[&str], env: &[(&str, &str)]) -> (i32, i32) {
    let t = Pipe::new();
    let b = t.begin_args("nice", env, args);
    assert!(b.status.success(), "{}", stderr(&b));
    t.go();
    let e = t.end();
    assert!(e.status.success(), "{}", stderr(&e));
    let read = |what: &str| -> i32 {
        std::fs::read_to_string(t.p(&format!("lib.rmeta.{what}-nice")))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    (read("front-end"), read("code-generation"))
}

#[test]
fn code_generation_after_the_metadata_runs_below_every_front_end() {
    let base = own_nice();
    let lower = |n: i32| (base + n).min(19);
    assert_eq!(
        nice_of_a_compile(&[], &[]),
        (base, lower(10)),
        "a front end on the critical path keeps the build's priority; its code generation goes 10 steps down"
    );
    assert_eq!(
        nice_of_a_compile(&["--background"], &[]),
        (lower(5), lower(15)),
        "a front end off the critical path runs 5 steps down, its code generation 10 more"
    );
    assert_eq!(
        nice_of_a_compile(&["--background"], &[("SYSGEN_PRIORITIES", "0")]),
        (base, base),
        "SYSGEN_PRIORITIES=0 leaves every priority alone"
    );
}
