//! The store backed by a remote build cache: a sysroot missing here is
//! looked up in the cache, and one built here is uploaded to it. The cache
//! is an existing engine (bazel-remote, BuildBuddy, nginx with WebDAV)
//! spoken to in Bazel's HTTP cache protocol; sysgen runs no server.
//!
//! ## The key: computed here, from this machine's own list
//!
//! `/ac/<K>`, K = SHA-256 of the family's identity (compiler,
//! declarations, target specs: [`crate::store::key::Family`]), sysgen's
//! own build identity (its version and the SHA-256 of its executable) and
//! the digest of the inputs the local model declares ([`inputs::Inputs`]:
//! every unit's source files, every file of a package whose build script
//! runs, by root, relative path and SHA-256). Every machine computes K
//! from its own files: the cache never names a path sysgen reads, and
//! what a request reveals is one key, the same whatever the cache holds.
//! Roots make the list path-free: rust-src and the registry sources match
//! wherever they are on disk; a file outside every root (a `[patch]`
//! elsewhere) is listed by its absolute path, so it hits only where that
//! path holds the same bytes.
//!
//! The record is an `ActionResult` listing every file of the sysroot as
//! `sysroot/<path>` with its digest, and `sysgen-env.json` when the build's
//! scripts read environment variables (each name with the SHA-256 of its
//! value as the builder saw it).
//!
//! ## What comes down is a whole sysroot of this configuration, or nothing
//! Before anything is fetched, the record must list exactly the files the
//! local model says the sysroot holds (every crate library of the
//! selection for every target, and each target's provenance manifest),
//! within the sizes a sysroot can have and the disk's free space. Every
//! blob is streamed into a staging directory and checked against its
//! SHA-256 and size; the provenance manifests must be byte for byte the
//! ones this machine would write. The environment variables the record
//! names are compared here with their local values and nothing is
//! requested because of them: a mismatch means a local build, and no
//! upload in this run. The sysroot is published into the local store by
//! one rename ([`crate::store::entries::Store::publish_with`]).
//!
//! ## Trust
//! A writer of the cache can publish any sysroot under any key: give write
//! access only to machines whose builds you trust, and set
//! `SYSGEN_REMOTE_CACHE_UPLOAD=0` elsewhere. A remote that fails, stalls,
//! lies about sizes or redirects never fails a build: every fault is one
//! warning line, and the sysroot is built here.

pub mod http;
pub mod inputs;
pub mod record;
pub mod settings;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::base::fingerprint::sha256_hex;
use crate::store::entries::{BuildLock, Entry, Store};
use crate::store::key::{ENV_ROOT, Family, FileDigest};
use http::{Client, Fault};
use inputs::Inputs;
use settings::Settings;

/// The record's file that lists the environment variables the build read.
const ENV_FILE: &str = "sysgen-env.json";

/// The most a sysroot file may be (4 GiB), and all of them together
/// (32 GiB): a download that declares more is refused before it starts.
const MAX_FILE: u64 = 4 << 30;
const MAX_TOTAL: u64 = 32 << 30;
/// What a download leaves free on the store's disk.
const KEEP_FREE: u64 = 1 << 30;
/// At most this many variables in `sysgen-env.json`, of at most this size.
const MAX_ENV: usize = 1024;
const MAX_ENV_BYTES: u64 = 256 << 10;

#[derive(Serialize, Deserialize)]
struct EnvDep {
    name: String,
    sha256: String,
}

/// What this machine's model says a sysroot of its configuration holds:
/// every file below `sysroot/`, with the SHA-256 it must have where that
/// is known here (the provenance manifests, which are deterministic).
pub struct Expected {
    pub files: BTreeMap<String, Option<String>>,
}

pub struct Remote {
    settings: Settings,
    client: Client,
    /// Set after a fault: the rest of this run does not use the remote.
    failed: Cell<bool>,
    /// Set when a downloaded sysroot's environment did not match here:
    /// what this run builds is not uploaded (the cache learns nothing of
    /// the comparison).
    no_upload: Cell<bool>,
}

/// sysgen's own build identity: its version and its executable's digest,
/// so that another sysgen never reads or writes this one's records.
fn build_identity() -> Option<&'static str> {
    static ID: OnceLock<Option<String>> = OnceLock::new();
    ID.get_or_init(|| {
        let exe = std::env::current_exe().ok()?;
        let digest = crate::base::fingerprint::sha256_file(&exe).ok()?;
        Some(format!("{} {digest}", env!("CARGO_PKG_VERSION")))
    })
    .as_deref()
}

