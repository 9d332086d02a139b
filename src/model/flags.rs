//! A unit's flags from its profile and its manifest (features, lints,
//! check-cfg), and the cfgs rustc will see, for the source scan.

use crate::library::profile::PanicStrategy;
use crate::model::builder::{Builder, UnitCx};
use crate::model::schema::{Flag, Origin};

impl Builder<'_> {
    /// The cfgs rustc will see compiling `n` with `flags`, as far as they
    /// are known before its build script (if any) has run.
    pub(super) fn cfg_env(
        &self,
        cx: &UnitCx,
        flags: &[Flag],
        build_script: bool,
    ) -> crate::model::sources::CfgEnv {
        let u = cx.unit;
        let _p = cx.pkg;
        let prof = &cx.profile;
        let mut env = crate::model::sources::CfgEnv {
            build_script,
            ..Default::default()
        };
        for c in &self.g.target_of(u.platform).cfg {
            match c {
                cargo_platform::Cfg::Name(name) => {
                    env.names.insert(name.as_str().to_string());
                }
                cargo_platform::Cfg::KeyPair(k, v) => {
                    env.pairs.insert((k.as_str().to_string(), v.clone()));
                }
            }
        }
        // The probe ran without -O: the profile decides these.
        env.names.remove("debug_assertions");
        env.names.remove("overflow_checks");
        if prof.debug_assertions {
            env.names.insert("debug_assertions".into());
        }
        if prof.overflow_checks {
            env.names.insert("overflow_checks".into());
        }
        if cx.in_sysroot && cx.profile.panic != PanicStrategy::Unwind {
            env.pairs.retain(|(k, _)| k != "panic");
            env.pairs
                .insert(("panic".into(), cx.profile.panic.as_str().to_string()));
        }
        for f in &u.features {
            env.pairs.insert(("feature".into(), f.clone()));
        }
        // `--cfg` flags (RUSTFLAGS, profile rustflags, rules).
        let args: Vec<&String> = flags.iter().flat_map(|f| &f.args).collect();
        for (i, a) in args.iter().enumerate() {
            let spec = if *a == "--cfg" {
                args.get(i + 1).map(|s| s.as_str())
            } else {
                a.strip_prefix("--cfg=")
            };
            let Some(spec) = spec else { continue };
            match spec.split_once('=') {
                Some((k, v)) => {
                    env.pairs
                        .insert((k.to_string(), v.trim_matches('"').to_string()));
                }
                None => {
                    env.names.insert(spec.to_string());
                }
            }
        }
        env
    }

    /// The manifest's `[lints]` and the `--check-cfg` flags, as the
    /// compiler's release's cargo passes them (rules/rustc.toml).
    pub(super) fn feature_flags(&self, cx: &UnitCx) -> Vec<Flag> {
        let p = cx.pkg;
        let rules = &self.rules.rustc;
        let check_cfg = rules.check_cfg.passed(&self.release);
        let lints =
            !self.caps_lints(cx) || rules.lints.with_cap_lints_allow.hold_for(&self.release);
        let mut manifest = Vec::new();
        if lints {
            manifest.extend(p.lint_flags.iter().cloned());
            for c in p.check_cfg.iter().filter(|_| check_cfg) {
                manifest.extend(["--check-cfg".into(), c.clone()]);
            }
        }
        let mut always = Vec::new();
        for c in rules.check_cfg.always(&self.release) {
            always.extend(["--check-cfg".into(), c]);
        }
        if !check_cfg {
            return vec![Flag {
                args: manifest,
                origin: Origin::Manifest,
            }];
        }
        let mut all: Vec<String> = p.features.keys().cloned().collect();
        all.extend(
            p.deps
                .iter()
                .filter(|d| p.has_implicit_feature(&d.name))
                .map(|d| d.name.clone()),
        );
        all.sort();
        all.dedup();
        let values: Vec<String> = all.iter().map(|f| format!("\"{f}\"")).collect();
        vec![
            Flag {
                args: manifest,
                origin: Origin::Manifest,
            },
            Flag {
                args: always,
                origin: Origin::Rules {
                    file: "rustc.toml",
                    key: "check-cfg.always".into(),
                },
            },
            Flag {
                args: vec![
                    "--check-cfg".into(),
                    format!("cfg(feature, values({}))", values.join(", ")),
                ],
                origin: Origin::Manifest,
            },
        ]
    }

    /// Whether the unit's rules cap its lints at `allow` (rules/rustc.toml
    /// `[target-lib]`/`[host]`).
    fn caps_lints(&self, cx: &UnitCx) -> bool {
        let unit_rules = if cx.unit.platform == crate::resolve::graph::CompileKind::Host {
            &self.rules.rustc.host
        } else {
            &self.rules.rustc.target_lib
        };
        unit_rules
            .flags
            .windows(2)
            .any(|w| w[0] == "--cap-lints" && w[1] == "allow")
            || unit_rules.flags.iter().any(|f| f == "--cap-lints=allow")
    }

    pub(super) fn profile_flags(&self, cx: &UnitCx) -> Vec<Flag> {
        let _u = cx.unit;
        let _p = cx.pkg;
        let prof = &cx.profile;
        let profile = |args: Vec<String>| Flag {
            args,
            origin: Origin::Profile {
                name: self.opts.profile.name().to_string(),
            },
        };
        let c = |s: String| vec!["-C".to_string(), s];
        use crate::library::profile::{DebugInfo, Lto, OptLevel, Strip};
        let mut out = Vec::new();
        if prof.opt_level != OptLevel::O0 {
            out.push(profile(c(format!("opt-level={}", prof.opt_level.as_str()))));
        }
        if cx.in_sysroot && cx.profile.panic != PanicStrategy::Unwind {
            out.push(Flag {
                args: c(format!("panic={}", cx.profile.panic)),
                origin: Origin::Panic,
            });
        }
        let mut a = Vec::new();
        if prof.lto == Lto::Off {
            a.extend(c("embed-bitcode=no".into()));
        }
        if let Some(cgu) = prof.codegen_units {
            a.extend(c(format!("codegen-units={cgu}")));
        }
        if prof.debuginfo != DebugInfo::None {
            a.extend(c(format!("debuginfo={}", prof.debuginfo.as_str())));
        }
        let opt_default_da = prof.opt_level == OptLevel::O0;
        if prof.debug_assertions != opt_default_da {
            let on = if prof.debug_assertions { "on" } else { "off" };
            a.extend(c(format!("debug-assertions={on}")));
        }
        if prof.overflow_checks != prof.debug_assertions {
            let on = if prof.overflow_checks { "on" } else { "off" };
            a.extend(c(format!("overflow-checks={on}")));
        }
        let strip = prof.strip.or_else(|| {
            (prof.debuginfo == DebugInfo::None
                && self.profiles.is_release_like()
                && self
                    .rules
                    .rustc
                    .profile
                    .implicit_strip
                    .hold_for(&self.release))
            .then_some(Strip::Debuginfo)
        });
        if let Some(s) = strip.filter(|s| *s != Strip::None) {
            a.extend(c(format!("strip={}", s.as_str())));
        }
        out.push(profile(a));
        out
    }
}
