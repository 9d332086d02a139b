//! The one pipeline every build-file emitter goes through: check the output
//! directory, load and declare, lower, render, add the sysroot's provenance
//! manifests, and commit every file at once. Nothing is written until
//! everything has been computed.

use anyhow::Result;

use crate::base::fsx;
use crate::emit::{bazel, buck2, make, ninja, outdir, shell};
use crate::lower::{self, Word};
use crate::model::Model;
use crate::model::declare::{self, ModelFlags};
use crate::resolve::load::{GraphOptions, Loaded};
use crate::user_bail;

/// How to build: where, and with which crate model.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub out_dir: std::path::PathBuf,
    /// Pipelined compilation (see `pipe.rs`); on unless `--no-pipeline`.
    pub pipeline: bool,
    pub model: ModelFlags,
    /// `--rustc-wrapper` / `RUSTC_WRAPPER` (Ninja builds).
    pub rustc_wrapper: Option<String>,
}

/// The command that regenerates a build file: its environment and
/// `sysgen`'s arguments after the program. The command line owns its flags,
/// so it makes this (`cli::regen`); an emitter only places it.
pub struct Regen {
    pub env: Vec<(String, Word)>,
    pub args: Vec<Word>,
}

/// Makes the regeneration command once the selection is loaded.
pub type RegenFn<'a> = &'a dyn Fn(&Loaded, &BuildOptions) -> Regen;

/// Every file generation read, and sysgen itself: a change to any
/// regenerates the build file.
fn regen_inputs(loaded: &Loaded, sysgen: &std::path::Path) -> Vec<std::path::PathBuf> {
    let g = &loaded.graph;
    let mut inputs: Vec<std::path::PathBuf> = g.ws.inputs.iter().cloned().collect();
    inputs.extend(
        g.targets
            .iter()
            .filter_map(|t| t.spec_file().map(std::path::Path::to_path_buf)),
    );
    inputs.push(sysgen.to_path_buf());
    inputs
}

/// Generate DIR/build.ninja (and the build-script specs it reads). Nothing
/// is written unless everything was computed.
pub fn generate_ninja(
    opts: &GraphOptions,
    build: &BuildOptions,
    regen: RegenFn,
) -> Result<std::path::PathBuf> {
    let mut build = build.clone();
    let dir = outdir::OutDir::check(&build.out_dir, outdir::NINJA)?;
    build.out_dir = dir.path.clone();
    let (loaded, model) = declare::load_declared(opts, &build.model)?;
    write_ninja(&build, &loaded, &model, &dir, regen)
}

/// Lower `model`, render build.ninja and commit it to `dir`.
pub fn write_ninja(
    build: &BuildOptions,
    loaded: &Loaded,
    model: &Model,
    dir: &outdir::OutDir,
    regen: RegenFn,
) -> Result<std::path::PathBuf> {
    let g = &loaded.graph;
    let sysgen = fsx::current_exe()?;
    let p = lower::lower(
        model,
        &lower::LowerOptions {
            out_dir: build.out_dir.clone(),
            check: build.model.check,
            sysgen: sysgen.clone(),
            pipeline: build.pipeline,
            runs_in_out_dir: true,
            rustc_wrapper: build.rustc_wrapper.clone(),
        },
    )?;
    let inputs = regen_inputs(loaded, &sysgen);
    let regen_inputs: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    // ninja regenerates from inside the output directory, wherever it is.
    let Regen { env, mut args } = regen(loaded, build);
    args.extend(["--out-dir".into(), ".".into()]);
    let mut files: Vec<(std::path::PathBuf, Vec<u8>)> = p
        .files
        .iter()
        .map(|(path, contents)| (path.clone(), contents.clone().into_bytes()))
        .collect();
    files.push((
        crate::report::timings::ACTIONS.into(),
        crate::report::timings::action_infos(&p.actions).into_bytes(),
    ));
    for (target, text) in crate::report::provenance::manifests(loaded, model) {
        let rel = std::path::Path::new("sysroot/lib/rustlib").join(target);
        files.push((rel.join(crate::report::provenance::MANIFEST), text));
    }
    let meta = ninja::NinjaMeta {
        version: env!("CARGO_PKG_VERSION").to_string(),
        rust_src: g.ws.root.display().to_string(),
        profile: loaded.profile.name().to_string(),
        regen_cmd: shell::command_line(&env, &sysgen.display().to_string(), &args),
        regen_inputs,
        sysgen: sysgen.display().to_string(),
        env_vars: crate::exec::envdeps::tracked(&dir.path),
        restorable: files.iter().map(|(p, _)| p.display().to_string()).collect(),
    };
    let text = ninja::to_string(&p, &meta)?;
    files.push(("build.ninja".into(), text.into_bytes()));
    dir.commit(&files, &p.keep)?;
    // A regeneration input: a new stamp there adds its check to the build.
    fsx::create_dir_all(&dir.join(crate::exec::envdeps::DIR))?;
    let out = dir.join("build.ninja");
    fsx::touch_after(&out, &inputs)?;
    Ok(out)
}

