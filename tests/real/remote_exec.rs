//! `sysgen bazel` on a real Remote Execution API engine: BuildGrid (its
//! CAS, action cache and SQL scheduler on PostgreSQL) on loopback, and two
//! workers of tests/remote-exec/worker.py that run every action in
//! buildbox-run's bubblewrap sandbox, which holds the action's declared
//! inputs and the read-only system directories (/usr and Debian's links
//! into it, /etc/alternatives for `cc`), nothing of the user's paths.
//! scripts/setup installs BuildGrid, PostgreSQL and buildbox-run.
//!
//! With `--remote_local_fallback=false`, every compile runs remote:
//! thumbv6m core,alloc (libcore byte-identical to Ninja's) and the host
//! std (the whole sysroot byte-identical, with a worker killed in the
//! middle); a second checkout elsewhere, its rust-src and registry sources
//! at other paths, gets every action from the action cache.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bazel::{fresh, processes};
use crate::support::*;

const BUILDGRID: &str = "/opt/buildgrid/bin";
const BUILDBOX_RUN: &str = "/usr/local/bin/buildbox-run";

fn psql(sql: &str) {
    let o = Command::new("su")
        .args(["postgres", "-c", &format!("psql -q -c \"{sql}\"")])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// BuildGrid and its workers, stopped (and the database dropped) on drop.
struct Grid {
    dir: PathBuf,
    port: u16,
    database: String,
    server: Child,
    workers: Vec<(String, Child)>,
}

impl Grid {
    fn start(dir: &Path, workers: &[&str]) -> Grid {
        // PostgreSQL's cluster (Debian's), a database of this run's own:
        // sessions of workers from an earlier run never get work.
        let _ = Command::new("pg_ctlcluster")
            .args(["15", "main", "start"])
            .status();
        let _ = Command::new("su")
            .args([
                "postgres",
                "-c",
                "psql -q -c \"CREATE USER bgd PASSWORD 'insecure'\"",
            ])
            .output();
        let database = format!("bgd_{}", std::process::id());
        let _ = Command::new("su")
            .args([
                "postgres",
                "-c",
                &format!("psql -q -c 'DROP DATABASE IF EXISTS {database}'"),
            ])
            .output();
        psql(&format!("CREATE DATABASE {database} OWNER bgd"));
        run_ok(
            Command::new(format!("{BUILDGRID}/bgd"))
                .args(["migrate", "apply"])
                .arg(format!(
                    "postgresql://bgd:insecure@127.0.0.1:5432/{database}"
                )),
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/remote-exec/buildgrid.yml"),
        )
        .unwrap()
        .replace("@PORT@", &port.to_string())
        .replace("@DATABASE@", &database);
        std::fs::create_dir_all(dir).unwrap();
        write(&dir.join("buildgrid.yml"), &config);
        let server = Command::new(format!("{BUILDGRID}/bgd"))
            .args(["server", "start"])
            .arg(dir.join("buildgrid.yml"))
            .stdout(std::fs::File::create(dir.join("server.log")).unwrap())
            .stderr(Stdio::from(
                std::fs::File::create(dir.join("server.err")).unwrap(),
            ))
            .spawn()
            .unwrap();
        let mut grid = Grid {
            dir: dir.to_path_buf(),
            port,
            database,
            server,
            workers: Vec::new(),
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "BuildGrid did not start: {}",
                std::fs::read_to_string(dir.join("server.err")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        for w in workers {
            grid.start_worker(w);
        }
        grid
    }

    fn start_worker(&mut self, name: &str) {
        let mut c = Command::new(format!("{BUILDGRID}/python"));
        c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/remote-exec/worker.py"))
            .arg(format!("--server=127.0.0.1:{}", self.port))
            .arg(format!("--name={name}"))
            .arg(format!("--buildbox-run={BUILDBOX_RUN}"))
            .arg(format!("--workdir={}", self.dir.join(name).display()))
            .arg(format!("--log={}", self.actions_log().display()))
            // The sandbox: the action's inputs, and these read-only.
            .args([
                "--ro-bind=/usr:/usr",
                "--ro-bind=/usr/bin:/bin",
                "--ro-bind=/usr/lib:/lib",
                "--ro-bind=/usr/lib64:/lib64",
                "--ro-bind=/etc/alternatives:/etc/alternatives",
            ])
            .current_dir(&self.dir)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(self.dir.join(format!("{name}.err"))).unwrap());
        // Its own process group: killed with buildbox-run and the action.
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        let mut child = c.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("session"), "{name} did not start: {line}");
        self.workers.push((name.to_string(), child));
    }

    /// Kill a worker and the action it runs, as a machine that dies.
    fn kill_worker(&mut self, name: &str) {
        let i = self.workers.iter().position(|(n, _)| n == name).unwrap();
        let (_, mut child) = self.workers.remove(i);
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        let _ = child.wait();
    }

    fn executor(&self) -> String {
        format!("--remote_executor=grpc://127.0.0.1:{}", self.port)
    }

    fn actions_log(&self) -> PathBuf {
        self.dir.join("actions.log")
    }

    /// The actions the workers ran: (worker, first output).
    fn actions(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(self.actions_log())
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let mut w = l.split(' ');
                let worker = w.next().unwrap().to_string();
                (worker, w.last().unwrap().to_string())
            })
            .collect()
    }
}

