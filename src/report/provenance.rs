//! What went into a sysroot: the provenance manifest every built sysroot
//! carries (`lib/rustlib/<target>/sysgen-manifest.json`) and the CycloneDX
//! SBOM of `sysgen sbom`.
//!
//! Both are views of one list of [`CrateRecord`]s, derived from the graph
//! (where each package came from, its lockfile checksum) and the model
//! (features, the path-free rustc arguments). Neither holds a timestamp, a
//! random serial number or an output-directory path: two identical builds
//! give byte-identical files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use crate::library::workspace::PkgId;
use crate::model::Model;
use crate::resolve::load::Loaded;

/// Where a package's sources came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Source {
    /// rust-src's `library/` (`path` under it, e.g. `core`).
    RustSrc { path: String },
    /// crates.io, checked against the lockfile's checksum. Whether this
    /// machine kept the archive in the Cargo home or a `cargo vendor`
    /// directory is not recorded: the sysroot is the same either way, and a
    /// sysroot another machine uploaded must carry the same manifest.
    Registry,
    /// A git checkout of the user's configuration.
    Git {
        url: String,
        reference: String,
        commit: Option<String>,
    },
    /// A path crate of the user's configuration (`[patch]` or a custom crate).
    Path,
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::RustSrc { path } => format!("rust-src library/{path}"),
            Source::Registry => "registry (crates.io)".into(),
            Source::Git {
                url,
                reference,
                commit,
            } => match commit {
                Some(c) => format!("git {url} {reference} ({c})"),
                None => format!("git {url} {reference}"),
            },
            Source::Path => "path".into(),
        }
    }
}

/// One crate compiled into a sysroot.
#[derive(Debug, Clone, Serialize)]
pub struct CrateRecord {
    pub package: String,
    pub version: String,
    pub crate_name: String,
    pub source: Source,
    /// The lockfile's SHA-256 of the package archive (registry crates).
    pub checksum: Option<String>,
    pub features: Vec<String>,
    /// rustc's arguments for it, without paths (see `CrateDecl::args`).
    pub flags: Vec<String>,
}

/// The manifest of target `t`'s sysroot.
#[derive(Debug, Serialize)]
struct Manifest<'a> {
    generated_by: String,
    rustc: RustcRecord<'a>,
    target: &'a str,
    profile: &'a str,
    panic: &'a str,
    crates: Vec<CrateRecord>,
}

#[derive(Debug, Serialize)]
struct RustcRecord<'a> {
    version: &'a str,
    commit: Option<&'a str>,
    host: &'a str,
}

/// Where each package of the graph came from, by (name, version).
struct Origins {
    by_id: BTreeMap<(String, String), (Source, Option<String>)>,
}

impl Origins {
    fn new(loaded: &Loaded) -> Origins {
        let g = &loaded.graph;
        let ws = &g.ws;
        let pkgs: BTreeSet<PkgId> = g.graph.node_weights().map(|u| u.pkg).collect();
        let mut by_id = BTreeMap::new();
        for p in pkgs {
            let pkg = &ws.packages[p];
            let dir = pkg.dir();
            let source = if ws.is_registry_package(p) {
                Source::Registry
            } else if let Some((url, reference, checkout)) = git_origin(loaded, dir) {
                Source::Git {
                    url,
                    reference,
                    commit: head_commit(&checkout),
                }
            } else if let Ok(rel) = dir.strip_prefix(&ws.root) {
                Source::RustSrc {
                    path: rel.to_string_lossy().into_owned(),
                }
            } else {
                Source::Path
            };
            let checksum = ws.lock_checksum(p).map(str::to_string);
            by_id.insert(
                (pkg.name.clone(), pkg.version.to_string()),
                (source, checksum),
            );
        }
        Origins { by_id }
    }

    fn record(&self, u: &crate::model::UnitDecl) -> Option<CrateRecord> {
        let c = u.krate()?;
        let (source, checksum) = self
            .by_id
            .get(&(u.package.clone(), u.version.clone()))
            .cloned()
            .unwrap_or((Source::Path, None));
        Some(CrateRecord {
            package: u.package.clone(),
            version: u.version.clone(),
            crate_name: c.crate_name.clone(),
            source,
            checksum,
            features: c.features.clone(),
            flags: c.args(),
        })
    }
}

