//! Emitters: thin views of one [`BuildGraph`](crate::resolve::graph::BuildGraph).
//! Text formats are minijinja templates from `templates/`, compiled into the
//! binary; each emitter only prepares plain data for its template.

pub mod bazel;
pub mod buck2;
pub mod crates;
pub mod dot;
pub mod generate;
pub mod json;
pub mod make;
pub mod ninja;
pub mod outdir;
pub mod rust_project;
pub mod shell;
pub mod starlark;

use anyhow::{Context, Result};

/// Render a built-in template with `ctx`.
pub fn render(name: &str, source: &str, ctx: minijinja::Value) -> Result<String> {
    let mut env = minijinja::Environment::new();
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("default delimiters are valid"),
    );
    // `{{ s | starlark }}`: a Starlark string literal holding `s` exactly.
    env.add_filter("starlark", |s: String| starlark::quote(&s));
    env.add_template(name, source)
        .with_context(|| format!("template {name}"))?;
    env.get_template(name)?
        .render(ctx)
        .with_context(|| format!("rendering {name}"))
}

/// A template value from any serialisable data.
pub fn value<T: serde::Serialize>(t: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(t))
}
