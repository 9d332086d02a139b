//! Checking the registry sources against `library/Cargo.lock`.
//!
//! std compiles a dozen registry crates (libc, hashbrown, object, …) and
//! runs their build scripts. Before sysgen reads one, its sources must be
//! the ones the lockfile pins:
//!
//! - **vendored** (`--vendor DIR`): as cargo checks a directory source, the
//!   `package` hash of the crate's `.cargo-checksum.json` must be the
//!   lockfile's checksum, and every file it lists must hash to its entry;
//! - **Cargo home**: the `.crate` archive in `registry/cache/` must hash to
//!   the lockfile's checksum, and — what cargo does not check — every file
//!   of the archive must be, byte for byte, the extracted one in
//!   `registry/src/` that rustc will read.
//!
//! Path crates (rust-src's own, `[patch]`es, custom path and git crates)
//! have no checksum, in cargo as here.
//!
//! Digests of the sources come from the [`Fingerprints`] cache (a file is
//! hashed again whenever its size, times or inode change), and an archive's
//! listing is kept under its own SHA-256 in the cache directory, so a warm
//! run stats files and reads nothing. The checked files become inputs of
//! the generated build's regeneration rule: an edit after generation makes
//! the build regenerate, which checks again and stops before compiling.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use anyhow::Result;
use serde::Deserialize;

use crate::base::fingerprint::{Fingerprints, sha256_hex};
use crate::base::fsx::io_error;
use crate::library::workspace::{PkgId, RegistrySources, Workspace};
use crate::user_bail;

/// Check every registry package among `packages`; return the files read
/// (for the regeneration rule).
pub fn registry_sources(
    ws: &Workspace,
    packages: impl IntoIterator<Item = PkgId>,
    fp: &mut Fingerprints,
) -> Result<Vec<PathBuf>> {
    let mut read = Vec::new();
    for p in packages {
        if !ws.is_registry_package(p) {
            continue;
        }
        let pkg = &ws.packages[p];
        let krate = Crate {
            name: &pkg.name,
            version: pkg.version.to_string(),
            dir: pkg.dir(),
            lock: ws.lock_checksum(p),
        };
        match &ws.registry {
            RegistrySources::Vendor(_) => krate.check_vendored(fp, &mut read)?,
            RegistrySources::CargoHome(home) => krate.check_extracted(home, fp, &mut read)?,
        }
    }
    Ok(read)
}

struct Crate<'a> {
    name: &'a str,
    version: String,
    dir: &'a Path,
    lock: Option<&'a str>,
}

/// `cargo vendor`'s record of a crate.
#[derive(Deserialize)]
struct CargoChecksum {
    files: BTreeMap<String, String>,
    package: Option<String>,
}

