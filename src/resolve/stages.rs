//! The root crates of each stage: `--crates` (or -Zbuild-std's defaults)
//! as one stage 0, or the config's stages, with the crates each implies.

use crate::library::rules::Rules;
use crate::library::workspace::{PkgId, Workspace};
use crate::resolve::features;
use crate::resolve::graph::{BuildGraph, Request, StageRoot};
use crate::toolchain::target::Target;
use crate::user_bail;
use anyhow::Result;

impl BuildGraph {
    /// The root crates of each stage for `target`: from `--crates` (or the
    /// defaults) as one stage 0, or from the config's stages.
    pub(super) fn stage_roots(
        ws: &mut Workspace,
        target: &Target,
        rules: &Rules,
        req: &Request,
    ) -> Result<Vec<(u32, Vec<StageRoot>)>> {
        let runtime = || {
            rules
                .build_std
                .panic_runtime
                .get(&req.panic)
                .cloned()
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "rules/build-std.toml names no panic runtime for `{}`",
                        req.panic
                    )
                })
        };
        // A crate of the library's own tree, or `None` for one that may be
        // a registry package the resolution reaches (compiler_builtins came
        // from crates.io until Rust 1.86): looked up once resolved, by
        // name, as cargo's `Resolve::query` does.
        let library_root = |ws: &mut Workspace, name: &str| -> Result<Option<PkgId>> {
            features::find_package(ws, name)
        };
        let Some(config) = req.stage_config() else {
            let requested = match &req.crates {
                Some(c) => c.clone(),
                None => {
                    let mut c = if target.maybe_supports_std() {
                        rules.build_std.default_crates_std.clone()
                    } else {
                        rules.build_std.default_crates_no_std.clone()
                    };
                    if target.maybe_supports_std() {
                        c.push(runtime()?);
                    }
                    c
                }
            };
            let mut requested = rules.expand_crates(&requested);
            if req.test_harness && requested.iter().any(|c| c == "std") {
                for t in &rules.build_std.test_harness {
                    if !requested.contains(t) {
                        requested.push(t.clone());
                    }
                }
            }
            let mut roots = Vec::new();
            for name in requested {
                roots.push(StageRoot {
                    pkg: library_root(ws, &name)?,
                    name,
                    what: "--crates".into(),
                    features: Vec::new(),
                    defaults: true,
                    staged: false,
                });
            }
            return Ok(vec![(0, roots)]);
        };
        let what = config.path.display().to_string();
        let mut out = Vec::new();
        for (stage, specs) in config.stages_for(target)? {
            let mut roots = Vec::new();
            let mut library: Vec<String> = Vec::new();
            for spec in &specs {
                let pkg = match &spec.source {
                    crate::config::CrateSource::Library => {
                        library.push(spec.name.clone());
                        library_root(ws, &spec.name)?
                    }
                    crate::config::CrateSource::Git { .. } => {
                        unreachable!("the driver checks out git sources before the graph")
                    }
                    crate::config::CrateSource::Path(dir) => {
                        let id = ws.load_path(dir)?;
                        if ws.packages[id].name != spec.name {
                            user_bail!(
                                "{what}: `{}` points at package `{}` ({}); use the package's name as the key",
                                spec.name,
                                ws.packages[id].name,
                                dir.display()
                            );
                        }
                        Some(id)
                    }
                };
                roots.push(StageRoot {
                    pkg,
                    name: spec.name.clone(),
                    what: what.clone(),
                    features: spec.features.clone(),
                    defaults: spec.default_features,
                    staged: spec.stage > 0,
                });
            }
            // What a listed library crate brings along, as with --crates.
            let mut implied = rules.expand_crates(&library);
            if req.test_harness && implied.iter().any(|c| c == "std") {
                implied.extend(rules.build_std.test_harness.iter().cloned());
            }
            let needs_runtime = library
                .iter()
                .any(|c| rules.build_std.panic_runtime_with.contains(c));
            if needs_runtime && target.maybe_supports_std() {
                implied.push(runtime()?);
            }
            for name in implied {
                if specs.iter().any(|s| s.name == name) {
                    continue;
                }
                let pkg = library_root(ws, &name)?;
                if roots
                    .iter()
                    .any(|r| r.name == name || (pkg.is_some() && r.pkg == pkg))
                {
                    continue;
                }
                roots.push(StageRoot {
                    pkg,
                    name,
                    what: what.clone(),
                    features: Vec::new(),
                    defaults: true,
                    staged: false,
                });
            }
            out.push((stage, roots));
        }
        Ok(out)
    }
}
