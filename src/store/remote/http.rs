//! The HTTP side of the remote cache: `GET`/`HEAD`/`PUT` of `/ac/<sha256>`
//! and `/cas/<sha256>`, as bazel-remote, BuildBuddy and nginx (WebDAV)
//! serve them. Every failure is a [`Fault`]: one line, credentials never
//! in it; the caller turns it into a warning and builds locally.
//!
//! Bounded in time: no progress for the idle timeout ends a request, every
//! request has a deadline (three idle timeouts, plus the time its bytes
//! take at [`MIN_RATE`]), and a run spends at most [`RUN_BUDGET`] on the
//! cache. A redirect is followed only when it stays on the configured
//! scheme, host and port, and only for a read: credentials never go to
//! another origin, https never becomes http, and an upload never turns
//! into a download.

use std::cell::Cell;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use sha2::{Digest as _, Sha256};
use ureq::Agent;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::store::remote::settings::Settings;

/// What went wrong talking to the remote cache, as one line.
#[derive(Debug)]
pub struct Fault {
    pub line: String,
    /// The cache is unreachable or broken (no answer, a 5xx, a refusal),
    /// rather than missing or mangling some content: the rest of the run
    /// does not try it again. After a content fault, the upload of the
    /// local build repairs the cache.
    pub down: bool,
}

impl Fault {
    pub fn content(line: String) -> Fault {
        Fault { line, down: false }
    }

    pub fn down(line: String) -> Fault {
        Fault { line, down: true }
    }
}

/// A request's result: found (or done), absent (404), or a fault.
pub type Reply<T> = Result<Option<T>, Fault>;

/// Records are small (a few KiB for a sysroot); a bigger one is refused.
const RECORD_LIMIT: u64 = 1 << 20;

/// The slowest a transfer may average: a body that takes longer than its
/// size at this rate (after three idle timeouts) is cut off.
pub const MIN_RATE: u64 = 256 << 10;

/// The most time a run spends talking to the cache.
pub const RUN_BUDGET: Duration = Duration::from_secs(20 * 60);

/// Redirects followed at most (same origin, reads only).
const MAX_REDIRECTS: usize = 3;

pub struct Client {
    agent: Agent,
    settings: Settings,
    /// When this run first talked to the cache (the run's budget).
    started: Cell<Option<Instant>>,
}

