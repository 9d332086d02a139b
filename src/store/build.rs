//! Getting a sysroot from the store: found, or generated, built with Ninja
//! and published (what `sysgen cargo` asks for).

use anyhow::Result;

use crate::base::fingerprint::Fingerprints;
use crate::emit::generate::{self, BuildOptions, RegenFn};
use crate::emit::outdir;
use crate::exec::ninja;
use crate::library::rules::Rules;
use crate::model::declare::{self, ModelFlags};
use crate::resolve::load::{self, GraphOptions};
use crate::store::{entries, invalidate, key, remote};
use crate::toolchain::target;

/// A sysroot from the store ([`crate::store`]): found, or built and
/// published.
pub struct Stored {
    pub entry: entries::Entry,
    /// Whether this call built it (else it was reused or downloaded).
    pub built: bool,
    /// Where this call downloaded it from (the remote cache, credentials
    /// redacted).
    pub downloaded: Option<String>,
    pub summary: key::Summary,
    /// The targets, as probed.
    pub targets: Vec<target::Target>,
    /// The compiler (and the driver) that built it.
    pub rustc: target::Rustc,
}

/// The store's sysroot for these options: reused when a published one was
/// built from the same declarations and the same file contents, else built
/// (in the family's build directory, under its lock; with `jobs`, in a
/// jobserver of that many slots) and published.
/// Progress goes to stderr: stdout may be cargo's.
pub fn sysroot_in_store(
    opts: &GraphOptions,
    flags: &ModelFlags,
    rustc_wrapper: Option<String>,
    regen: RegenFn,
    jobs: Option<usize>,
) -> Result<Stored> {
    // One fingerprint cache for the sources' check and the store's lookup.
    let mut fp = Fingerprints::open()?;
    let rules = Rules::load()?;
    let loaded = load::load_with(opts, &rules, &mut fp)?;
    let model = declare::declare(&loaded, &rules, flags)?;
    let family = key::Family::of(&model, &loaded.graph.rustc, &loaded.profile, flags.check)?;
    let roots = key::Roots::of(&model);
    let st = entries::Store::open()?;
    // What an interrupted download or build left behind goes first.
    st.remove_stale_staging();
    // Read before anything is built: a wrong setting stops here.
    let remote = remote::Remote::configured()?;
    let found = st.find(&family, &roots, &mut fp)?;
    let stored = |entry: entries::Entry, built: bool, downloaded: Option<String>| {
        entry.touch();
        Stored {
            entry,
            built,
            downloaded,
            summary: family.summary.clone(),
            targets: loaded.graph.targets.clone(),
            rustc: loaded.graph.rustc.clone(),
        }
    };
    if let Some(e) = found {
        fp.save();
        return Ok(stored(e, false, None));
    }
    let lock = st.lock(&family)?;
    // Another sysgen may have published it while this one waited.
    if let Some(e) = st.find(&family, &roots, &mut fp)? {
        fp.save();
        return Ok(stored(e, false, None));
    }
    // A miss here: the remote cache, if one is configured, keyed by the
    // inputs this machine's model declares.
    let wanted = match &remote {
        Some(_) => remote_inputs(&loaded, &rules, flags, &model, &roots, &mut fp)?,
        None => None,
    };
    if let (Some(r), Some((inputs, expected))) = (&remote, &wanted)
        && let Some(e) = r.fetch(&st, &family, &lock, inputs, expected)?
    {
        fp.save();
        return Ok(stored(e, false, Some(r.shown())));
    }
    // What is built here is published: it must be as private as the store.
    crate::base::private::dir(&st.dir.join("build"))?;
    crate::base::private::check_path(&st.build_dir(&family))?;
    let build = BuildOptions {
        out_dir: st.build_dir(&family),
        pipeline: true,
        model: flags.clone(),
        rustc_wrapper,
    };
    let dir = outdir::OutDir::check(&build.out_dir, outdir::NINJA)?;
    generate::write_ninja(&build, &loaded, &model, &dir, regen)?;
    invalidate::invalidate_changed(&dir.path, &mut fp)?;
    ninja::run_ninja_to(&dir.path, true, jobs)?;
    let files = invalidate::files_read(&dir.path, &roots, &mut fp)?;
    let entry = st.publish(&family, &lock, &dir.path, files)?;
    fp.save();
    if let (Some(r), Some((inputs, _))) = (&remote, &wanted) {
        r.upload(&st, &family, &entry, inputs)?;
    }
    Ok(stored(entry, true, None))
}

/// What the remote cache is asked with: the inputs this machine's model
/// declares (its source lists, computed here) and what a sysroot of the
/// configuration holds. `None`, with one line, when the inputs are too
/// many to share.
fn remote_inputs(
    loaded: &load::Loaded,
    rules: &Rules,
    flags: &ModelFlags,
    model: &crate::model::Model,
    roots: &key::Roots,
    fp: &mut Fingerprints,
) -> Result<Option<(remote::inputs::Inputs, remote::Expected)>> {
    let listed = declare::declare(
        loaded,
        rules,
        &ModelFlags {
            sources: true,
            ..flags.clone()
        },
    )?;
    let Some(inputs) = remote::inputs::Inputs::of(&listed, roots, fp)? else {
        eprintln!(
            "sysgen: warning: this configuration declares more than {} input files; not using the remote cache",
            remote::inputs::MAX_FILES
        );
        return Ok(None);
    };
    let mut files = std::collections::BTreeMap::new();
    for lib in crate::lower::sysroot_libraries(model, flags.check) {
        files.insert(lib.display().to_string(), None);
    }
    for (target, text) in crate::report::provenance::manifests(loaded, model) {
        let rel = std::path::Path::new("lib/rustlib")
            .join(target)
            .join(crate::report::provenance::MANIFEST);
        files.insert(
            rel.display().to_string(),
            Some(crate::base::fingerprint::sha256_hex(&text)),
        );
    }
    Ok(Some((inputs, remote::Expected { files })))
}
