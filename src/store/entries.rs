//! The sysroot store: finished sysroots shared by every project on the
//! machine, addressed by what determines their bytes.
//!
//! ```text
//! <cache>/sysroots/
//!   <family>/<variant>/sysroot/…     a published sysroot (never modified)
//!   <family>/<variant>/entry.json    what it was built from (below)
//!   <family>/<variant>/used          its mtime is the last use
//!   <family>/<variant>/lock          shared while a `sysgen cargo` uses it
//!   build/<family>/                  the Ninja build that makes the family's sysroots
//!   locks/<family>.lock              held while building the family
//! ```
//!
//! A **family** is everything but the sources' contents: the compiler's
//! identity, the crate declarations (crates, features, every flag, env,
//! dependencies: path-free, so rust-src in another place is the same
//! family), the target specs' contents and sysgen's version. A **variant**
//! adds the SHA-256 of every file the build read, as rustc's dep-info
//! recorded it (through Ninja's deps log), so an edited source makes a new
//! variant and never a stale hit. Looking up a variant costs one `stat` per
//! file: digests are cached by stat identity ([`crate::base::fingerprint`]).
//!
//! **Integrity:** an entry records the SHA-256 of every file of its
//! sysroot when it is published; a lookup checks them (through the same
//! fingerprint cache, so a check costs a `stat` a file) and that no file
//! was added. A mismatch discards that entry, with one warning naming the
//! file, and the sysroot is built again. This catches corruption and
//! accidental edits; whoever can write the store can rewrite the digests
//! too, which is why the store is private ([`crate::base::private`]):
//! every directory and file of it, its locks and the fingerprint cache
//! must be the current user's and writable by no one else, or sysgen stops
//! with one line and reuses nothing.
//!
//! Builds of one family are serialised by its lock (the others wait, then
//! find the published variant). A variant is copied into a dot-directory
//! and renamed into place with its `entry.json`: a lookup sees a whole
//! entry or none, and an interrupted build publishes nothing (its build
//! directory is reused by the next build). Removal renames first, too.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::base::fingerprint::{Fingerprints, sha256_file, sha256_hex};
use crate::base::fsx::{self, io_error};
use crate::base::hash::stable_hash;
use crate::base::private;
use crate::user_bail;

use crate::store::key::{ENV_ROOT, FORMAT, Family, FileDigest, Roots, Summary};

#[derive(Debug, Serialize, Deserialize)]
struct EntryFile {
    format: u32,
    family: String,
    summary: Summary,
    /// What the sysroot was built from.
    files: Vec<FileDigest>,
    /// Every file of the sysroot as published: path below `sysroot/`.
    outputs: Vec<Output>,
    /// Where the sysroot came from: `None` when built here, else e.g.
    /// `downloaded from http://cache:8080` (credentials redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origin: Option<String>,
}

/// One file of a published sysroot.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Output {
    /// Below `sysroot/`.
    pub path: String,
    pub sha256: String,
}

/// A published sysroot.
#[derive(Debug, Clone)]
pub struct Entry {
    pub dir: PathBuf,
    /// `<family>/<variant>`, what `sysgen cache list` shows.
    pub id: String,
}

impl Entry {
    pub fn sysroot(&self) -> PathBuf {
        self.dir.join("sysroot")
    }

