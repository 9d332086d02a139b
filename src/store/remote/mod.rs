//! The store backed by a remote build cache: a sysroot missing here is
//! looked up in the cache, and one built here is uploaded to it. The cache
//! is an existing engine (bazel-remote, BuildBuddy, nginx with WebDAV)
//! spoken to in Bazel's HTTP cache protocol; sysgen runs no server.
//!
//! ## Keys: two levels, as ccache's manifests
//!
//! A machine that has not built a sysroot knows its *family* (compiler,
//! declarations, target specs: [`crate::store::key::Family`]) but not its
//! *variant* (the digests of every file the build read, which rustc's
//! dep-info tells only after building). So:
//!
//! 1. `/ac/<F>`, F = SHA-256 of the family's identity and sysgen's own
//!    build identity (its version and the SHA-256 of its executable), is an
//!    `ActionResult` whose one output file is the family's *manifest* in
//!    the CAS: its last [`KEEP`] variants, each with the files it read by
//!    root, relative path and digest, newest first.
//! 2. The first variant whose files all have those digests here (the same
//!    check a local lookup makes) names `/ac/<V>`, V = SHA-256 of F and the
//!    variant, an `ActionResult` listing every file of the sysroot as
//!    `sysroot/<path>` with its digest; each is fetched from `/cas/<sha256>`.
//!
//! Roots make the key path-free: rust-src and the registry sources match
//! wherever they are on disk. A file under the `absolute` root (none in a
//! sysroot of rust-src's crates; a `[patch]` outside every root could add
//! one) is compared at the same absolute path, so it only hits where that
//! path holds the same bytes. Environment variables build scripts read are
//! compared by value, as locally.
//!
//! ## Writers
//! Content goes up before the record that names it, and the variant's
//! record before the manifest. The manifest is read, merged (union by
//! variant, newest first, capped at [`KEEP`]) and written without
//! compare-and-swap; the writer then reads it back and merges again (up to
//! three times) if a concurrent writer's manifest replaced its own. A
//! variant that is still lost costs the next machine one local build,
//! whose upload adds it again; it is never a wrong hit.
//!
//! ## Trust
//! Every downloaded byte is checked against its SHA-256 and size before it
//! is used, and the sysroot is published into the local store by one
//! rename ([`crate::store::entries::Store::publish_with`]), so corruption
//! and truncation give a local build, never a broken sysroot. A writer of
//! the cache can publish any sysroot under any key: give write access only
//! to machines whose builds you trust, and set
//! `SYSGEN_REMOTE_CACHE_UPLOAD=0` elsewhere.
//!
//! A remote that fails never fails a build: every fault is one warning
//! line, and the sysroot is built here.

pub mod http;
pub mod record;
pub mod settings;

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::sync::OnceLock;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::base::fingerprint::{Fingerprints, sha256_hex};
use crate::store::entries::{BuildLock, Entry, Store};
use crate::store::key::{Family, FileDigest, Roots};
use http::{Client, Fault};
use settings::Settings;

/// How many variants a family's manifest keeps.
pub const KEEP: usize = 8;

const MANIFEST_FORMAT: u32 = 1;
const MANIFEST_PATH: &str = "sysgen-manifest.json";

#[derive(Serialize, Deserialize, Default)]
struct Manifest {
    format: u32,
    variants: Vec<Variant>,
}

#[derive(Serialize, Deserialize, Clone)]
struct Variant {
    id: String,
    /// Seconds since the epoch: newest first.
    published: u64,
    files: Vec<FileDigest>,
}

pub struct Remote {
    settings: Settings,
    client: Client,
    /// Set after a fault: the rest of this run does not use the remote.
    failed: Cell<bool>,
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

    fn family_key(&self, family: &Family) -> Result<String, Fault> {
        let Some(id) = build_identity() else {
            return Err(Fault::down(
                "cannot read sysgen's own executable to key its records".into(),
            ));
        };
        Ok(sha256_hex(
            format!("sysgen remote family\0{}\0{id}", family.identity).as_bytes(),
        ))
    }

    fn variant_key(fkey: &str, variant: &str) -> String {
        sha256_hex(format!("sysgen remote variant\0{fkey}\0{variant}").as_bytes())
    }

