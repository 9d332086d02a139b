//! A real remote build cache for the tests: nginx with its WebDAV module
//! (Debian's `nginx-light`, installed by `scripts/setup`) serving Bazel's
//! HTTP cache protocol on 127.0.0.1 at a free port, and a small proxy in
//! front of it that injects one fault.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A running nginx; stopped when dropped.
pub struct Nginx {
    pub port: u16,
    /// Where it keeps `ac/` and `cas/`.
    pub root: PathBuf,
    /// The CA that signed its certificate, when it serves HTTPS.
    pub ca_file: Option<PathBuf>,
    dir: PathBuf,
    child: Child,
}

/// Who may use the cache.
#[derive(Default)]
pub struct Access<'a> {
    /// Basic auth: user and password.
    pub user: Option<(&'a str, &'a str)>,
    /// A header every request must carry: name (lower case) and value.
    pub header: Option<(&'a str, &'a str)>,
    /// Serve HTTPS with a certificate for 127.0.0.1 from a CA of the
    /// test's own ([`Nginx::ca_file`]).
    pub tls: bool,
}

/// A CA and a certificate it signed for 127.0.0.1, made with openssl in
/// `dir`: (CA file, certificate, key).
fn test_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let o = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .expect("openssl");
        assert!(
            o.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec[..],
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=sysgen test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec[..],
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what} did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Nginx {
    pub fn start(dir: &Path) -> Nginx {
        Self::start_with(dir, Access::default())
    }

    pub fn start_with(dir: &Path, access: Access) -> Nginx {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .expect("nginx is not installed: run scripts/setup (it installs Debian's nginx-light)");
        let root = dir.join("cache");
        for d in ["cache/ac", "cache/cas", "tmp", "logs"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let port = free_port();
        let user = if unsafe { libc::geteuid() } == 0 {
            "user root;"
        } else {
            ""
        };
        let mut auth = String::new();
        if let Some((u, p)) = access.user {
            std::fs::write(dir.join("htpasswd"), format!("{u}:{{PLAIN}}{p}\n")).unwrap();
            auth.push_str(&format!(
                "auth_basic \"cache\"; auth_basic_user_file {};\n",
                dir.join("htpasswd").display()
            ));
        }
        if let Some((name, value)) = access.header {
            let var = name.replace('-', "_");
            auth.push_str(&format!(
                "if ($http_{var} != \"{value}\") {{ return 401; }}\n"
            ));
        }
        let (mut listen, mut ca_file) = (format!("127.0.0.1:{port}"), None);
        if access.tls {
            let (ca, cert, key) = test_certificates(dir);
            listen = format!(
                "127.0.0.1:{port} ssl; ssl_certificate {}; ssl_certificate_key {}",
                cert.display(),
                key.display()
            );
            ca_file = Some(ca);
        }
        let d = dir.display();
        let conf = format!(
            r#"daemon off;
master_process off;
worker_processes 1;
{user}
pid {d}/nginx.pid;
error_log {d}/logs/error.log;
events {{ worker_connections 256; }}
http {{
  access_log {d}/logs/access.log;
  client_body_temp_path {d}/tmp/body;
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
  server {{
    listen {listen};
    root {d}/cache;
    client_max_body_size 0;
    location / {{
      {auth}
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }}
  }}
}}
"#
        );
        std::fs::write(dir.join("nginx.conf"), conf).unwrap();
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("logs/error.log"))
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_port(port, "nginx");
        Nginx {
            port,
            root,
            ca_file,
            dir: dir.to_path_buf(),
            child,
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.ca_file.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Every blob in the CAS: (name, bytes).
    pub fn cas(&self) -> Vec<(String, Vec<u8>)> {
        self.stored("cas")
    }

    /// Every record in the action cache.
    pub fn ac(&self) -> Vec<(String, Vec<u8>)> {
        self.stored("ac")
    }

    fn stored(&self, kind: &str) -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(self.root.join(kind))
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// The access log: one line a request (`METHOD /path STATUS`).
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("logs/access.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let q = l.split('"').nth(1)?;
                let status = l.split('"').nth(2)?.split_whitespace().next()?;
                let mut parts = q.split_whitespace();
                Some(format!("{} {} {status}", parts.next()?, parts.next()?))
            })
            .collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the proxy does to the requests it forwards.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Accept, read the request, never answer.
    Stall,
    /// Answer every request with this status.
    Status(u16),
    /// Answer `PUT`s with this status; forward the rest.
    PutStatus(u16),
    /// Forward; cut the body of every `GET /cas/…` of more than 64 bytes
    /// in half (its Content-Length unchanged), then close.
    Truncate,
    /// Forward; flip a byte in the body of every `GET /cas/…` of more than
    /// 64 bytes.
    Corrupt,
}

/// A proxy on 127.0.0.1 in front of a server, injecting one [`Fault`].
pub struct FaultProxy {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    pub fn start(upstream: u16, fault: Fault) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                std::thread::spawn(move || {
                    let _ = serve(conn, upstream, fault);
                });
            }
        });
        FaultProxy { port, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One request: head lines and body.
fn read_request(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<(Vec<String>, Vec<u8>)>> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end().to_string();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let len = head
        .iter()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(Some((head, body)))
}

fn serve(conn: TcpStream, upstream: u16, fault: Fault) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    if let Some((head, body)) = read_request(&mut reader)? {
        let mut first = head[0].split_whitespace();
        let method = first.next().unwrap_or("").to_string();
        let path = first.next().unwrap_or("").to_string();
        let status = match fault {
            Fault::Stall => {
                std::thread::sleep(Duration::from_secs(120));
                return Ok(());
            }
            Fault::Status(s) => Some(s),
            Fault::PutStatus(s) if method == "PUT" => Some(s),
            _ => None,
        };
        if let Some(s) = status {
            write!(
                out,
                "HTTP/1.1 {s} Injected\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )?;
            return Ok(());
        }
        // Forward, one request a connection.
        let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
        for l in &head {
            if l.to_ascii_lowercase().starts_with("connection:") {
                continue;
            }
            write!(up, "{l}\r\n")?;
        }
        write!(up, "Connection: close\r\n\r\n")?;
        up.write_all(&body)?;
        let mut resp = Vec::new();
        up.read_to_end(&mut resp)?;
        let split = resp
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| i + 4)
            .unwrap_or(resp.len());
        let (rhead, rbody) = resp.split_at(split);
        let touched = method == "GET" && path.contains("/cas/") && rbody.len() > 64;
        match fault {
            Fault::Truncate if touched => {
                out.write_all(rhead)?;
                out.write_all(&rbody[..rbody.len() / 2])?;
                return Ok(());
            }
            Fault::Corrupt if touched => {
                let mut b = rbody.to_vec();
                let mid = b.len() / 2;
                b[mid] ^= 0x55;
                out.write_all(rhead)?;
                out.write_all(&b)?;
                return Ok(());
            }
            _ => out.write_all(&resp)?,
        }
    }
    Ok(())
}