    /// Record a use (for `sysgen cache clean --older-than`).
    pub fn touch(&self) {
        if let Ok(f) = File::options().write(true).open(self.dir.join("used")) {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    /// Hold the entry for as long as the returned file is open: `cache
    /// clean` skips entries in use.
    pub fn hold(&self) -> Option<File> {
        let f = File::open(self.dir.join("lock")).ok()?;
        f.lock_shared().ok()?;
        Some(f)
    }
}

pub struct Store {
    pub dir: PathBuf,
}

/// A family's build lock, released when dropped.
pub struct BuildLock {
    _file: File,
}

/// One row of `sysgen cache list`.
#[derive(Debug)]
pub struct Listed {
    pub id: String,
    pub dir: PathBuf,
    pub summary: Option<Summary>,
    /// `None`: built here.
    pub origin: Option<String>,
    pub size: u64,
    pub last_use: Option<SystemTime>,
}

#[derive(Debug, Default)]
pub struct Cleaned {
    pub removed: Vec<String>,
    pub in_use: Vec<String>,
    pub freed: u64,
}

impl Store {
    /// The store in sysgen's cache directory, its own directories checked
    /// to be private if they exist (they are made when something is first
    /// built).
    pub fn open() -> Result<Store> {
        let Some(base) = crate::base::cache_dir::checked_base_dir()? else {
            user_bail!(
                "no cache directory for the sysroot store (no HOME); set SYSGEN_CACHE_DIR to a directory"
            );
        };
        let dir = base.join("sysroots");
        for d in [dir.clone(), dir.join("locks"), dir.join("build")] {
            private::check_path(&d)?;
        }
        Ok(Store { dir })
    }

    pub fn at(dir: PathBuf) -> Store {
        Store { dir }
    }

    /// The directory the family's sysroots are built in.
    pub fn build_dir(&self, family: &Family) -> PathBuf {
        self.dir.join("build").join(&family.key)
    }

    /// A published variant of `family` whose files all still have the
    /// digests it was built from, and whose sysroot is as published (one
    /// that is not is discarded, with a warning).
    pub fn find(
        &self,
        family: &Family,
        roots: &Roots,
        fp: &mut Fingerprints,
    ) -> Result<Option<Entry>> {
        let fdir = self.dir.join(&family.key);
        private::check_path(&fdir)?;
        let Ok(rd) = std::fs::read_dir(&fdir) else {
            return Ok(None);
        };
        let mut variants: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        // Most recently used first: the likeliest match.
        variants.sort_by_key(|v| std::cmp::Reverse(mtime(&v.join("used"))));
        for v in variants {
            private::check_path(&v)?;
            private::check_path(&v.join("entry.json"))?;
            let Ok(text) = std::fs::read_to_string(v.join("entry.json")) else {
                continue;
            };
            let Ok(entry) = serde_json::from_str::<EntryFile>(&text) else {
                continue;
            };
            if entry.format != FORMAT
                || entry.family != family.key
                || !files_match(&entry.files, roots, fp)?
            {
                continue;
            }
            let id = format!(
                "{}/{}",
                family.key,
                v.file_name().unwrap_or_default().to_string_lossy()
            );
            if let Some(changed) = changed_output(&v.join("sysroot"), &entry.outputs, fp)? {
                eprintln!(
                    "sysgen: warning: {changed} since the sysroot {id} was published; discarding it and building it again"
                );
                remove_atomically(&v)?;
                continue;
            }
            return Ok(Some(Entry { dir: v, id }));
        }
        Ok(None)
    }

    /// Take the family's build lock, waiting (and saying so) while another
    /// sysgen holds it.
    pub fn lock(&self, family: &Family) -> Result<BuildLock> {
        private::dir(&self.dir)?;
        let dir = self.dir.join("locks");
        private::dir(&dir)?;
        let path = dir.join(format!("{}.lock", family.key));
        let file = private::lock_file(
            &path,
            "waiting for another sysgen that is building the same sysroot",
        )?;
        Ok(BuildLock { _file: file })
    }

    /// Publish the sysroot a build made (`build_dir/sysroot`) as the
    /// variant of `family` for `files`. Call with the family's lock held.
    pub fn publish(
        &self,
        family: &Family,
        lock: &BuildLock,
        build_dir: &Path,
        files: Vec<FileDigest>,
    ) -> Result<Entry> {
        self.publish_with(family, lock, files, None, |sysroot| {
            copy_tree(&build_dir.join("sysroot"), sysroot)
        })
    }

    /// Publish the sysroot `fill` writes into the (new, empty) directory
    /// it is given, as the variant of `family` for `files`, from `origin`
    /// (`None`: built here). Nothing is published when `fill` fails. Call
    /// with the family's lock held.
    pub fn publish_with(
        &self,
        family: &Family,
        _lock: &BuildLock,
        mut files: Vec<FileDigest>,
        origin: Option<String>,
        fill: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<Entry> {
        files.sort();
        files.dedup();
        let variant = variant_id(family, &files);
        let fdir = self.dir.join(&family.key);
        let dest = fdir.join(&variant);
        let id = format!("{}/{variant}", family.key);
        if dest.join("entry.json").is_file() {
            return Ok(Entry { dir: dest, id });
        }
        private::dir(&fdir)?;
        // Leftovers of interrupted publications (only the lock holder
        // creates them, and that is us).
        if let Ok(rd) = std::fs::read_dir(&fdir) {
            for e in rd.filter_map(|e| e.ok()) {
                if e.file_name().to_string_lossy().starts_with('.') {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let staging = fdir.join(format!(".tmp-{variant}-{}", std::process::id()));
        fsx::create_dir_all(&staging.join("sysroot"))?;
        if let Err(e) = fill(&staging.join("sysroot")) {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        seal_tree(&staging)?;
        let mut outputs = Vec::new();
        let (built, odd) = sysroot_files(&staging.join("sysroot"))?;
        if let Some(p) = odd.first() {
            anyhow::bail!(
                "the build left {} in the sysroot, neither a file nor a directory",
                p.display()
            );
        }
        for (path, file) in built {
            outputs.push(Output {
                path,
                sha256: sha256_file(&file)?,
            });
        }
        let entry = EntryFile {
            format: FORMAT,
            family: family.key.clone(),
            summary: family.summary.clone(),
            files,
            outputs,
            origin,
        };
        let mut text = serde_json::to_string_pretty(&entry)?;
        text.push('\n');
        fsx::write_atomic(&staging.join("entry.json"), text.as_bytes())?;
        fsx::write_atomic(&staging.join("used"), b"")?;
        fsx::write_atomic(&staging.join("lock"), b"")?;
        seal_tree(&staging)?;
        std::fs::rename(&staging, &dest)
            .map_err(|e| io_error("publish the sysroot to", &dest, &e))?;
        Ok(Entry { dir: dest, id })
    }

    /// What a published entry was built from and what its sysroot holds.
    pub fn contents(&self, entry: &Entry) -> Result<(Vec<FileDigest>, Vec<Output>)> {
        let path = entry.dir.join("entry.json");
        private::check_path(&path)?;
        let text = fsx::read_text(&path)?;
        let e: EntryFile = serde_json::from_str(&text)
            .map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?;
        Ok((e.files, e.outputs))
    }

    /// Every published sysroot, most recently used first.
    pub fn list(&self) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Ok(out);
        };
        for fam in rd.filter_map(|e| e.ok()) {
            let name = fam.file_name().to_string_lossy().into_owned();
            if name == "build" || name == "locks" || name.starts_with('.') || !fam.path().is_dir() {
                continue;
            }
            let Ok(vars) = std::fs::read_dir(fam.path()) else {
                continue;
            };
            for v in vars.filter_map(|e| e.ok()) {
                let vname = v.file_name().to_string_lossy().into_owned();
                if vname.starts_with('.') {
                    continue;
                }
                let dir = v.path();
                let entry = std::fs::read_to_string(dir.join("entry.json"))
                    .ok()
                    .and_then(|t| serde_json::from_str::<EntryFile>(&t).ok());
                let (summary, origin) = match entry {
                    Some(e) => (Some(e.summary), e.origin),
                    None => (None, None),
                };
                out.push(Listed {
                    id: format!("{name}/{vname}"),
                    origin,
                    size: dir_size(&dir),
                    last_use: mtime(&dir.join("used")),
                    summary,
                    dir,
                });
            }
        }
        out.sort_by_key(|l| (std::cmp::Reverse(l.last_use), l.id.clone()));
        Ok(out)
    }

    /// The size of the build directories (kept for incremental rebuilds).
    /// What interrupted publications and removals left behind (a
    /// `.tmp-…-<pid>` or `.trash-…-<pid>` directory in a family) whose
    /// sysgen is no longer running: (path, size).
    pub fn stale_staging(&self) -> Vec<(PathBuf, u64)> {
        let mut out = Vec::new();
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return out;
        };
        for fam in rd.filter_map(|e| e.ok()) {
            let name = fam.file_name().to_string_lossy().into_owned();
            if name == "build" || name == "locks" || name.starts_with('.') {
                continue;
            }
            let Ok(inner) = std::fs::read_dir(fam.path()) else {
                continue;
            };
            for e in inner.filter_map(|e| e.ok()) {
                let n = e.file_name().to_string_lossy().into_owned();
                if !(n.starts_with(".tmp-") || n.starts_with(".trash-")) {
                    continue;
                }
                let alive = n
                    .rsplit('-')
                    .next()
                    .and_then(|p| p.parse::<u32>().ok())
                    .is_some_and(|pid| Path::new("/proc").join(pid.to_string()).exists());
                if !alive {
                    out.push((e.path(), dir_size(&e.path())));
                }
            }
        }
        out
    }

    /// Remove [`Store::stale_staging`]: the bytes freed.
    pub fn remove_stale_staging(&self) -> u64 {
        let mut freed = 0;
        for (dir, size) in self.stale_staging() {
            if std::fs::remove_dir_all(&dir).is_ok() {
                freed += size;
            }
        }
        freed
    }

    pub fn build_dirs_size(&self) -> u64 {
        dir_size(&self.dir.join("build"))
    }

    /// Remove sysroots not used for `older_than` (all when `None`), and
    /// build directories as old; never one in use or being built.
    pub fn clean(&self, older_than: Option<Duration>) -> Result<Cleaned> {
        let now = SystemTime::now();
        let old = |t: Option<SystemTime>| match (older_than, t) {
            (None, _) | (_, None) => true,
            (Some(d), Some(t)) => now.duration_since(t).is_ok_and(|age| age >= d),
        };
        let mut report = Cleaned::default();
        for (dir, size) in self.stale_staging() {
            if std::fs::remove_dir_all(&dir).is_ok() {
                report.freed += size;
                report.removed.push(dir.display().to_string());
            }
        }
        for l in self.list()? {
            if !old(l.last_use) {
                continue;
            }
            // An entry some `sysgen cargo` holds is in use.
            let held = File::open(l.dir.join("lock"))
                .ok()
                .map(|f| f.try_lock().is_err())
                .unwrap_or(false);
            if held {
                report.in_use.push(l.id);
                continue;
            }
            remove_atomically(&l.dir)?;
            report.freed += l.size;
            report.removed.push(l.id);
        }
        // Build directories, unless their family is being built.
        if let Ok(rd) = std::fs::read_dir(self.dir.join("build")) {
            for b in rd.filter_map(|e| e.ok()) {
                let name = b.file_name().to_string_lossy().into_owned();
                if !old(mtime(&b.path().join("build.ninja"))) {
                    continue;
                }
                let lock = self.dir.join("locks").join(format!("{name}.lock"));
                let guard = File::options().write(true).open(&lock).ok();
                if guard.as_ref().is_some_and(|f| f.try_lock().is_err()) {
                    report.in_use.push(format!("build/{name}"));
                    continue;
                }
                let size = dir_size(&b.path());
                remove_atomically(&b.path())?;
                report.freed += size;
                report.removed.push(format!("build/{name}"));
            }
        }
        // Families left empty.
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for fam in rd.filter_map(|e| e.ok()) {
                let _ = std::fs::remove_dir(fam.path());
            }
        }
        Ok(report)
    }
}

/// A variant's name: the family and every file it was built from.
pub fn variant_id(family: &Family, files: &[FileDigest]) -> String {
    let mut parts: Vec<String> = vec![family.key.clone()];
    for f in files {
        parts.push(format!("{}\0{}\0{}", f.root, f.path, f.sha256));
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    stable_hash(&refs)[..16].to_string()
}

/// Whether every file a build read has, here, the digest it had then
/// (an environment variable: the same value).
pub fn files_match(files: &[FileDigest], roots: &Roots, fp: &mut Fingerprints) -> Result<bool> {
    for f in files {
        if f.root == ENV_ROOT {
            let now = sha256_hex(&crate::exec::envdeps::stamp_text(&f.path));
            if now != f.sha256 {
                return Ok(false);
            }
            continue;
        }
        let Some(path) = roots.resolve(f) else {
            return Ok(false);
        };
        if fp.digest(&path)?.as_deref() != Some(f.sha256.as_str()) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Files of a tree: (path relative to its root, path).
type Files = Vec<(String, PathBuf)>;

/// Every file below `root` (path relative to it, path), sorted, each
/// checked to be private; and whatever is neither a directory nor a
/// regular file (a symlink, a FIFO…), which a sysroot never holds.
fn sysroot_files(root: &Path) -> Result<(Files, Vec<PathBuf>)> {
    fn walk(dir: &Path, rel: &str, files: &mut Files, odd: &mut Vec<PathBuf>) -> Result<()> {
        let rd = std::fs::read_dir(dir).map_err(|e| io_error("read", dir, &e))?;
        for e in rd {
            let e = e.map_err(|e| io_error("read", dir, &e))?;
            let path = e.path();
            let meta = std::fs::symlink_metadata(&path).map_err(|e| io_error("read", &path, &e))?;
            private::check(&path, &meta)?;
            let name = e.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if meta.is_dir() {
                walk(&path, &r, files, odd)?;
            } else if meta.is_file() {
                files.push((r, path));
            } else {
                odd.push(path);
            }
        }
        Ok(())
    }
    let meta = std::fs::symlink_metadata(root).map_err(|e| io_error("read", root, &e))?;
    private::check(root, &meta)?;
    let (mut files, mut odd) = (Vec::new(), Vec::new());
    walk(root, "", &mut files, &mut odd)?;
    files.sort();
    odd.sort();
    Ok((files, odd))
}

/// How a published sysroot differs from what its entry recorded: the
/// first file changed, missing or added, or `None`.
fn changed_output(
    sysroot: &Path,
    recorded: &[Output],
    fp: &mut Fingerprints,
) -> Result<Option<String>> {
    if !sysroot.is_dir() {
        return Ok(Some(format!("{} is missing", sysroot.display())));
    }
    let (present, odd) = sysroot_files(sysroot)?;
    if let Some(p) = odd.first() {
        return Ok(Some(format!("{} was added", p.display())));
    }
    let mut recorded = recorded.iter();
    for (rel, path) in &present {
        match recorded.next() {
            Some(o) if o.path == *rel => {
                if fp.digest(path)?.as_deref() != Some(o.sha256.as_str()) {
                    return Ok(Some(format!("{} changed", path.display())));
                }
            }
            Some(o) if o.path < *rel => {
                return Ok(Some(format!(
                    "{} is missing",
                    sysroot.join(&o.path).display()
                )));
            }
            _ => return Ok(Some(format!("{} was added", path.display()))),
        }
    }
    Ok(recorded
        .next()
        .map(|o| format!("{} is missing", sysroot.join(&o.path).display())))
}

/// Take group and other write from everything below `dir`, which this
/// process just made.
fn seal_tree(dir: &Path) -> Result<()> {
    private::seal(dir)?;
    let rd = std::fs::read_dir(dir).map_err(|e| io_error("read", dir, &e))?;
    for e in rd {
        let e = e.map_err(|e| io_error("read", dir, &e))?;
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            seal_tree(&e.path())?;
        } else {
            private::seal(&e.path())?;
        }
    }
    Ok(())
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).ok()?.modified().ok()
}

/// Rename out of sight, then delete: nobody sees half an entry.
fn remove_atomically(dir: &Path) -> Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("/"));
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let trash = parent.join(format!(".trash-{name}-{}", std::process::id()));
    std::fs::rename(dir, &trash).map_err(|e| io_error("remove", dir, &e))?;
    std::fs::remove_dir_all(&trash).map_err(|e| io_error("remove", &trash, &e))
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.filter_map(|e| e.ok())
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fsx::create_dir_all(to)?;
    let rd = std::fs::read_dir(from).map_err(|e| io_error("read", from, &e))?;
    for e in rd {
        let e = e.map_err(|e| io_error("read", from, &e))?;
        let t = e
            .file_type()
            .map_err(|err| io_error("read", &e.path(), &err))?;
        let dest = to.join(e.file_name());
        if t.is_dir() {
            copy_tree(&e.path(), &dest)?;
        } else if t.is_file() {
            std::fs::copy(e.path(), &dest).map_err(|err| io_error("copy", &e.path(), &err))?;
        }
    }
    Ok(())
}
