//! The action-cache record: a REAPI `ActionResult`
//! (build.bazel.remote.execution.v2, `remote_execution.proto`), of which
//! sysgen writes and reads only the output files and the exit code. Field
//! numbers are the protocol's; every other field is left empty, so the
//! bytes are a valid `ActionResult` that bazel-remote's validation accepts
//! (every digest it names is already in the CAS when it is written).

use prost::Message;

#[derive(Clone, PartialEq, prost::Message)]
pub struct Digest {
    /// Lower-case hex SHA-256.
    #[prost(string, tag = "1")]
    pub hash: String,
    #[prost(int64, tag = "2")]
    pub size_bytes: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct OutputFile {
    #[prost(string, tag = "1")]
    pub path: String,
    #[prost(message, optional, tag = "2")]
    pub digest: Option<Digest>,
    #[prost(bool, tag = "4")]
    pub is_executable: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ActionResult {
    #[prost(message, repeated, tag = "2")]
    pub output_files: Vec<OutputFile>,
    #[prost(int32, tag = "4")]
    pub exit_code: i32,
}

/// One file of a record, checked: a relative path of plain components and
/// a well-formed digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub sha256: String,
    pub size: u64,
    pub executable: bool,
}

pub fn encode(files: &[File]) -> Vec<u8> {
    ActionResult {
        output_files: files
            .iter()
            .map(|f| OutputFile {
                path: f.path.clone(),
                digest: Some(Digest {
                    hash: f.sha256.clone(),
                    size_bytes: f.size as i64,
                }),
                is_executable: f.executable,
            })
            .collect(),
        exit_code: 0,
    }
    .encode_to_vec()
}

/// The files of a record, or why it is not one sysgen can use.
pub fn decode(bytes: &[u8]) -> Result<Vec<File>, String> {
    let r = ActionResult::decode(bytes).map_err(|e| format!("not an ActionResult ({e})"))?;
    if r.exit_code != 0 {
        return Err(format!("a failed action (exit code {})", r.exit_code));
    }
    let mut out = Vec::new();
    for f in r.output_files {
        let Some(d) = f.digest else {
            return Err(format!("{} has no digest", f.path));
        };
        if !is_sha256(&d.hash) || d.size_bytes < 0 {
            return Err(format!("{} has a malformed digest", f.path));
        }
        if !plain_relative(&f.path) {
            return Err(format!(
                "the path {:?} is not a plain relative path",
                f.path
            ));
        }
        out.push(File {
            path: f.path,
            sha256: d.hash,
            size: d.size_bytes as u64,
            executable: f.is_executable,
        });
    }
    Ok(out)
}

pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A path a record may name: relative, of ordinary components, no `.`,
/// `..` or empty ones — nothing it names can be outside where it is
/// written.
pub fn plain_relative(p: &str) -> bool {
    !p.is_empty()
        && p.split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains(['\\', '\0']))
}