/// The git origin (URL, reference, checkout directory) of a package inside
/// a checkout of the user's configuration.
fn git_origin(loaded: &Loaded, dir: &Path) -> Option<(String, String, std::path::PathBuf)> {
    let c = loaded.config.as_ref()?;
    c.checkouts.iter().find_map(|(src, checkout)| match src {
        crate::config::CrateSource::Git { url, reference } if dir.starts_with(checkout) => {
            Some((url.clone(), format!("{reference:?}"), checkout.clone()))
        }
        _ => None,
    })
}

/// The commit a checkout's HEAD names (a detached HEAD or a branch ref).
fn head_commit(checkout: &Path) -> Option<String> {
    let mut dir = checkout.to_path_buf();
    let git = loop {
        if dir.join(".git").exists() {
            break dir.join(".git");
        }
        if !dir.pop() {
            return None;
        }
    };
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let commit = match head.strip_prefix("ref: ") {
        Some(r) => std::fs::read_to_string(git.join(r))
            .ok()?
            .trim()
            .to_string(),
        None => head.to_string(),
    };
    (commit.len() == 40).then_some(commit)
}

/// `sysgen-manifest.json` of every target, as (target name, contents),
/// for the emitters that assemble a sysroot.
pub fn manifests(loaded: &Loaded, model: &Model) -> Vec<(String, Vec<u8>)> {
    let origins = Origins::new(loaded);
    let g = &loaded.graph;
    model
        .targets_by_id()
        .map(|(t, target)| {
            let m = Manifest {
                generated_by: format!("sysgen {}", env!("CARGO_PKG_VERSION")),
                rustc: RustcRecord {
                    version: &g.rustc.version,
                    commit: g.rustc.commit_hash.as_deref(),
                    host: &g.rustc.host,
                },
                target: &target.name,
                profile: loaded.profile.name(),
                panic: loaded.profile.panic().as_str(),
                crates: model
                    .sysroot_libs(t)
                    .filter_map(|u| origins.record(u))
                    .collect(),
            };
            let mut text = serde_json::to_string_pretty(&m).expect("serializable");
            text.push('\n');
            (target.name.clone(), text.into_bytes())
        })
        .collect()
}

/// The manifest's file name, beside `lib/` in `lib/rustlib/<target>/`.
pub const MANIFEST: &str = "sysgen-manifest.json";

