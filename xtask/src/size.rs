//! `cargo xtask size`: the release client's `.wasm`, `.js` and `.css`, raw and gzipped.

use crate::cmd::heading;
use crate::{build, tools, Result};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::{Path, PathBuf};

const MEASURED_EXTENSIONS: [&str; 3] = ["wasm", "js", "css"];

/// The size target of issue #11 for the whole client, gzipped.
pub const TARGET_GZIP_BYTES: usize = 250_000;

/// One measured file of a build: its path under the build directory, raw and gzipped bytes.
pub struct Asset {
    pub name: String,
    pub raw: usize,
    pub gzip: usize,
}

/// Builds the client in release and prints one line per asset plus the total.
pub fn run() -> Result {
    let tools = tools::ensure_client_tools()?;
    let dist = build::client_release(&tools)?;
    heading(&format!("client size ({})", dist.display()));
    print(&measure(&dist)?);
    Ok(())
}

/// The `.wasm`, `.js` and `.css` of a build, sorted by name.
pub fn measure(dist: &Path) -> Result<Vec<Asset>> {
    let mut files = Vec::new();
    collect(dist, &mut files)?;
    files.sort();
    files
        .iter()
        .map(|path| {
            let bytes =
                std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
            let name = path.strip_prefix(dist).unwrap_or(path);
            Ok(Asset {
                name: name.display().to_string(),
                raw: bytes.len(),
                gzip: gzipped_len(&bytes),
            })
        })
        .collect()
}

/// One line per asset, then the total beside the target.
pub fn print(assets: &[Asset]) {
    println!("{:>10} {:>10}  file", "raw B", "gzip B");
    for asset in assets {
        println!("{:>10} {:>10}  {}", asset.raw, asset.gzip, asset.name);
    }
    let (raw, gzip) = totals(assets);
    println!("{raw:>10} {gzip:>10}  total (target: under {TARGET_GZIP_BYTES} gzipped)");
}

fn totals(assets: &[Asset]) -> (usize, usize) {
    assets
        .iter()
        .fold((0, 0), |(raw, gzip), a| (raw + a.raw, gzip + a.gzip))
}

/// The sizes as bench.json holds them.
pub fn to_json(assets: &[Asset]) -> serde_json::Value {
    let (raw, gzip) = totals(assets);
    serde_json::json!({
        "what": "gzip -9 of the release build's .wasm, .js and .css (cargo xtask size)",
        "files": assets
            .iter()
            .map(|a| serde_json::json!({ "name": a.name, "raw_bytes": a.raw, "gzip_bytes": a.gzip }))
            .collect::<Vec<_>>(),
        "raw_bytes": raw,
        "gzip_bytes": gzip,
        "target_gzip_bytes": TARGET_GZIP_BYTES,
    })
}

/// Every measured file under `dir`, recursively (wasm-bindgen snippets live in subfolders).
fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("reading {}: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path
            .extension()
            .is_some_and(|ext| MEASURED_EXTENSIONS.iter().any(|m| ext == *m))
        {
            files.push(path);
        }
    }
    Ok(())
}

/// Size after `gzip -9`, which is what a static file server would send.
fn gzipped_len(bytes: &[u8]) -> usize {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder
        .write_all(bytes)
        .expect("writing to a Vec cannot fail");
    encoder
        .finish()
        .expect("writing to a Vec cannot fail")
        .len()
}

#[cfg(test)]
mod tests {
    use super::gzipped_len;

    #[test]
    fn repetitive_input_compresses() {
        let input = vec![b'a'; 10_000];
        assert!(gzipped_len(&input) < 100);
    }
}