impl Client {
    pub fn new(settings: &Settings) -> Result<Client, Fault> {
        let mut tls = TlsConfig::builder();
        // A custom CA (a company's, or a test's), as curl and OpenSSL read it.
        if let Some(file) = std::env::var_os("SSL_CERT_FILE").filter(|f| !f.is_empty()) {
            let pem = std::fs::read(&file).map_err(|e| {
                Fault::content(format!(
                    "cannot read SSL_CERT_FILE {}: {e}",
                    Path::new(&file).display()
                ))
            })?;
            let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(Fault::content(format!(
                    "SSL_CERT_FILE {} holds no certificate",
                    Path::new(&file).display()
                )));
            }
            tls = tls.root_certs(RootCerts::new_with_certs(&certs));
        }
        let t = Some(settings.timeout);
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(t)
            .timeout_resolve(t)
            .timeout_per_read(t)
            .timeout_per_write(t)
            .tls_config(tls.build())
            // HTTPS_PROXY/HTTP_PROXY/ALL_PROXY and NO_PROXY, as curl reads them.
            .proxy(ureq::Proxy::try_from_env())
            .user_agent(concat!("sysgen/", env!("CARGO_PKG_VERSION")))
            // Redirects are looked at here, one by one.
            .max_redirects(0)
            .build()
            .into();
        Ok(Client {
            agent,
            settings: settings.clone(),
            started: Cell::new(None),
        })
    }

    /// The deadline of a request that moves `bytes`: three idle timeouts
    /// plus the bytes at [`MIN_RATE`], and never past the run's budget.
    fn budget(&self, bytes: u64) -> Result<Duration, Fault> {
        let now = Instant::now();
        let start = *self.started.get().get_or_insert(now);
        self.started.set(Some(start));
        let left = RUN_BUDGET.saturating_sub(now.duration_since(start));
        if left.is_zero() {
            return Err(Fault::down(format!(
                "this run has spent {} minutes on the cache",
                RUN_BUDGET.as_secs() / 60
            )));
        }
        let request = self
            .settings
            .timeout
            .saturating_mul(3)
            .saturating_add(Duration::from_secs(bytes / MIN_RATE));
        Ok(request.min(left))
    }

    /// Where a redirect from `url` to `location` leads, if it stays on the
    /// configured scheme, host and port.
    fn same_origin(&self, url: &str, location: &str) -> Option<String> {
        let origin = format!(
            "{}://{}",
            self.settings.url.scheme, self.settings.url.authority
        );
        let target = if location.starts_with('/') && !location.starts_with("//") {
            format!("{origin}{location}")
        } else if location.contains("://") {
            location.to_string()
        } else {
            // Relative to the request's directory.
            let base = &url[..url.rfind('/').map_or(url.len(), |i| i + 1)];
            format!("{base}{location}")
        };
        let rest = target.strip_prefix(&origin)?;
        (rest.is_empty() || rest.starts_with('/')).then_some(target)
    }

    /// A `GET` or `HEAD` of `url`, following same-origin redirects.
    fn read_call(
        &self,
        method: &str,
        url: &str,
        what: &str,
        bytes: u64,
    ) -> Result<ureq::http::Response<ureq::Body>, Fault> {
        let mut url = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let budget = self.budget(bytes)?;
            let req = match method {
                "HEAD" => self.headers(self.agent.head(&url)),
                _ => self.headers(self.agent.get(&url)),
            };
            let resp = req
                .config()
                .timeout_global(Some(budget))
                .build()
                .call()
                .map_err(|e| fault(method, what, &e))?;
            let s = resp.status().as_u16();
            if !(300..400).contains(&s) {
                return Ok(resp);
            }
            let location = resp
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or("");
            match self.same_origin(&url, location) {
                Some(next) => url = next,
                None => {
                    return Err(Fault::down(format!(
                        "{method} {what}: HTTP {s}, a redirect to another origin ({}); sysgen sends credentials only to the configured one: set SYSGEN_REMOTE_CACHE to where the cache is",
                        crate::store::remote::redact_userinfo(location)
                    )));
                }
            }
        }
        Err(Fault::down(format!(
            "{method} {what}: more than {MAX_REDIRECTS} redirects"
        )))
    }

    fn headers<B>(&self, mut req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        if let Some((user, password)) = &self.settings.url.credentials {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            req = req.header("Authorization", format!("Basic {token}"));
        }
        if let Some((name, value)) = &self.settings.header {
            req = req.header(name.as_str(), value.as_str());
        }
        req
    }

    fn what(kind: &str, hash: &str) -> String {
        format!("{kind}/{}", &hash[..hash.len().min(12)])
    }

    /// `GET kind/hash` of about `bytes`: the response's body when it is
    /// 200, `None` on 404.
    fn fetch(&self, kind: &str, hash: &str, bytes: u64) -> Reply<ureq::Body> {
        let url = self.settings.url.of(kind, hash);
        let what = Self::what(kind, hash);
        let resp = self.read_call("GET", &url, &what, bytes)?;
        match resp.status().as_u16() {
            200 => Ok(Some(resp.into_body())),
            404 => Ok(None),
            s => Err(status("GET", &what, s)),
        }
    }

    /// A record or manifest: its bytes, `None` on 404.
    pub fn get(&self, kind: &str, hash: &str) -> Reply<Vec<u8>> {
        let what = Self::what(kind, hash);
        let Some(body) = self.fetch(kind, hash, RECORD_LIMIT)? else {
            return Ok(None);
        };
        let mut bytes = Vec::new();
        body.into_with_config()
            .limit(RECORD_LIMIT)
            .reader()
            .read_to_end(&mut bytes)
            .map_err(|e| Fault::down(format!("GET {what}: {}", read_error(&e))))?;
        Ok(Some(bytes))
    }

    /// A CAS blob written to `dest` (created, not replaced) only if its
    /// bytes have `sha256` and `size`; `None` on 404.
    pub fn get_blob(&self, sha256: &str, size: u64, dest: &Path) -> Reply<()> {
        let what = Self::what("cas", sha256);
        let Some(body) = self.fetch("cas", sha256, size)? else {
            return Ok(None);
        };
        let mut reader = body.into_reader();
        let mut file = std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(dest)
            .map_err(|e| Fault::content(format!("cannot write {}: {e}", dest.display())))?;
        let mut hasher = Sha256::new();
        let mut got: u64 = 0;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Fault::down(format!(
                        "GET {what}: {} after {got} of {size} bytes",
                        read_error(&e)
                    )));
                }
            };
            got += n as u64;
            if got > size {
                return Err(Fault::content(format!(
                    "GET {what}: more than the {size} bytes recorded"
                )));
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n])
                .map_err(|e| Fault::content(format!("cannot write {}: {e}", dest.display())))?;
        }
        if got != size {
            return Err(Fault::content(format!(
                "GET {what}: the body ended after {got} of {size} bytes"
            )));
        }
        let digest = hex(&hasher.finalize());
        if digest != sha256 {
            return Err(Fault::content(format!(
                "GET {what}: the content's SHA-256 is {}…, not the one it is stored under",
                &digest[..12]
            )));
        }
        Ok(Some(()))
    }

    /// Whether a CAS blob is there (a `HEAD`).
    pub fn has(&self, sha256: &str) -> Result<bool, Fault> {
        let url = self.settings.url.of("cas", sha256);
        let what = Self::what("cas", sha256);
        let resp = self.read_call("HEAD", &url, &what, 0)?;
        match resp.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            s => Err(status("HEAD", &what, s)),
        }
    }

    /// `PUT` bytes.
    pub fn put(&self, kind: &str, hash: &str, bytes: &[u8]) -> Result<(), Fault> {
        let url = self.settings.url.of(kind, hash);
        let what = Self::what(kind, hash);
        let budget = self.budget(bytes.len() as u64)?;
        let resp = self
            .headers(self.agent.put(&url))
            .config()
            .timeout_global(Some(budget))
            .build()
            .send(bytes)
            .map_err(|e| fault("PUT", &what, &e))?;
        put_status(&what, resp.status().as_u16())
    }

    /// `PUT` a file's content (`size` bytes) as the CAS blob `sha256`.
    pub fn put_file(&self, sha256: &str, path: &Path, size: u64) -> Result<(), Fault> {
        let url = self.settings.url.of("cas", sha256);
        let what = Self::what("cas", sha256);
        let file = std::fs::File::open(path)
            .map_err(|e| Fault::content(format!("cannot read {}: {e}", path.display())))?;
        let budget = self.budget(size)?;
        let resp = self
            .headers(self.agent.put(&url))
            .config()
            .timeout_global(Some(budget))
            .build()
            .send(file)
            .map_err(|e| fault("PUT", &what, &e))?;
        put_status(&what, resp.status().as_u16())
    }
}