/// An emitter's files, and each target's provenance manifest at the path
/// `manifest_file` gives it.
fn with_manifests(
    files: Vec<(std::path::PathBuf, String)>,
    loaded: &Loaded,
    model: &Model,
    manifest_file: fn(&str) -> String,
) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out: Vec<(std::path::PathBuf, Vec<u8>)> = files
        .into_iter()
        .map(|(p, s)| (p, s.into_bytes()))
        .collect();
    for (target, text) in crate::report::provenance::manifests(loaded, model) {
        out.push((manifest_file(&target).into(), text));
    }
    out
}

/// `--for TOOL` is refused by the emitters whose builds do not run the
/// driver yet (they name the compiler in ways a driver does not answer:
/// the Make fragment asks it for its sysroot, Bazel and Buck2 toolchains
/// hold rustc and rustdoc).
fn rustc_only(opts: &GraphOptions, what: &str) -> Result<()> {
    if let Some(tool) = &opts.driver {
        user_bail!(
            "{what} cannot be built for {tool} yet; generate a Ninja build with `sysgen ninja --for {tool}` (or `sysgen build --for {tool}`)"
        );
    }
    Ok(())
}

/// Generate a Bazel repository in DIR (see [`bazel`]).
pub fn generate_bazel(opts: &GraphOptions, build: &BuildOptions) -> Result<std::path::PathBuf> {
    rustc_only(opts, "a Bazel repository")?;
    let dir = outdir::OutDir::check(&build.out_dir, outdir::BAZEL)?;
    if dir.path.to_string_lossy().contains(' ') {
        user_bail!(
            "the output directory {} holds a space, and Bazel refuses to work in a workspace whose path holds one; choose another -o DIR",
            dir.path.display()
        );
    }
    let flags = ModelFlags {
        sources: true,
        ..build.model.clone()
    };
    let (loaded, model) = declare::load_declared(opts, &flags)?;
    let out = bazel::generate(&model, &loaded.graph.rustc.sysroot, &fsx::current_exe()?)?;
    let files = with_manifests(out.files, &loaded, &model, bazel::manifest_file);
    dir.commit(&files, &Default::default())?;
    Ok(dir.path.clone())
}

