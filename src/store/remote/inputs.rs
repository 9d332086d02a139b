//! What a remote key is made of on this machine: the inputs the local
//! model declares, with their digests here. The cache never names a local
//! input: the list comes from the model (every unit's source files, and
//! every file of a package whose build script runs), sysgen reads only
//! regular files below the model's roots, and the cache sees only the key
//! those digests hash to — never a digest it could compare a guess with.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::base::fingerprint::{Fingerprints, sha256_hex};
use crate::model::{Body, Model};
use crate::store::key::{FileDigest, Roots};

/// At most this many input files: past it, a configuration is not shared
/// through the remote cache (a package of a hundred thousand files is not
/// a sysroot's).
pub const MAX_FILES: usize = 100_000;

/// The inputs of a model on this machine.
pub struct Inputs {
    /// By root, relative path and SHA-256, sorted.
    pub files: Vec<FileDigest>,
    /// The SHA-256 of the list: what the remote key is made of.
    pub digest: String,
}

/// The files of a package directory, as cargo lists a package's files (not
/// its `target` directory nor hidden ones), regular files only, symbolic
/// links not followed; `false` once more than `left` were found.
fn package_files(dir: &Path, depth: usize, left: &mut usize, out: &mut BTreeSet<PathBuf>) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return true;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        match e.file_type() {
            Ok(t)
                if t.is_dir() && depth < 32 && !package_files(&e.path(), depth + 1, left, out) =>
            {
                return false;
            }
            Ok(t) if t.is_file() => {
                if *left == 0 {
                    return false;
                }
                *left -= 1;
                out.insert(e.path());
            }
            _ => {}
        }
    }
    true
}

impl Inputs {
    /// The inputs of `m` (which must list sources) here; `None` when they
    /// are more than [`MAX_FILES`].
    pub fn of(m: &Model, roots: &Roots, fp: &mut Fingerprints) -> Result<Option<Inputs>> {
        let mut paths: BTreeSet<PathBuf> = BTreeSet::new();
        let mut left = MAX_FILES;
        for u in &m.units {
            match &u.body {
                Body::Crate(c) => {
                    let Some(s) = &c.sources else {
                        anyhow::bail!("the model lists no sources: the remote key needs them");
                    };
                    for p in s.srcs.iter().chain(&s.compile_data).chain(&s.maybe) {
                        paths.insert(m.real_path(p));
                    }
                    paths.insert(m.real_path(&c.root));
                }
                // A build script may read any file of its package.
                Body::Run(r) => {
                    if !package_files(&m.real_path(&r.cwd), 0, &mut left, &mut paths) {
                        return Ok(None);
                    }
                }
            }
            if paths.len() > MAX_FILES {
                return Ok(None);
            }
        }
        let mut files = Vec::new();
        for p in paths {
            // Only regular files are read (a `maybe` file that does not
            // exist here is absent from the list, as from the build).
            let Some(sha256) = fp.digest(&p)? else {
                continue;
            };
            let (root, path) = roots.split(&p);
            files.push(FileDigest { root, path, sha256 });
        }
        files.sort();
        files.dedup();
        let mut text = String::new();
        for f in &files {
            text.push_str(&format!("{}\0{}\0{}\n", f.root, f.path, f.sha256));
        }
        Ok(Some(Inputs {
            digest: sha256_hex(text.as_bytes()),
            files,
        }))
    }
}
