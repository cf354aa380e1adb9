//! Release builds: the client with Trunk into `dist/`, the relay with the `relay` profile.

use crate::cmd::{self, heading};
use crate::tools::{self, ClientTools};
use crate::Result;
use std::path::PathBuf;

/// Where the release client goes (Trunk.toml `dist`).
pub fn dist_dir() -> PathBuf {
    cmd::root().join("dist")
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR` and `build.target-dir`.
pub fn target_dir() -> PathBuf {
    let metadata = cmd::cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    metadata
        .as_deref()
        .and_then(|json| json_string_field(json, "target_directory"))
        .map(PathBuf::from)
        .unwrap_or_else(|| cmd::root().join("target"))
}

/// The value of a top-level `"key":"value"` in cargo's compact JSON (paths have no escapes
/// other than `\\` and `\"`, which are undone here).
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let needle = format!("\"{key}\":\"");
    let start = json.rfind(&needle)? + needle.len();
    let mut value = String::new();
    let mut chars = json[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
    None
}

/// `trunk build --release --offline` with binaryen's `wasm-opt` first on PATH.
pub fn client_release(tools: &ClientTools) -> Result<PathBuf> {
    heading("building the client (release) with trunk");
    // Trunk runs cargo with --offline, so fetch the client's crates first (instant when cached).
    cmd::run(cmd::cargo().args(["fetch", "--target", "wasm32-unknown-unknown"]))?;
    cmd::run(
        cmd::cmd(&tools.trunk)
            .args(["build", "--release", "--offline"])
            .env("PATH", &tools.path),
    )?;
    let dist = dist_dir();
    if !dist.join("index.html").is_file() {
        return Err(format!(
            "trunk finished but {} has no index.html",
            dist.display()
        ));
    }
    Ok(dist)
}

/// `cargo build --profile relay -p meshmeet-server`; returns the binary.
pub fn relay() -> Result<PathBuf> {
    heading("building the relay (profile relay)");
    cmd::run(cmd::cargo().args(["build", "--profile", "relay", "-p", "meshmeet-server"]))?;
    let bin = target_dir().join("relay").join("meshmeet-server");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "the relay build finished but {} is missing",
            bin.display()
        ))
    }
}

/// Both, for `serve`, `size` and the end-to-end tests.
pub fn all() -> Result<(PathBuf, PathBuf)> {
    let tools = tools::ensure_client_tools()?;
    Ok((client_release(&tools)?, relay()?))
}

#[cfg(test)]
mod tests {
    use super::json_string_field;

    #[test]
    fn finds_target_directory_in_cargo_metadata() {
        let json = r#"{"packages":[],"target_directory":"/work/main/target","version":1}"#;
        assert_eq!(
            json_string_field(json, "target_directory").as_deref(),
            Some("/work/main/target")
        );
        assert_eq!(json_string_field(json, "workspace_root"), None);
    }
}
