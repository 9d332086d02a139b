//! The environment of a unit: `CARGO_PKG_*` for compiles and runs, and a
//! build-script run's whole declaration (cargo's variables, cfgs, links).

use crate::library::profile::ProfileFor;
use crate::model::builder::{Builder, UnitCx};
use crate::model::schema::{EnvValue, RunDecl};
use crate::resolve::graph::{EdgeKind, UnitKind};
use std::collections::BTreeMap;

impl Builder<'_> {
    /// `CARGO_PKG_*` and friends, as cargo sets them for a compile or a run.
    pub(super) fn pkg_env(&self, cx: &UnitCx) -> Vec<(String, EnvValue)> {
        let u = cx.unit;
        let p = cx.pkg;
        let v = &p.version;
        let text = |s: String| {
            // A build file cannot carry a newline inside a command, and
            // every emitter must give the same value: the only multi-line
            // value in practice is a description.
            let s = if s.contains(['\n', '\r']) {
                s.split_whitespace().collect::<Vec<_>>().join(" ")
            } else {
                s
            };
            EnvValue::Text(s)
        };
        let crate_name = match u.kind {
            UnitKind::Lib => p.lib.as_ref().map(|l| l.name.clone()).unwrap_or_default(),
            _ => "build_script_build".into(),
        };
        vec![
            (
                "CARGO_MANIFEST_DIR".into(),
                EnvValue::Path(self.src_path(p.dir())),
            ),
            (
                "CARGO_MANIFEST_PATH".into(),
                EnvValue::Path(self.src_path(&p.manifest_path)),
            ),
            ("CARGO_PKG_NAME".into(), text(p.name.clone())),
            ("CARGO_PKG_VERSION".into(), text(v.to_string())),
            ("CARGO_PKG_VERSION_MAJOR".into(), text(v.major.to_string())),
            ("CARGO_PKG_VERSION_MINOR".into(), text(v.minor.to_string())),
            ("CARGO_PKG_VERSION_PATCH".into(), text(v.patch.to_string())),
            ("CARGO_PKG_VERSION_PRE".into(), text(v.pre.to_string())),
            ("CARGO_PKG_AUTHORS".into(), text(p.meta.authors.join(":"))),
            (
                "CARGO_PKG_DESCRIPTION".into(),
                text(p.meta.description.clone()),
            ),
            ("CARGO_PKG_HOMEPAGE".into(), text(p.meta.homepage.clone())),
            (
                "CARGO_PKG_REPOSITORY".into(),
                text(p.meta.repository.clone()),
            ),
            ("CARGO_PKG_LICENSE".into(), text(p.meta.license.clone())),
            (
                "CARGO_PKG_LICENSE_FILE".into(),
                text(p.meta.license_file.clone()),
            ),
            (
                "CARGO_PKG_RUST_VERSION".into(),
                text(p.meta.rust_version.clone()),
            ),
            ("CARGO_PKG_README".into(), text(p.meta.readme.clone())),
            ("CARGO_CRATE_NAME".into(), text(crate_name)),
        ]
    }

    pub(super) fn run_decl(&self, cx: &UnitCx) -> RunDecl {
        let u = cx.unit;
        let p = cx.pkg;
        let target = self.g.target_of(u.platform);
        let script = self
            .g
            .deps(cx.n)
            .find(|(d, _)| self.g.graph[*d].kind == UnitKind::BuildScriptCompile)
            .map(|(d, _)| self.ids[&d])
            .expect("run has a compile");
        let prof = self.profiles.get(&p.name, ProfileFor::Target);
        let mut env: BTreeMap<String, EnvValue> = self.pkg_env(cx).into_iter().collect();
        let text = |s: &str| EnvValue::Text(s.to_string());
        env.insert("OUT_DIR".into(), EnvValue::OutDir(self.ids[&cx.n]));
        env.insert("TARGET".into(), text(&target.name));
        env.insert("HOST".into(), text(&self.g.host.name));
        env.insert("NUM_JOBS".into(), text("1"));
        env.insert("OPT_LEVEL".into(), text(prof.opt_level.as_str()));
        let debug = prof.debuginfo != crate::library::profile::DebugInfo::None;
        env.insert("DEBUG".into(), text(&debug.to_string()));
        let release = if self.profiles.is_release_like() {
            "release"
        } else {
            "debug"
        };
        env.insert("PROFILE".into(), text(release));
        env.insert("RUSTC".into(), EnvValue::Rustc);
        env.insert("RUSTC_BOOTSTRAP".into(), text("1"));
        let mut flags = prof.rustflags.clone();
        if let Some((_, d)) = self.driver() {
            flags.extend(d.rustflags.iter().cloned());
            for (k, v) in &d.run_env {
                env.insert(k.clone(), text(v));
            }
        }
        flags.extend(self.user_flags(u.platform).iter().cloned());
        env.insert(
            "CARGO_ENCODED_RUSTFLAGS".into(),
            text(&flags.join("\u{1f}")),
        );
        if let Some(l) = &p.links {
            env.insert("CARGO_MANIFEST_LINKS".into(), text(l));
        }
        for f in &u.features {
            env.insert(
                format!("CARGO_FEATURE_{}", f.to_uppercase().replace('-', "_")),
                text("1"),
            );
        }
        let mut cfgs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for c in &target.cfg {
            match c {
                cargo_platform::Cfg::Name(name) => {
                    cfgs.entry(name.as_str().to_string()).or_default();
                }
                cargo_platform::Cfg::KeyPair(k, v) => {
                    cfgs.entry(k.as_str().to_string())
                        .or_default()
                        .push(v.clone());
                }
            }
        }
        if !prof.debug_assertions {
            cfgs.remove("debug_assertions");
        } else {
            cfgs.entry("debug_assertions".into()).or_default();
        }
        for (k, v) in cfgs {
            env.insert(
                format!("CARGO_CFG_{}", k.to_uppercase()),
                text(&v.join(",")),
            );
        }
        let mut links_deps = Vec::new();
        for (d, e) in self.g.deps(cx.n) {
            if *e == EdgeKind::LinksMetadata {
                let other = &self.g.ws.packages[self.g.graph[d].pkg];
                links_deps.push((other.links.clone().unwrap_or_default(), self.ids[&d]));
            }
        }
        RunDecl {
            script,
            cwd: self.src_path(p.dir()),
            env: env.into_iter().collect(),
            links_deps,
            check_cfg: self.rules.rustc.check_cfg.passed(&self.release),
        }
    }
}