fn put_status(what: &str, s: u16) -> Result<(), Fault> {
    match s {
        200..=299 => Ok(()),
        300..=399 => Err(Fault::down(format!(
            "PUT {what}: HTTP {s}, a redirect; sysgen never turns an upload into another request: set SYSGEN_REMOTE_CACHE to where the cache is"
        ))),
        413 => Err(Fault::down(format!(
            "PUT {what}: 413 Payload Too Large (nginx needs `client_max_body_size 0;`)"
        ))),
        s => Err(status("PUT", what, s)),
    }
}

fn status(method: &str, what: &str, s: u16) -> Fault {
    let reason = match s {
        401 | 403 => " (check the credentials)",
        _ => "",
    };
    Fault::down(format!("{method} {what}: HTTP {s}{reason}"))
}

fn fault(method: &str, what: &str, e: &ureq::Error) -> Fault {
    let why = match e {
        ureq::Error::Timeout(_) => {
            "no answer within the timeout (SYSGEN_REMOTE_CACHE_TIMEOUT)".into()
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".into()
        }
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
            ) =>
        {
            "the connection closed before the whole answer arrived".into()
        }
        other => one_line(other),
    };
    Fault::down(format!("{method} {what}: {why}"))
}

fn read_error(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            "no data within the timeout (SYSGEN_REMOTE_CACHE_TIMEOUT)".into()
        }
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
            "the connection closed before the whole answer arrived".into()
        }
        _ => one_line(e),
    }
}

fn one_line(e: &dyn std::fmt::Display) -> String {
    crate::base::error::one_line(&e.to_string())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