/// A CycloneDX 1.5 JSON SBOM of the sysroot: one component per package of
/// the graph (sysroot crates and what their build scripts link), the
/// dependencies between them, and sysgen as the tool.
pub fn sbom(loaded: &Loaded, model: &Model) -> Result<String> {
    use cyclonedx_bom::external_models::normalized_string::NormalizedString;
    use cyclonedx_bom::external_models::uri::Purl;
    use cyclonedx_bom::models::bom::{Bom, SpecVersion, UrnUuid};
    use cyclonedx_bom::models::component::{Classification, Component, Components};
    use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
    use cyclonedx_bom::models::hash::{Hash, HashAlgorithm, HashValue, Hashes};
    use cyclonedx_bom::models::metadata::Metadata;
    use cyclonedx_bom::models::property::{Properties, Property};
    use cyclonedx_bom::models::tool::{Tool, Tools};

    let origins = Origins::new(loaded);
    let g = &loaded.graph;
    let bom_ref = |package: &str, version: &str| format!("{package}@{version}");
    // One component per package; what differs between its units (targets,
    // features) becomes properties.
    struct Entry {
        record: CrateRecord,
        targets: BTreeSet<String>,
        features: BTreeSet<String>,
        deps: BTreeSet<String>,
    }
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    for u in &model.units {
        let Some(record) = origins.record(u) else {
            continue;
        };
        let key = bom_ref(&u.package, &u.version);
        let platform = match u.target {
            Some(t) => model.target(t).name.clone(),
            None => format!("{} (host)", model.host),
        };
        let deps: Vec<String> = u
            .krate()
            .map(|c| {
                c.deps
                    .iter()
                    .map(|d| {
                        let du = model.unit(d.unit);
                        bom_ref(&du.package, &du.version)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let e = entries.entry(key).or_insert_with(|| Entry {
            record: record.clone(),
            targets: BTreeSet::new(),
            features: BTreeSet::new(),
            deps: BTreeSet::new(),
        });
        e.targets.insert(platform);
        e.features.extend(record.features.iter().cloned());
        e.deps.extend(deps);
    }
    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    for (key, e) in &entries {
        let r = &e.record;
        let mut c = Component::new(
            Classification::Library,
            &r.package,
            &r.version,
            Some(key.clone()),
        );
        if r.source == Source::Registry {
            c.purl = Purl::new("cargo", &r.package, &r.version).ok();
        }
        if let Some(sum) = &r.checksum {
            c.hashes = Some(Hashes(vec![Hash {
                alg: HashAlgorithm::SHA_256,
                content: HashValue(sum.clone()),
            }]));
        }
        let mut props = vec![Property::new("sysgen:source", &r.source.describe())];
        props.push(Property::new(
            "sysgen:targets",
            &e.targets.iter().cloned().collect::<Vec<_>>().join(","),
        ));
        if !e.features.is_empty() {
            props.push(Property::new(
                "sysgen:features",
                &e.features.iter().cloned().collect::<Vec<_>>().join(","),
            ));
        }
        c.properties = Some(Properties(props));
        components.push(c);
        dependencies.push(Dependency {
            dependency_ref: key.clone(),
            dependencies: e.deps.iter().filter(|d| *d != key).cloned().collect(),
        });
    }
    let targets: Vec<String> = model.targets.iter().map(|t| t.name.clone()).collect();
    let mut sysroot = Component::new(
        Classification::Library,
        &format!("sysroot-{}", targets.join("+")),
        &g.rustc.release,
        Some("sysroot".into()),
    );
    sysroot.description = Some(NormalizedString::new(&format!(
        "Rust standard library sysroot built by sysgen with {} ({} profile, panic={})",
        g.rustc.version,
        loaded.profile.name(),
        loaded.profile.panic().as_str()
    )));
    dependencies.insert(
        0,
        Dependency {
            dependency_ref: "sysroot".into(),
            dependencies: entries
                .iter()
                .filter(|(_, e)| e.targets.iter().any(|t| !t.ends_with("(host)")))
                .map(|(k, _)| k.clone())
                .collect(),
        },
    );
    // A serial number derived from the content: the same sysroot, the same SBOM.
    let digest = crate::base::fingerprint::sha256_hex(
        format!(
            "{targets:?}{:?}{}",
            entries.keys().collect::<Vec<_>>(),
            g.rustc.version
        )
        .as_bytes(),
    );
    let uuid = format!(
        "urn:uuid:{}-{}-8{}-a{}-{}",
        &digest[0..8],
        &digest[8..12],
        &digest[13..16],
        &digest[17..20],
        &digest[20..32]
    );
    let bom = Bom {
        version: 1,
        serial_number: UrnUuid::new(uuid).ok(),
        metadata: Some(Metadata {
            timestamp: None,
            tools: Some(Tools::List(vec![Tool {
                vendor: None,
                name: Some(NormalizedString::new("sysgen")),
                version: Some(NormalizedString::new(env!("CARGO_PKG_VERSION"))),
                hashes: None,
                external_references: None,
            }])),
            authors: None,
            component: Some(sysroot),
            manufacture: None,
            supplier: None,
            licenses: None,
            properties: None,
            lifecycles: None,
        }),
        components: Some(Components(components)),
        services: None,
        external_references: None,
        dependencies: Some(Dependencies(dependencies)),
        compositions: None,
        properties: None,
        vulnerabilities: None,
        signature: None,
        annotations: None,
        formulation: None,
        spec_version: SpecVersion::V1_5,
    };
    let mut out = Vec::new();
    bom.output_as_json_v1_5(&mut out)
        .map_err(|e| anyhow::anyhow!("cannot write the SBOM: {e}"))?;
    out.push(b'\n');
    Ok(String::from_utf8(out).expect("JSON is UTF-8"))
}
