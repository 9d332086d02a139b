//! Source lists (src/sources.rs): the files rustc will read, known before
//! the build. First the rules, on a fixture crate (`tests/fixtures/srcwalk`,
//! never compiled); then the lists against the dep-info of real builds, in
//! both directions: every file rustc read is listed, and every listed file
//! is read unless only a build script's cfg decides it.

use std::collections::{BTreeMap, BTreeSet};

use std::path::{Path, PathBuf};

use crate::support::unexplained;
use sysgen::model::sources::{Certainty, CfgEnv, FileList, Scanner};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/srcwalk")
}

fn linux(build_script: bool) -> CfgEnv {
    CfgEnv {
        names: ["unix".to_string()].into_iter().collect(),
        pairs: [("target_os".to_string(), "linux".to_string())]
            .into_iter()
            .collect(),
        build_script,
    }
}

fn rel(map: &BTreeMap<PathBuf, Certainty>, c: Certainty) -> Vec<String> {
    let root = fixture();
    let mut v: Vec<String> = map
        .iter()
        .filter(|(_, v)| **v == c)
        .map(|(p, _)| p.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    v.sort();
    v
}

fn walk(env: &CfgEnv) -> FileList {
    Scanner::default().crate_files(&fixture().join("src/lib.rs"), env)
}

#[test]
fn modules_includes_and_cfgs_are_followed_as_rustc_follows_them() {
    let files = walk(&linux(true));
    assert_eq!(
        rel(&files.srcs, Certainty::Sure),
        [
            // #[path = "../beyond.rs"] in the inline `mod via`.
            "src/beyond.rs",
            // `mod elsewhere;` via #[path]; a #[path] file's own modules
            // live beside it.
            "src/elsewhere/renamed.rs",
            "src/elsewhere/sub.rs",
            // cfg_select!: the first arm that holds.
            "src/first_match.rs",
            // A non-mod-rs file's modules live in a directory of its name.
            "src/flat.rs",
            "src/flat/child.rs",
            // A `macro_rules!` that declares a module, where it is invoked.
            "src/from_macro.rs",
            // include!: its items join the module; its includes are
            // relative to itself.
            "src/included.rs",
            "src/inline/inner.rs",
            "src/lib.rs",
            "src/nested/child.rs",
            "src/nested/mod.rs",
            // cfg_if!: the else arm when the if does not hold.
            "src/otherwise.rs",
            "src/unix.rs",
            // #[cfg_attr(unix, path = …)] replaces the default file.
            "src/unix_impl.rs",
        ]
    );
    assert_eq!(
        rel(&files.srcs, Certainty::Maybe),
        ["src/maybe.rs", "src/wrapped_other.rs", "src/wrapped_win.rs"],
        "a cfg only a build script can set, and a macro sysgen does not expand, leave files undecided"
    );
    assert_eq!(
        rel(&files.data, Certainty::Sure),
        [
            "README.md",
            "src/data/x.txt",
            // concat!("docs/", stringify!($t), ".md") for each argument.
            "src/docs/alpha.md",
            "src/docs/beta.md"
        ],
        "never.md is behind #[cfg(doctest)]"
    );
    assert_eq!(
        rel(&files.data, Certainty::Maybe),
        ["src/via/keeper.txt"],
        "a directory a path leaves by `..` keeps a listed file"
    );
}

#[test]
fn without_a_build_script_unknown_cfgs_are_false_and_features_are_known() {
    let mut env = linux(false);
    let files = walk(&env);
    assert_eq!(
        rel(&files.srcs, Certainty::Maybe),
        ["src/wrapped_other.rs", "src/wrapped_win.rs"],
        "only what a macro sysgen does not expand stays undecided"
    );
    assert!(!rel(&files.srcs, Certainty::Sure).contains(&"src/maybe.rs".to_string()));
    assert!(!rel(&files.srcs, Certainty::Sure).contains(&"src/extra.rs".to_string()));
    env.pairs.insert(("feature".into(), "extra".into()));
    let files = walk(&env);
    assert!(rel(&files.srcs, Certainty::Sure).contains(&"src/extra.rs".to_string()));
}

#[test]
fn a_bare_metal_target_reads_other_files() {
    let env = CfgEnv {
        pairs: [("target_os".to_string(), "none".to_string())]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let sure = rel(&walk(&env).srcs, Certainty::Sure);
    for f in [
        "src/bare.rs",
        "src/bare_too.rs",
        "src/fallback.rs",
        "src/platform.rs",
    ] {
        assert!(sure.contains(&f.to_string()), "{f}: {sure:#?}");
    }
    for f in ["src/unix.rs", "src/first_match.rs", "src/otherwise.rs"] {
        assert!(!sure.contains(&f.to_string()), "{f}");
    }
}

#[test]
fn listing_every_file_of_the_library_is_not_a_source_list() {
    // The check above must be able to fail: a list of everything (what a
    // glob would give) leaves files rustc never read unexplained.
    let lib = std::fs::read_dir(fixture().join("src"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect::<BTreeSet<_>>();
    let read: BTreeSet<String> = [fixture().join("src/lib.rs").display().to_string()]
        .into_iter()
        .collect();
    let (_, extra) = unexplained(&lib, &BTreeSet::new(), &read);
    assert!(!extra.is_empty());
}