impl Crate<'_> {
    fn id(&self) -> String {
        format!("`{} {}`", self.name, self.version)
    }

    fn check_vendored(&self, fp: &mut Fingerprints, read: &mut Vec<PathBuf>) -> Result<()> {
        let id = self.id();
        let refetch = "vendor the sources again (`sysgen fetch --vendor DIR`)";
        let file = self.dir.join(".cargo-checksum.json");
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => user_bail!(
                "vendored crate {id} has no .cargo-checksum.json in {}, so its sources cannot be checked against Cargo.lock; {refetch}",
                self.dir.display()
            ),
            Err(e) => return Err(io_error("read", &file, &e)),
        };
        read.push(file.clone());
        let sums: CargoChecksum = serde_json::from_str(&text).map_err(|e| {
            crate::user_err!(
                "vendored crate {id}: {} is malformed ({e}); {refetch}",
                file.display()
            )
        })?;
        if let Some(lock) = self.lock
            && sums.package.as_deref() != Some(lock)
        {
            user_bail!(
                "vendored crate {id} is not the package Cargo.lock pins: {} names checksum {}, the lockfile {lock}; {refetch}",
                file.display(),
                sums.package.as_deref().unwrap_or("none")
            );
        }
        for (rel, want) in &sums.files {
            let path = self.file(rel, &file)?;
            match fp.digest(&path)? {
                Some(got) if got == *want => read.push(path),
                Some(_) => user_bail!(
                    "vendored crate {id}: {} was modified (it does not match .cargo-checksum.json); {refetch}",
                    path.display()
                ),
                None => user_bail!(
                    "vendored crate {id}: {} is missing (.cargo-checksum.json lists it); {refetch}",
                    path.display()
                ),
            }
        }
        Ok(())
    }

    fn check_extracted(
        &self,
        home: &Path,
        fp: &mut Fingerprints,
        read: &mut Vec<PathBuf>,
    ) -> Result<()> {
        let id = self.id();
        // registry/src/<index>/<name>-<version> ↔ registry/cache/<index>/<name>-<version>.crate
        let index = self
            .dir
            .parent()
            .and_then(Path::file_name)
            .unwrap_or_default();
        let archive = home
            .join("registry/cache")
            .join(index)
            .join(format!("{}-{}.crate", self.name, self.version));
        let refetch = format!(
            "delete {} and run `sysgen fetch` to download and extract it again",
            self.dir.display()
        );
        let Some(sum) = fp.digest(&archive)? else {
            user_bail!(
                "registry crate {id}: its archive {} is gone (cargo's cache cleaning removes archives), so the sources in {} cannot be checked against Cargo.lock; run `sysgen fetch` to download it again",
                archive.display(),
                self.dir.display()
            );
        };
        read.push(archive.clone());
        if let Some(lock) = self.lock
            && sum != lock
        {
            user_bail!(
                "registry crate {id}: the archive {} has SHA-256 {sum}, but Cargo.lock pins {lock}; delete the archive and {refetch}",
                archive.display()
            );
        }
        for (rel, want) in archive_listing(&archive, &sum, &id)? {
            let path = self.file(&rel, &archive)?;
            match fp.digest(&path)? {
                Some(got) if got == want => read.push(path),
                Some(_) => user_bail!(
                    "registry crate {id}: {} differs from the crate archive (modified after cargo extracted it); {refetch}",
                    path.display()
                ),
                None => user_bail!(
                    "registry crate {id}: {} is missing (the crate archive has it); {refetch}",
                    path.display()
                ),
            }
        }
        Ok(())
    }

    /// `rel` under the crate directory; a listing that climbs out of it is
    /// not trusted.
    fn file(&self, rel: &str, listed_in: &Path) -> Result<PathBuf> {
        let p = Path::new(rel);
        if p.components().any(|c| !matches!(c, Component::Normal(_))) {
            user_bail!(
                "registry crate {}: {} lists `{rel}`, a path outside the crate; fetch the crate again with `sysgen fetch`",
                self.id(),
                listed_in.display()
            );
        }
        Ok(self.dir.join(p))
    }
}

/// `(path under the crate directory, SHA-256)` of every regular file of a
/// `.crate` archive, kept in the cache under the archive's own digest.
fn archive_listing(archive: &Path, sum: &str, id: &str) -> Result<Vec<(String, String)>> {
    let cached = crate::base::cache_dir::dir().map(|d| d.join("crate-listings").join(sum));
    if let Some(text) = cached
        .as_ref()
        .and_then(|f| std::fs::read_to_string(f).ok())
        && let Some(listing) = parse_listing(&text)
    {
        return Ok(listing);
    }
    let file = std::fs::File::open(archive).map_err(|e| io_error("read", archive, &e))?;
    let bad = |e: std::io::Error| {
        crate::user_err!(
            "registry crate {id}: the archive {} cannot be read ({e}); delete it and run `sysgen fetch`",
            archive.display()
        )
    };
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut listing = Vec::new();
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(bad)?.into_owned();
        // Every path starts with `<name>-<version>/`.
        let rel: PathBuf = path.components().skip(1).collect();
        let Some(rel) = rel.to_str().filter(|r| !r.is_empty()) else {
            continue;
        };
        let rel = rel.to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(bad)?;
        listing.push((rel, sha256_hex(&bytes)));
    }
    listing.sort();
    if let Some(f) = &cached {
        let text: String = listing.iter().map(|(r, d)| format!("{d} {r}\n")).collect();
        let _ = crate::base::fsx::create_dir_all(f.parent().expect("in a directory"));
        let _ = crate::base::fsx::write_atomic(f, text.as_bytes());
    }
    Ok(listing)
}

fn parse_listing(text: &str) -> Option<Vec<(String, String)>> {
    text.lines()
        .map(|l| {
            let (d, r) = l.split_once(' ')?;
            (d.len() == 64).then(|| (r.to_string(), d.to_string()))
        })
        .collect()
}