    /// The family's manifest, `None` when the cache has none.
    fn manifest(&self, fkey: &str) -> Result<Option<Manifest>, Fault> {
        let Some(bytes) = self.client.get("ac", fkey)? else {
            return Ok(None);
        };
        let files = record::decode(&bytes)
            .map_err(|e| Fault::content(format!("the record ac/{}… is {e}", &fkey[..12])))?;
        let Some(m) = files.iter().find(|f| f.path == MANIFEST_PATH) else {
            return Err(Fault::content(format!(
                "the record ac/{}… names no {MANIFEST_PATH}",
                &fkey[..12]
            )));
        };
        let Some(text) = self.client.get("cas", &m.sha256)? else {
            return Err(Fault::content(format!(
                "the record ac/{}… points at cas/{}…, which the cache does not have",
                &fkey[..12],
                &m.sha256[..12]
            )));
        };
        if text.len() as u64 != m.size || sha256_hex(&text) != m.sha256 {
            return Err(Fault::content(format!(
                "cas/{}… does not have the SHA-256 and size it is stored under",
                &m.sha256[..12]
            )));
        }
        let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| {
            Fault::content(format!(
                "the manifest cas/{}… is not sysgen's ({e})",
                &m.sha256[..12]
            ))
        })?;
        if manifest.format != MANIFEST_FORMAT {
            return Ok(None);
        }
        Ok(Some(manifest))
    }

    /// The family's sysroot for these sources from the remote cache,
    /// published into `store`; `None` (after at most one line) when the
    /// cache has none or fails. Call with the family's lock held.
    pub fn fetch(
        &self,
        store: &Store,
        family: &Family,
        lock: &BuildLock,
        roots: &Roots,
        fp: &mut Fingerprints,
    ) -> Result<Option<Entry>> {
        let building = "building the sysroot here";
        let fkey = match self.family_key(family) {
            Ok(k) => k,
            Err(f) => {
                self.warn(f, building);
                return Ok(None);
            }
        };
        let manifest = match self.manifest(&fkey) {
            Ok(Some(m)) => m,
            Ok(None) => {
                self.say(format!(
                    "sysgen: the remote cache {} has no sysroot of this configuration; {building}",
                    self.settings.url.shown()
                ));
                return Ok(None);
            }
            Err(f) => {
                self.warn(f, building);
                return Ok(None);
            }
        };
        let mut chosen = None;
        for v in &manifest.variants {
            if crate::store::entries::files_match(&v.files, roots, fp)? {
                chosen = Some(v);
                break;
            }
        }
        let Some(variant) = chosen else {
            self.say(format!(
                "sysgen: the remote cache {} has {} sysroots of this configuration, none from these sources; {building}",
                self.settings.url.shown(),
                manifest.variants.len()
            ));
            return Ok(None);
        };
        let vkey = Self::variant_key(&fkey, &variant.id);
        let files = match self.client.get("ac", &vkey) {
            Ok(Some(bytes)) => match record::decode(&bytes) {
                Ok(files) => files,
                Err(e) => {
                    self.warn(
                        Fault::content(format!("the record ac/{}… is {e}", &vkey[..12])),
                        building,
                    );
                    return Ok(None);
                }
            },
            Ok(None) => {
                self.warn(
                    Fault::content(format!(
                        "the manifest names a sysroot whose record ac/{}… is missing",
                        &vkey[..12]
                    )),
                    building,
                );
                return Ok(None);
            }
            Err(f) => {
                self.warn(f, building);
                return Ok(None);
            }
        };
        let mut wanted = Vec::new();
        for f in files {
            match f.path.strip_prefix("sysroot/") {
                Some(rel) if !rel.is_empty() => wanted.push((rel.to_string(), f)),
                _ => {
                    self.warn(
                        Fault::content(format!(
                            "the record ac/{}… names {}, outside the sysroot",
                            &vkey[..12],
                            f.path
                        )),
                        building,
                    );
                    return Ok(None);
                }
            }
        }
        let fault: RefCell<Option<Fault>> = RefCell::new(None);
        let published = store.publish_with(
            family,
            lock,
            variant.files.clone(),
            Some(self.origin()),
            |sysroot: &Path| {
                for (rel, f) in &wanted {
                    let dest = sysroot.join(rel);
                    if let Some(parent) = dest.parent() {
                        crate::base::fsx::create_dir_all(parent)?;
                    }
                    let got = self.client.get_blob(&f.sha256, f.size, &dest);
                    let problem = match got {
                        Ok(Some(())) => None,
                        Ok(None) => Some(Fault::content(format!(
                            "the record ac/{}… points at cas/{}…, which the cache does not have",
                            &vkey[..12],
                            &f.sha256[..12]
                        ))),
                        Err(e) => Some(e),
                    };
                    if let Some(p) = problem {
                        *fault.borrow_mut() = Some(p);
                        anyhow::bail!("remote fault");
                    }
                    if f.executable {
                        use std::os::unix::fs::PermissionsExt;
                        let _ =
                            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755));
                    }
                }
                Ok(())
            },
        );
        match (published, fault.into_inner()) {
            (_, Some(f)) => {
                self.warn(f, building);
                Ok(None)
            }
            (Ok(entry), None) => Ok(Some(entry)),
            (Err(e), None) => Err(e),
        }
    }

    /// Upload a sysroot this machine built: its content, its record, then
    /// the family's manifest. Faults are one warning; nothing fails.
    pub fn upload(&self, store: &Store, family: &Family, entry: &Entry) -> Result<()> {
        if !self.settings.upload || self.failed.get() {
            return Ok(());
        }
        let not = "the sysroot was built, not uploaded";
        let fkey = match self.family_key(family) {
            Ok(k) => k,
            Err(f) => {
                self.warn(f, not);
                return Ok(());
            }
        };
        let (files, outputs) = store.contents(entry)?;
        let variant = crate::store::entries::variant_id(family, &files);
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
                    self.client.put_file(&o.sha256, &path)
                }
                Err(f) => Err(f),
            };
            if let Err(f) = r {
                self.warn(f, not);
                return Ok(());
            }
        }
        let vkey = Self::variant_key(&fkey, &variant);
        if let Err(f) = self.client.put("ac", &vkey, &record::encode(&listed)) {
            self.warn(f, not);
            return Ok(());
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let ours = Variant {
            id: variant.clone(),
            published: now,
            files,
        };
        for _attempt in 0..3 {
            let current = match self.manifest(&fkey) {
                Ok(m) => m.unwrap_or_default(),
                // An unreadable manifest is replaced by ours.
                Err(_) => Manifest::default(),
            };
            let merged = merge(current, ours.clone());
            let mut text = serde_json::to_vec(&merged)?;
            text.push(b'\n');
            let sha = sha256_hex(&text);
            let rec = record::encode(&[record::File {
                path: MANIFEST_PATH.into(),
                sha256: sha.clone(),
                size: text.len() as u64,
                executable: false,
            }]);
            if let Err(f) = self
                .client
                .put("cas", &sha, &text)
                .and_then(|()| self.client.put("ac", &fkey, &rec))
            {
                self.warn(f, not);
                return Ok(());
            }
            // Read back: a concurrent writer may have replaced it. (What
            // cannot be read back was still written: say so, no more.)
            match self.manifest(&fkey) {
                Ok(Some(m)) if !m.variants.iter().any(|v| v.id == variant) => continue,
                Ok(None) => continue,
                _ => {
                    self.say(format!(
                        "sysgen: uploaded the sysroot to the remote cache {} ({} files, {} new)",
                        self.settings.url.shown(),
                        listed.len(),
                        human_bytes(sent)
                    ));
                    return Ok(());
                }
            }
        }
        self.say(format!(
            "sysgen: warning: remote cache {}: other machines kept replacing the manifest; this sysroot's upload may be lost",
            self.settings.url.shown()
        ));
        Ok(())
    }
}

/// `ours` first, then the others by age, at most [`KEEP`].
fn merge(current: Manifest, ours: Variant) -> Manifest {
    let mut variants: Vec<Variant> = current
        .variants
        .into_iter()
        .filter(|v| v.id != ours.id)
        .collect();
    variants.sort_by_key(|v| std::cmp::Reverse(v.published));
    variants.insert(0, ours);
    variants.truncate(KEEP);
    Manifest {
        format: MANIFEST_FORMAT,
        variants,
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
