//! Where the remote cache is and how to talk to it: from the environment,
//! else the user's own config file — never from a project's sysgen.toml,
//! which whoever wrote the repository controls.
//!
//! | variable                        | config file key (`[remote-cache]`) |
//! |---------------------------------|------------------------------------|
//! | `SYSGEN_REMOTE_CACHE`           | `url`                              |
//! | `SYSGEN_REMOTE_CACHE_HEADER`    | `header`                           |
//! | `SYSGEN_REMOTE_CACHE_UPLOAD`    | `upload` (default true)            |
//! | `SYSGEN_REMOTE_CACHE_TIMEOUT`   | `timeout` (seconds, default 10)    |
//!
//! Credentials (a URL's `user:password@`, the header's value) are kept out
//! of everything sysgen prints or writes: [`Url::shown`] is the only way a
//! URL leaves this module. And out of everything sysgen starts: the
//! variables are taken out of sysgen's own environment when it starts
//! ([`take_from_environment`]), so no cargo, build script, proc macro or
//! compiler below it can read the cache's write credentials.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use serde::Deserialize;

use crate::user_bail;

/// The default idle timeout: no byte for this long ends a request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest idle timeout a setting may ask for: past an hour a cache is
/// not slow but gone, and a larger number could overflow the clock.
pub const MAX_TIMEOUT_SECONDS: u64 = 3600;

/// The variables this module reads, all of them secrets or settings of the
/// cache and of no one else.
const VARIABLES: [&str; 4] = [
    "SYSGEN_REMOTE_CACHE",
    "SYSGEN_REMOTE_CACHE_HEADER",
    "SYSGEN_REMOTE_CACHE_UPLOAD",
    "SYSGEN_REMOTE_CACHE_TIMEOUT",
];

static TAKEN: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();

/// Move the remote cache's variables out of the process environment into
/// sysgen's own memory, so that nothing sysgen starts inherits them. Call
/// first thing in `main`, while sysgen has one thread.
pub fn take_from_environment() {
    let taken = VARIABLES
        .iter()
        .filter_map(|&name| {
            let value = std::env::var(name).ok();
            // SAFETY: `main` calls this before any other thread exists, so
            // nothing reads the environment concurrently.
            unsafe { std::env::remove_var(name) };
            Some((name.to_string(), value?))
        })
        .collect();
    let _ = TAKEN.set(taken);
}

#[derive(Clone)]
pub struct Settings {
    pub url: Url,
    /// An extra request header (`Name: value`), e.g. a bearer token.
    pub header: Option<(String, String)>,
    /// Whether builds made here are uploaded (`false`: a reader only).
    pub upload: bool,
    /// No progress for this long fails a request (connect, or any read or
    /// write).
    pub timeout: Duration,
}

/// A remote cache's base URL, its credentials apart.
#[derive(Clone)]
pub struct Url {
    /// `http` or `https`.
    pub scheme: String,
    /// `host[:port]`.
    pub authority: String,
    /// The path prefix, without a trailing `/` (may be empty).
    pub prefix: String,
    /// Basic-auth credentials from the URL, percent-decoded.
    pub credentials: Option<(String, String)>,
}

impl Url {
    pub fn parse(text: &str, from: &str) -> Result<Url> {
        let bad = |why: &str| -> Result<Url> {
            user_bail!(
                "{from} is not a remote cache URL ({why}); give http(s)://[user:password@]host[:port][/prefix]"
            )
        };
        let Some((scheme, rest)) = text.split_once("://") else {
            return bad("no scheme");
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return bad("only http and https are spoken");
        }
        if rest.contains(['?', '#']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("a query, fragment or space");
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (credentials, host) = match authority.rsplit_once('@') {
            Some((cred, host)) => {
                let (user, password) = cred.split_once(':').unwrap_or((cred, ""));
                (Some((decode(user), decode(password))), host)
            }
            None => (None, authority),
        };
        if host.is_empty() {
            return bad("no host");
        }
        Ok(Url {
            scheme,
            authority: host.to_string(),
            prefix: path.trim_end_matches('/').to_string(),
            credentials,
        })
    }

    /// The URL as sysgen shows and records it: credentials replaced by
    /// `***`.
    pub fn shown(&self) -> String {
        let cred = if self.credentials.is_some() {
            "***@"
        } else {
            ""
        };
        format!("{}://{cred}{}{}", self.scheme, self.authority, self.prefix)
    }

    /// The URL of `kind/hash` (`ac` or `cas`), credentials apart.
    pub fn of(&self, kind: &str, hash: &str) -> String {
        format!(
            "{}://{}{}/{kind}/{hash}",
            self.scheme, self.authority, self.prefix
        )
    }
}

/// `%XX` decoded (what a URL's userinfo may hold).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        if b[i] == b'%'
            && let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(rename = "remote-cache", default)]
    remote_cache: RemoteSection,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RemoteSection {
    url: Option<String>,
    header: Option<String>,
    upload: Option<bool>,
    timeout: Option<u64>,
}