impl Drop for Grid {
    fn drop(&mut self) {
        for (_, c) in &mut self.workers {
            unsafe { libc::kill(-(c.id() as i32), libc::SIGKILL) };
            let _ = c.wait();
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = Command::new("su")
            .args([
                "postgres",
                "-c",
                &format!("psql -q -c 'DROP DATABASE IF EXISTS {}'", self.database),
            ])
            .output();
    }
}

/// `bazel --batch build` in `ws`, every action remote, no local fallback.
fn remote_build(grid: &Grid, ws: &Path, target: &str) -> Command {
    let mut c = Command::new("bazel");
    c.current_dir(ws)
        .arg("--batch")
        .arg(format!(
            "--output_base={}",
            ws.with_extension("output-base").display()
        ))
        .args(["build", &grid.executor()])
        .args([
            "--spawn_strategy=remote",
            "--remote_local_fallback=false",
            "--remote_default_exec_properties=OSFamily=linux",
            target,
        ]);
    c
}

fn count(summary: &str, what: &str) -> usize {
    summary
        .split([':', ','])
        .find(|p| p.trim_end_matches('.').ends_with(what))
        .and_then(|p| p.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn generate(ws: &Path, args: &[&str]) {
    let o = sysgen_in(ws, &[&["bazel", "-o", "."], args].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn every_bazel_action_runs_on_sandboxed_remote_workers_and_a_second_checkout_reuses_them() {
    let mut grid = Grid::start(&fresh("remote-exec-grid"), &["w1", "w2"]);

    // thumbv6m core,alloc: every compile remote, libcore Ninja's.
    let a = fresh("remote-exec-a");
    generate(&a, THUMBV6M_CORE_ALLOC);
    let sysroot = "//:sysroot-thumbv6m-none-eabi";
    let out = run_ok(&mut remote_build(&grid, &a, sysroot));
    let summary = processes(&out);
    let remote = count(&summary, "remote");
    assert!(remote >= 5, "{summary}");
    for local in ["sandbox", "local", "worker"] {
        assert!(!summary.contains(local), "nothing ran here: {summary}");
    }
    assert_eq!(grid.actions().len(), remote, "{summary}");
    let core = "lib/rustlib/thumbv6m-none-eabi/lib/libcore.rlib";
    let ninja = shared_build("thumbv6m-core-alloc", THUMBV6M_CORE_ALLOC);
    assert_eq!(
        std::fs::read(a.join("bazel-bin/sysroot-thumbv6m-none-eabi").join(core)).unwrap(),
        std::fs::read(ninja.join("sysroot").join(core)).unwrap(),
        "the remote libcore is Ninja's"
    );

    // The host std, with a worker killed in the middle of it: its lease
    // goes to the other, and the sysroot is Ninja's byte for byte.
    let h = fresh("remote-exec-host");
    generate(&h, HOST_STD);
    let before = grid.actions().len();
    let child = remote_build(&grid, &h, "//:sysroot-x86_64-unknown-linux-gnu")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while grid.actions().len() < before + 8 && start.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let spread: std::collections::BTreeSet<String> = grid.actions()[before..]
        .iter()
        .map(|(w, _)| w.clone())
        .collect();
    grid.kill_worker("w1");
    let killed_at = grid.actions().len();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    let summary = processes(&err);
    assert!(
        !summary.contains("local") && !summary.contains("sandbox"),
        "{summary}"
    );
    assert_eq!(
        spread,
        ["w1", "w2"].map(String::from).into(),
        "the work spread over both workers"
    );
    let after_kill: Vec<(String, String)> = grid.actions()[killed_at..].to_vec();
    assert!(
        !after_kill.is_empty() && after_kill.iter().all(|(w, _)| w == "w2"),
        "w2 ran what followed: {after_kill:?}"
    );
    let diffs = sysroot_differences(
        &h.join("bazel-bin/sysroot-x86_64-unknown-linux-gnu"),
        &shared_build("host-std", HOST_STD).join("sysroot"),
    );
    assert!(diffs.is_empty(), "{diffs:#?}");

    // A second checkout elsewhere (rust-src and the registry sources at
    // other paths): every action from the action cache, none run.
    let b = fresh("remote-exec-b");
    let (library, vendor) = relocated_sources(&fresh("remote-exec-b-sources"));
    let (library, vendor) = (library.to_str().unwrap(), vendor.to_str().unwrap());
    generate(
        &b,
        &[
            &["--rust-src", library, "--vendor", vendor][..],
            THUMBV6M_CORE_ALLOC,
        ]
        .concat(),
    );
    let ran = grid.actions().len();
    let summary = processes(&run_ok(&mut remote_build(&grid, &b, sysroot)));
    assert_eq!(count(&summary, "remote cache hit"), remote, "{summary}");
    assert_eq!(grid.actions().len(), ran, "no worker ran anything");
    assert_eq!(
        std::fs::read(b.join("bazel-bin/sysroot-thumbv6m-none-eabi").join(core)).unwrap(),
        std::fs::read(ninja.join("sysroot").join(core)).unwrap(),
    );
}
