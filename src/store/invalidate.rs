//! What a build in a store build directory read, from Ninja's deps log:
//! the files a variant's key is made of, and the outputs to rebuild when a
//! file's contents changed under an unchanged mtime.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::base::fingerprint::{Fingerprints, sha256_hex};
use crate::base::fsx::{self};
use crate::exec::envdeps;
use crate::user_bail;

use crate::store::key::{ENV_ROOT, FileDigest, Roots};

/// Ninja's deps log: each output and the files outside the build
/// directory that its command read (rustc's dep-info, the build-script
/// runner's depfiles). The build directory's own files are derived.
fn ninja_deps(build_dir: &Path) -> Result<Vec<(PathBuf, Vec<PathBuf>)>> {
    let ninja = std::env::var_os("NINJA").unwrap_or_else(|| "ninja".into());
    let out = std::process::Command::new(&ninja)
        .arg("-C")
        .arg(build_dir)
        .args(["-t", "deps"])
        .output()
        .map_err(|e| crate::user_err!("cannot run ninja ({e}); install it or set NINJA"))?;
    if !out.status.success() {
        user_bail!(
            "`ninja -t deps` failed in {}: {}",
            build_dir.display(),
            crate::base::error::one_line(&String::from_utf8_lossy(&out.stderr))
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut v: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    for line in text.lines() {
        // `output: #deps N, …`, then the dependencies indented.
        if let Some(dep) = line.strip_prefix("    ") {
            let p = Path::new(dep);
            if let Some((_, deps)) = v.last_mut()
                && p.is_absolute()
                && !p.starts_with(build_dir)
            {
                deps.push(p.to_path_buf());
            }
        } else if let Some((output, _)) = line.split_once(": #deps") {
            v.push((PathBuf::from(output), Vec::new()));
        }
    }
    Ok(v)
}

/// Where a build directory records the digests its last build read.
const DIGESTS: &str = ".sysgen/digests";

/// Make Ninja rebuild what read a file whose contents changed since the
/// last build in `build_dir`, even when its mtime did not move (an rsync
/// or tar that keeps times, a restored mtime): Ninja compares times only,
/// and a stale output published under a new variant would be a wrong
/// sysroot. Removes those outputs; returns how many.
pub fn invalidate_changed(build_dir: &Path, fp: &mut Fingerprints) -> Result<usize> {
    let Ok(text) = std::fs::read_to_string(build_dir.join(DIGESTS)) else {
        return Ok(0);
    };
    let recorded: BTreeMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(d, p)| (p, d))
        .collect();
    let mut removed = 0;
    for (output, deps) in ninja_deps(build_dir)? {
        let mut changed = false;
        for d in &deps {
            let Some(was) = d.to_str().and_then(|p| recorded.get(p)) else {
                continue;
            };
            if fp.digest(d)?.as_deref() != Some(*was) {
                changed = true;
                break;
            }
        }
        if changed && std::fs::remove_file(build_dir.join(&output)).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// The files a finished Ninja build in `build_dir` read, with their
/// digests (also recorded in the build directory for
/// [`invalidate_changed`]).
pub fn files_read(
    build_dir: &Path,
    roots: &Roots,
    fp: &mut Fingerprints,
) -> Result<Vec<FileDigest>> {
    let mut paths: BTreeMap<PathBuf, ()> = BTreeMap::new();
    for (_, deps) in ninja_deps(build_dir)? {
        for d in deps {
            paths.insert(d, ());
        }
    }
    let mut files = Vec::new();
    let mut record = String::new();
    for p in paths.into_keys() {
        // A file that is gone (a deleted module) was not read by this build.
        let Some(sha256) = fp.digest(&p)? else {
            continue;
        };
        if let Some(s) = p.to_str().filter(|s| !s.contains('\n')) {
            record.push_str(&format!("{sha256} {s}\n"));
        }
        let (root, path) = roots.split(&p);
        files.push(FileDigest { root, path, sha256 });
    }
    fsx::write_atomic(&build_dir.join(DIGESTS), record.as_bytes())?;
    // The variables build scripts said they read, as this build saw them.
    for var in envdeps::tracked(build_dir) {
        files.push(FileDigest {
            root: ENV_ROOT.into(),
            sha256: sha256_hex(&envdeps::stamp_text(&var)),
            path: var,
        });
    }
    Ok(files)
}