/// Generate a Buck2 cell in DIR (see [`buck2`]).
pub fn generate_buck2(
    opts: &GraphOptions,
    build: &BuildOptions,
    regen: RegenFn,
) -> Result<std::path::PathBuf> {
    rustc_only(opts, "a Buck2 cell")?;
    let dir = outdir::OutDir::check(&build.out_dir, outdir::BUCK2)?;
    let flags = ModelFlags {
        sources: true,
        ..build.model.clone()
    };
    let (loaded, model) = declare::load_declared(opts, &flags)?;
    let Regen { env, args } = regen(&loaded, build);
    let cmd = shell::command_line(&env, "sysgen", &args);
    let out = buck2::generate(&model, loaded.profile.panic(), &cmd, &fsx::current_exe()?)?;
    let files = with_manifests(out.files, &loaded, &model, buck2::manifest_file);
    // Every link checked before anything is written: a refusal leaves the
    // cell as it was.
    for (rel, target) in &out.links {
        dir.check_link(rel, target)?;
    }
    let links = out.links.iter().map(|(rel, _)| rel.clone()).collect();
    dir.commit(&files, &links)?;
    for (rel, target) in &out.links {
        dir.link(rel, target)?;
    }
    dir.record_links(&out.links)?;
    Ok(dir.path.clone())
}

/// `args` without the options named in `names` and their values.
fn without_options(args: &[Word], names: &[&str]) -> Vec<Word> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if names.iter().any(|n| *a == Word::from(*n)) {
            it.next();
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// Generate DIR/sysgen.mk and DIR/Makefile (see [`make`]).
pub fn generate_make(
    opts: &GraphOptions,
    build: &BuildOptions,
    regen: RegenFn,
) -> Result<std::path::PathBuf> {
    rustc_only(opts, "a Make fragment")?;
    let dir = outdir::OutDir::check(&build.out_dir, outdir::MAKE)?;
    make::check_path("the output directory", &dir.path)?;
    let (loaded, model) = declare::load_declared(opts, &build.model)?;
    for r in &model.roots {
        make::check_path("the source directory", &r.path)?;
    }
    for t in &model.targets {
        if let Some(f) = &t.spec_file {
            make::check_path("the target spec", f)?;
        }
    }
    let sysgen = fsx::current_exe()?;
    let p = lower::lower(
        &model,
        &lower::LowerOptions {
            out_dir: dir.path.clone(),
            check: build.model.check,
            sysgen: sysgen.clone(),
            pipeline: false,
            runs_in_out_dir: false,
            // Make's users set SYSGEN_RUSTC to `wrapper rustc` instead.
            rustc_wrapper: None,
        },
    )?;
    let inputs = regen_inputs(&loaded, &sysgen);
    let Regen { env, args } = regen(&loaded, build);
    // The compiler and rust-src are the fragment's to choose again (another
    // SYSGEN_RUSTC or SYSGEN_RUST_SRC regenerates it for those): the
    // template writes them into the command.
    let args = without_options(&args, &["--rust-src", "--rustc"]);
    let meta = make::MakeMeta {
        version: env!("CARGO_PKG_VERSION").to_string(),
        rust_src: loaded.graph.ws.root.display().to_string(),
        rust_src_real: fsx::canonical_or_same(&loaded.graph.ws.root)
            .display()
            .to_string(),
        rustc: model.rustc.clone(),
        rustc_sysroot: fsx::canonical_or_same(&loaded.graph.rustc.sysroot)
            .display()
            .to_string(),
        sysgen: sysgen.clone(),
        regen_cmd: shell::command_line(&env, &sysgen.display().to_string(), &args),
        regen_inputs: inputs.iter().map(|p| p.display().to_string()).collect(),
    };
    let (fragment, makefile) = make::to_strings(&model, &p, &meta)?;
    let mut files: Vec<(std::path::PathBuf, Vec<u8>)> = p
        .files
        .iter()
        .map(|(path, contents)| (path.clone(), contents.clone().into_bytes()))
        .collect();
    files.push(("sysgen.mk".into(), fragment.into_bytes()));
    files.push(("Makefile".into(), makefile.into_bytes()));
    for (target, text) in crate::report::provenance::manifests(&loaded, &model) {
        files.push((make::manifest_source(&target).into(), text));
    }
    let mut keep = p.keep.clone();
    keep.insert(make::CMD_DIR.into());
    dir.commit(&files, &keep)?;
    let out = dir.join("sysgen.mk");
    fsx::touch_after(&out, &inputs)?;
    Ok(dir.path.clone())
}
