//! The build's order of priority (src/lower/schedule.rs), specified on the
//! mock library: the chain of long front ends keeps the build's CPU
//! priority, and a front end that could wait without making the build any
//! longer runs in the background.

use crate::support::*;
use sysgen::lower::schedule::background_front_ends;
use sysgen::model::Model;

fn std_model() -> Model {
    let g = graph(vec![linux()], &request(Some(&["std"]), None));
    let rules = sysgen::library::rules::Rules::load().unwrap();
    sysgen::model::build(&g, &rules, &model_options(&g)).unwrap()
}

/// The packages whose front end runs in the background, sorted.
fn background(m: &Model) -> Vec<String> {
    let mut v: Vec<String> = background_front_ends(m)
        .into_iter()
        .filter(|u| m.unit(*u).krate().is_some_and(|c| c.in_sysroot))
        .map(|u| m.unit(u).package.clone())
        .collect();
    v.sort();
    v
}

/// Give `package`'s sysroot crate a front end of `tenths` of a second.
fn set_cost(m: &mut Model, package: &str, tenths: u32) {
    for u in m.units.iter_mut().filter(|u| u.package == package) {
        if let sysgen::model::Body::Crate(c) = &mut u.body
            && c.in_sysroot
        {
            c.frontend_cost = tenths;
        }
    }
}

#[test]
fn the_chain_of_long_front_ends_keeps_its_priority_and_short_side_crates_wait() {
    let m = std_model();
    let bg = background(&m);
    // rules/rustc.toml: core 10 s → compiler_builtins 1.5 s → alloc 2.5 s
    // → std 4 s is the longest chain.
    for critical in ["core", "compiler_builtins", "alloc", "std"] {
        assert!(
            !bg.contains(&critical.to_string()),
            "{critical} is on the critical path: {bg:?}"
        );
    }
    // libcx (0.1 s after core) or panic_abort could start seconds later
    // without delaying std.
    for side in ["libcx", "panic_abort", "hashmapx"] {
        assert!(bg.contains(&side.to_string()), "{side} waits: {bg:?}");
    }
}

#[test]
fn a_long_front_end_on_a_side_chain_becomes_the_critical_path() {
    let mut m = std_model();
    // A libcx that takes 20 s: core → rustc-std-workspace-core → libcx →
    // std is now the longest chain, and alloc can wait.
    set_cost(&mut m, "libcx", 200);
    let bg = background(&m);
    assert!(!bg.contains(&"libcx".to_string()), "{bg:?}");
    assert!(
        !bg.contains(&"rustc-std-workspace-core".to_string()),
        "{bg:?}"
    );
    assert!(bg.contains(&"alloc".to_string()), "{bg:?}");
    assert!(!bg.contains(&"core".to_string()) && !bg.contains(&"std".to_string()));
}

#[test]
fn chains_within_a_second_of_the_longest_are_all_critical() {
    let mut m = std_model();
    // alloc's chain (core → compiler_builtins → alloc → std: 18 s) against
    // libcx's (core → rustc-std-workspace-core → libcx → std), 0.8 s
    // shorter: both keep their priority; 1.1 s shorter, libcx waits.
    set_cost(&mut m, "libcx", 31);
    let bg = background(&m);
    assert!(!bg.contains(&"libcx".to_string()), "{bg:?}");
    assert!(!bg.contains(&"alloc".to_string()), "{bg:?}");
    set_cost(&mut m, "libcx", 28);
    assert!(background(&m).contains(&"libcx".to_string()));
}

#[test]
fn the_parallel_front_end_gets_the_cores_that_the_targets_leave() {
    use sysgen::model::declare::default_frontend_threads;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(
        default_frontend_threads(1),
        cores.min(8),
        "one target: its chain has every core"
    );
    assert_eq!(
        default_frontend_threads(cores),
        1,
        "a target per core: every core has a front end of its own to run"
    );
    assert_eq!(default_frontend_threads(12), 1);
}
