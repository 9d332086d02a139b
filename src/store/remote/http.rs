//! The HTTP side of the remote cache: `GET`/`HEAD`/`PUT` of `/ac/<sha256>`
//! and `/cas/<sha256>`, as bazel-remote, BuildBuddy and nginx (WebDAV)
//! serve them. Every failure is a [`Fault`]: one line, credentials never
//! in it; the caller turns it into a warning and builds locally.

use std::io::{Read, Write};
use std::path::Path;

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

/// Records and manifests are small; a bigger one is refused.
const RECORD_LIMIT: u64 = 64 << 20;

pub struct Client {
    agent: Agent,
    settings: Settings,
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
            .build()
            .into();
        Ok(Client {
            agent,
            settings: settings.clone(),
        })
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

    /// `GET kind/hash`: the response's body when it is 200, `None` on 404.
    fn fetch(&self, kind: &str, hash: &str) -> Reply<ureq::Body> {
        let url = self.settings.url.of(kind, hash);
        let what = Self::what(kind, hash);
        let resp = self
            .headers(self.agent.get(&url))
            .call()
            .map_err(|e| fault("GET", &what, &e))?;
        match resp.status().as_u16() {
            200 => Ok(Some(resp.into_body())),
            404 => Ok(None),
            s => Err(status("GET", &what, s)),
        }
    }

    /// A record or manifest: its bytes, `None` on 404.
    pub fn get(&self, kind: &str, hash: &str) -> Reply<Vec<u8>> {
        let what = Self::what(kind, hash);
        let Some(body) = self.fetch(kind, hash)? else {
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
        let Some(body) = self.fetch("cas", sha256)? else {
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
        let resp = self
            .headers(self.agent.head(&url))
            .call()
            .map_err(|e| fault("HEAD", &what, &e))?;
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
        let resp = self
            .headers(self.agent.put(&url))
            .send(bytes)
            .map_err(|e| fault("PUT", &what, &e))?;
        put_status(&what, resp.status().as_u16())
    }

    /// `PUT` a file's content as the CAS blob `sha256`.
    pub fn put_file(&self, sha256: &str, path: &Path) -> Result<(), Fault> {
        let url = self.settings.url.of("cas", sha256);
        let what = Self::what("cas", sha256);
        let file = std::fs::File::open(path)
            .map_err(|e| Fault::content(format!("cannot read {}: {e}", path.display())))?;
        let resp = self
            .headers(self.agent.put(&url))
            .send(file)
            .map_err(|e| fault("PUT", &what, &e))?;
        put_status(&what, resp.status().as_u16())
    }
}

fn put_status(what: &str, s: u16) -> Result<(), Fault> {
    match s {
        200..=299 => Ok(()),
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