/// What the hostile server answers one request with.
pub enum Answer {
    /// A status, headers and a body.
    Plain(u16, Vec<(String, String)>, Vec<u8>),
    /// A 200 declaring `declared` bytes, then one byte every `every`.
    Dribble { declared: u64, every: Duration },
    /// A 200 declaring `declared` bytes, then bytes without end (until the
    /// client hangs up, or 256 MiB).
    Endless { declared: u64 },
    /// What the nginx on this port answers.
    Forward(u16),
}

/// One request the hostile server saw: method, path, headers (lower-case
/// names).
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

type Handler = dyn Fn(&str, &str) -> Answer + Send + Sync;

/// A cache that lies: an HTTP server on 127.0.0.1 only, answering each
/// request as its handler says. It stops when dropped, and every
/// connection ends by itself within a minute.
pub struct Hostile {
    pub port: u16,
    stop: Arc<AtomicBool>,
    seen: Arc<std::sync::Mutex<Vec<Seen>>>,
}

impl Hostile {
    pub fn start(handler: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let (stopped, log) = (stop.clone(), seen.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (handler, log, stopped) = (handler.clone(), log.clone(), stopped.clone());
                std::thread::spawn(move || {
                    let _ = answer(conn, &*handler, &log, &stopped);
                });
            }
        });
        Hostile { port, stop, seen }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn answer(
    conn: TcpStream,
    handler: &Handler,
    log: &std::sync::Mutex<Vec<Seen>>,
    stopped: &AtomicBool,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut out = conn;
    let Some((head, body)) = read_request(&mut reader)? else {
        return Ok(());
    };
    let mut first = head[0].split_whitespace();
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let headers = head[1..]
        .iter()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    log.lock().unwrap().push(Seen {
        method: method.clone(),
        path: path.clone(),
        headers,
    });
    let started = Instant::now();
    let over = || stopped.load(Ordering::SeqCst) || started.elapsed() > Duration::from_secs(60);
    match handler(&method, &path) {
        Answer::Plain(status, headers, body) => {
            write!(out, "HTTP/1.1 {status} Hostile\r\n")?;
            for (k, v) in headers {
                write!(out, "{k}: {v}\r\n")?;
            }
            let len = if method == "HEAD" { 0 } else { body.len() };
            write!(
                out,
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(&body[..len])?;
        }
        Answer::Dribble { declared, every } => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
            )?;
            for _ in 0..declared {
                if over() {
                    break;
                }
                out.write_all(b"x")?;
                std::thread::sleep(every);
            }
        }
        Answer::Endless { declared } => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
            )?;
            let chunk = vec![b'z'; 1 << 16];
            for _ in 0..(256 << 20) / chunk.len() {
                if over() {
                    break;
                }
                out.write_all(&chunk)?;
            }
        }
        Answer::Forward(upstream) => {
            let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
            for l in &head {
                if l.to_ascii_lowercase().starts_with("connection:") {
                    continue;
                }
                write!(up, "{l}\r\n")?;
            }
            write!(up, "Connection: close\r\n\r\n")?;
            up.write_all(&body)?;
            let mut resp = Vec::new();
            up.read_to_end(&mut resp)?;
            out.write_all(&resp)?;
        }
    }
    Ok(())
}
