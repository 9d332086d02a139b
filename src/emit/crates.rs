//! `sysgen graph --format crates`: every crate's declaration as JSON, the
//! crate model ([`crate::model`]) as it is, for driving another build system
//! (Buck2, Meson, GN) from sysgen's resolution. Its schema is in README.md;
//! `version` changes when a field changes meaning.

use serde::Serialize;

use crate::model::Model;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    #[serde(flatten)]
    model: &'a Model,
}

pub fn to_string(m: &Model) -> String {
    let mut s = serde_json::to_string_pretty(&Document {
        version: 1,
        model: m,
    })
    .expect("the model serialises");
    s.push('\n');
    s
}