/// The user's config file: `$XDG_CONFIG_HOME/sysgen/config.toml`, else
/// `~/.config/sysgen/config.toml`.
pub fn config_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| std::path::Path::new(d).is_absolute())
        .map(PathBuf::from)
        .or_else(|| home::home_dir().map(|h| h.join(".config")))?;
    Some(base.join("sysgen").join("config.toml"))
}

/// A variable of the remote cache: as taken from the environment at the
/// start, or (for a library user that never took them) the environment's.
fn env(name: &str) -> Option<String> {
    match TAKEN.get() {
        Some(taken) => taken
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone()),
        None => std::env::var(name).ok(),
    }
    .filter(|v| !v.is_empty())
}

impl Settings {
    /// The remote cache configured for this user, or `None`.
    pub fn load() -> Result<Option<Settings>> {
        let file = config_file();
        let section = match file.as_ref().and_then(|f| std::fs::read_to_string(f).ok()) {
            Some(text) => match toml::from_str::<ConfigFile>(&text) {
                Ok(c) => c.remote_cache,
                Err(e) => user_bail!(
                    "{}: {}; fix or remove it",
                    file.as_ref()
                        .map(|f| f.display().to_string())
                        .unwrap_or_default(),
                    crate::base::error::toml_error_line(&e, &text)
                ),
            },
            None => RemoteSection::default(),
        };
        let shown_file = || {
            format!(
                "`url` in {}",
                file.as_ref()
                    .map(|f| f.display().to_string())
                    .unwrap_or_default()
            )
        };
        let url = match (env("SYSGEN_REMOTE_CACHE"), section.url) {
            (Some(u), _) => Url::parse(&u, "SYSGEN_REMOTE_CACHE")?,
            (None, Some(u)) => Url::parse(&u, &shown_file())?,
            (None, None) => return Ok(None),
        };
        let header = match env("SYSGEN_REMOTE_CACHE_HEADER").or(section.header) {
            Some(h) => {
                let Some((name, value)) = h.split_once(':') else {
                    user_bail!(
                        "SYSGEN_REMOTE_CACHE_HEADER is not `Name: value`; give e.g. `Authorization: Bearer <token>`"
                    );
                };
                let name = name.trim();
                if name.is_empty()
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
                    || value.chars().any(|c| c == '\r' || c == '\n')
                {
                    user_bail!(
                        "SYSGEN_REMOTE_CACHE_HEADER is not `Name: value` (a name of letters, digits and `-`, a value on one line)"
                    );
                }
                Some((name.to_string(), value.trim().to_string()))
            }
            None => None,
        };
        let upload = match env("SYSGEN_REMOTE_CACHE_UPLOAD").as_deref() {
            Some("0" | "false" | "no") => false,
            Some("1" | "true" | "yes") => true,
            Some(other) => user_bail!(
                "SYSGEN_REMOTE_CACHE_UPLOAD={other} is neither 0 nor 1; set 0 to only read the remote cache"
            ),
            None => section.upload.unwrap_or(true),
        };
        let timeout = match (env("SYSGEN_REMOTE_CACHE_TIMEOUT"), section.timeout) {
            (Some(t), _) => match t.parse::<u64>() {
                Ok(s) if (1..=MAX_TIMEOUT_SECONDS).contains(&s) => Duration::from_secs(s),
                _ => user_bail!(
                    "SYSGEN_REMOTE_CACHE_TIMEOUT={t} is not a number of seconds from 1 to {MAX_TIMEOUT_SECONDS}; give e.g. 10"
                ),
            },
            (None, Some(s)) if !(1..=MAX_TIMEOUT_SECONDS).contains(&s) => user_bail!(
                "`timeout = {s}` in {} is not a number of seconds from 1 to {MAX_TIMEOUT_SECONDS}; give e.g. 10",
                file.as_ref()
                    .map(|f| f.display().to_string())
                    .unwrap_or_default()
            ),
            (None, Some(s)) => Duration::from_secs(s),
            (None, None) => DEFAULT_TIMEOUT,
        };
        Ok(Some(Settings {
            url,
            header,
            upload,
            timeout,
        }))
    }
}