/// Free bytes on the file system of `dir`.
fn free_space(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Whether a variable name from a record is one sysgen compares: a name a
/// build script can print in `rerun-if-env-changed` and a stamp can hold.
fn plausible_variable(name: &str) -> bool {
    !name.is_empty() && name.len() <= 256 && !name.contains(['=', '\0', '\n'])
}

impl Remote {
    /// The remote cache this user configured, if any. A setting that is
    /// wrong is a one-line error; a cache that cannot be used is a warning.
    pub fn configured() -> Result<Option<Remote>> {
        let Some(settings) = Settings::load()? else {
            return Ok(None);
        };
        match Client::new(&settings) {
            Ok(client) => Ok(Some(Remote {
                settings,
                client,
                failed: Cell::new(false),
                no_upload: Cell::new(false),
            })),
            Err(f) => {
                eprintln!(
                    "sysgen: warning: remote cache {}: {}; not using it",
                    settings.url.shown(),
                    f.line
                );
                Ok(None)
            }
        }
    }

    /// The cache's URL, credentials redacted.
    pub fn shown(&self) -> String {
        self.settings.url.shown()
    }

    /// Where sysroots downloaded from this cache say they came from.
    pub fn origin(&self) -> String {
        format!("downloaded from {}", self.settings.url.shown())
    }

    /// One line on stderr, with every credential taken out.
    fn say(&self, line: String) {
        eprintln!("{}", self.redact(&line));
    }

    fn warn(&self, f: Fault, then: &str) {
        if f.down {
            self.failed.set(true);
        }
        self.say(format!(
            "sysgen: warning: remote cache {}: {}; {then}",
            self.settings.url.shown(),
            f.line
        ));
    }

    fn redact(&self, line: &str) -> String {
        let mut out = redact_userinfo(line);
        if let Some((user, password)) = &self.settings.url.credentials {
            for secret in [password, user] {
                if secret.len() >= 3 {
                    out = out.replace(secret.as_str(), "***");
                }
            }
        }
        if let Some((_, value)) = &self.settings.header
            && value.len() >= 3
        {
            out = out.replace(value.as_str(), "***");
        }
        out
    }

    /// The key of this configuration built from these inputs.
    fn key(&self, family: &Family, inputs: &Inputs) -> Result<String, Fault> {
        let Some(id) = build_identity() else {
            return Err(Fault::down(
                "cannot read sysgen's own executable to key its records".into(),
            ));
        };
        Ok(sha256_hex(
            format!(
                "sysgen remote 2\0{}\0{id}\0{}",
                family.identity, inputs.digest
            )
            .as_bytes(),
        ))
    }

    /// The sysroot of this configuration built from these inputs, from the
    /// remote cache, published into `store`; `None` (after at most one
    /// line) when the cache has none, it is not the sysroot `expected`
    /// describes, or the cache fails. Call with the family's lock held.
    pub fn fetch(
        &self,
        store: &Store,
        family: &Family,
        lock: &BuildLock,
        inputs: &Inputs,
        expected: &Expected,
    ) -> Result<Option<Entry>> {
        let building = "building the sysroot here";
        let key = match self.key(family, inputs) {
            Ok(k) => k,
            Err(f) => {
                self.warn(f, building);
                return Ok(None);
            }
        };
        let short = &key[..12];
        let files = match self.client.get("ac", &key) {
            Ok(Some(bytes)) => match record::decode(&bytes) {
                Ok(files) => files,
                Err(e) => {
                    self.warn(
                        Fault::content(format!("the record ac/{short}… is {e}")),
                        building,
                    );
                    return Ok(None);
                }
            },
            Ok(None) => {
                self.say(format!(
                    "sysgen: the remote cache {} has no sysroot of this configuration and these sources; {building}",
                    self.settings.url.shown()
                ));
                return Ok(None);
            }
            Err(f) => {
                self.warn(f, building);
                return Ok(None);
            }
        };
        let (wanted, env_file) = match self.check_record(short, files, expected, &store.dir) {
            Ok(w) => w,
            Err(f) => {
                self.warn(f, building);
                return Ok(None);
            }
        };
        // The variables the sysroot's build scripts read, with the values
        // they had there: fetched, and compared only once everything else
        // is here, so that what this machine requests never depends on a
        // local value.
        let deps = match env_file.as_ref().map(|f| self.env_deps(f)).transpose() {
            Ok(d) => d.unwrap_or_default(),
            Err(f) => {
                self.warn(f, building);
                return Ok(None);
            }
        };
        let mut env_files = Vec::new();
        let mut differs = None;
        for d in deps {
            let here = sha256_hex(&crate::exec::envdeps::stamp_text(&d.name));
            if here != d.sha256 && differs.is_none() {
                differs = Some(d.name.clone());
            }
            env_files.push(FileDigest {
                root: ENV_ROOT.into(),
                path: d.name,
                sha256: here,
            });
        }
        let fault: RefCell<Option<Fault>> = RefCell::new(None);
        let mut files = inputs.files.clone();
        files.extend(env_files);
        let published = store.publish_with(
            family,
            lock,
            files,
            Some(self.origin()),
            |sysroot: &Path| {
                let r = self.download(sysroot, short, &wanted);
                if let Err(f) = r {
                    *fault.borrow_mut() = Some(f);
                    anyhow::bail!("remote fault");
                }
                if differs.is_some() {
                    anyhow::bail!("another environment");
                }
                Ok(())
            },
        );
        if let (Some(var), None) = (&differs, &*fault.borrow()) {
            self.no_upload.set(true);
            self.say(format!(
                "sysgen: the remote cache {} has this sysroot built with another value of {var} (a build script reads it); {building}, and not uploading it",
                self.settings.url.shown(),
            ));
            return Ok(None);
        }
        // Whatever went wrong while the download was materialized is the
        // cache's fault: one warning and a local build, never the run's end.
        match (published, fault.into_inner()) {
            (_, Some(f)) => {
                self.warn(f, building);
                Ok(None)
            }
            (Ok(entry), None) => Ok(Some(entry)),
            (Err(e), None) => {
                self.warn(
                    Fault::content(format!(
                        "the downloaded sysroot could not be stored ({})",
                        crate::base::error::one_line(&format!("{e:#}"))
                    )),
                    building,
                );
                Ok(None)
            }
        }
    }

    /// The record checked against the model's sysroot: exactly its files,
    /// within the sizes a sysroot can have and the free space here. The
    /// files to fetch (path below the sysroot, record entry, the SHA-256
    /// this machine expects where it knows it) and the environment file.
    #[allow(clippy::type_complexity)]
    fn check_record(
        &self,
        short: &str,
        files: Vec<record::File>,
        expected: &Expected,
        store_dir: &Path,
    ) -> Result<
        (
            Vec<(String, record::File, Option<String>)>,
            Option<record::File>,
        ),
        Fault,
    > {
        let mut wanted = Vec::new();
        let mut env = None;
        let mut total: u64 = 0;
        for f in files {
            if f.path == ENV_FILE && env.is_none() {
                env = Some(f);
                continue;
            }
            let Some(rel) = f.path.strip_prefix("sysroot/") else {
                return Err(Fault::content(format!(
                    "the record ac/{short}… names {}, which is no file of a sysroot",
                    f.path
                )));
            };
            let Some(sha) = expected.files.get(rel) else {
                return Err(Fault::content(format!(
                    "the record ac/{short}… names sysroot/{rel}, which a sysroot of this configuration does not hold"
                )));
            };
            if let Some(sha) = sha
                && *sha != f.sha256
            {
                return Err(Fault::content(format!(
                    "the record ac/{short}… has another sysroot/{rel} than this configuration makes"
                )));
            }
            if f.size > MAX_FILE {
                return Err(Fault::content(format!(
                    "the record ac/{short}… declares sysroot/{rel} of {} bytes, more than a sysroot file can be",
                    f.size
                )));
            }
            total = total.saturating_add(f.size);
            wanted.push((rel.to_string(), f, sha.clone()));
        }
        let mut names: Vec<&str> = wanted.iter().map(|(r, _, _)| r.as_str()).collect();
        names.sort();
        names.dedup();
        if names.len() != wanted.len() || names.len() != expected.files.len() {
            let missing: Vec<&String> = expected
                .files
                .keys()
                .filter(|k| !names.contains(&k.as_str()))
                .collect();
            return Err(Fault::content(format!(
                "the record ac/{short}… is not a whole sysroot of this configuration ({})",
                match missing.first() {
                    Some(m) => format!("sysroot/{m} is missing"),
                    None => "a file is listed twice".to_string(),
                }
            )));
        }
        let free = free_space(store_dir).unwrap_or(u64::MAX);
        if total > MAX_TOTAL || total.saturating_add(KEEP_FREE) > free {
            return Err(Fault::content(format!(
                "the record ac/{short}… declares {} bytes, more than a sysroot can be or the disk has free",
                total
            )));
        }
        Ok((wanted, env))
    }

    /// The variables a record's `sysgen-env.json` lists.
    fn env_deps(&self, f: &record::File) -> Result<Vec<EnvDep>, Fault> {
        let what = format!("cas/{}…", &f.sha256[..12]);
        if f.size > MAX_ENV_BYTES {
            return Err(Fault::content(format!(
                "{what} is larger than a list of variables"
            )));
        }
        let Some(bytes) = self.client.get("cas", &f.sha256)? else {
            return Err(Fault::content(format!(
                "the record points at {what}, which the cache does not have"
            )));
        };
        if bytes.len() as u64 != f.size || sha256_hex(&bytes) != f.sha256 {
            return Err(Fault::content(format!(
                "{what} does not have the SHA-256 and size it is stored under"
            )));
        }
        let deps: Vec<EnvDep> = serde_json::from_slice(&bytes)
            .map_err(|e| Fault::content(format!("{what} is not a list of variables ({e})")))?;
        if deps.len() > MAX_ENV
            || deps
                .iter()
                .any(|d| !plausible_variable(&d.name) || !record::is_sha256(&d.sha256))
        {
            return Err(Fault::content(format!("{what} is not a list of variables")));
        }
        Ok(deps)
    }

    /// Every blob of the sysroot into `sysroot`, checked.
    fn download(
        &self,
        sysroot: &Path,
        short: &str,
        wanted: &[(String, record::File, Option<String>)],
    ) -> Result<(), Fault> {
        for (rel, f, expected) in wanted {
            let dest = sysroot.join(rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    Fault::content(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
            match self.client.get_blob(&f.sha256, f.size, &dest)? {
                Some(()) => {}
                None => {
                    return Err(Fault::content(format!(
                        "the record ac/{short}… points at cas/{}…, which the cache does not have",
                        &f.sha256[..12]
                    )));
                }
            }
            if let Some(e) = expected
                && *e != f.sha256
            {
                return Err(Fault::content(format!(
                    "sysroot/{rel} is not the one this configuration makes"
                )));
            }
            if f.executable {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755));
            }
        }
        Ok(())
    }

    /// Upload a sysroot this machine built from `inputs`: its content, then
    /// its record. Faults are one warning; nothing fails.
    pub fn upload(
        &self,
        store: &Store,
        family: &Family,
        entry: &Entry,
        inputs: &Inputs,
    ) -> Result<()> {
        if !self.settings.upload || self.failed.get() || self.no_upload.get() {
            return Ok(());
        }
        let not = "the sysroot was built, not uploaded";
        let key = match self.key(family, inputs) {
            Ok(k) => k,
            Err(f) => {
                self.warn(f, not);
                return Ok(());
            }
        };
        let (files, outputs) = store.contents(entry)?;
        let mut listed = Vec::new();
        let mut sent: u64 = 0;
        for o in &outputs {
            let path = entry.sysroot().join(&o.path);
            let meta = std::fs::metadata(&path)
                .map_err(|e| crate::base::fsx::io_error("read", &path, &e))?;
            use std::os::unix::fs::PermissionsExt;
            listed.push(record::File {
                path: format!("sysroot/{}", o.path),
                sha256: o.sha256.clone(),
                size: meta.len(),
                executable: meta.permissions().mode() & 0o111 != 0,
            });
            let r = match self.client.has(&o.sha256) {
                Ok(true) => Ok(()),
                Ok(false) => {
                    sent += meta.len();
                    self.client.put_file(&o.sha256, &path, meta.len())
                }
                Err(f) => Err(f),
            };
            if let Err(f) = r {
                self.warn(f, not);
                return Ok(());
            }
        }
        let env: Vec<EnvDep> = files
            .iter()
            .filter(|f| f.root == ENV_ROOT)
            .map(|f| EnvDep {
                name: f.path.clone(),
                sha256: f.sha256.clone(),
            })
            .collect();
        if !env.is_empty() {
            let mut text = serde_json::to_vec(&env)?;
            text.push(b'\n');
            let sha = sha256_hex(&text);
            if let Err(f) = self.client.put("cas", &sha, &text) {
                self.warn(f, not);
                return Ok(());
            }
            listed.push(record::File {
                path: ENV_FILE.into(),
                sha256: sha,
                size: text.len() as u64,
                executable: false,
            });
        }
        if let Err(f) = self.client.put("ac", &key, &record::encode(&listed)) {
            self.warn(f, not);
            return Ok(());
        }
        self.say(format!(
            "sysgen: uploaded the sysroot to the remote cache {} ({} files, {} new)",
            self.settings.url.shown(),
            listed.len(),
            human_bytes(sent)
        ));
        Ok(())
    }
}

/// `scheme://user:password@host` → `scheme://***@host`, anywhere in a line.
pub fn redact_userinfo(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let end = rest
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            out.push_str("***");
            rest = &rest[at..];
        }
    }
    out.push_str(rest);
    out
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.0} KiB", n as f64 / 1024.0)
    }
}
