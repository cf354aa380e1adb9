//! `cargo xtask size`: the release client's `.wasm`, `.js` and `.css`, raw and gzipped.

use crate::cmd::heading;
use crate::{build, tools, Result};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::{Path, PathBuf};

const MEASURED_EXTENSIONS: [&str; 3] = ["wasm", "js", "css"];

/// Builds the client in release and prints one line per asset plus the total.
pub fn run() -> Result {
    let tools = tools::ensure_client_tools()?;
    let dist = build::client_release(&tools)?;
    heading(&format!("client size ({})", dist.display()));
    let mut files = Vec::new();
    collect(&dist, &mut files)?;
    files.sort();
    let (mut raw_total, mut gz_total) = (0, 0);
    println!("{:>10} {:>10}  file", "raw B", "gzip B");
    for path in &files {
        let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let gz = gzipped_len(&bytes);
        raw_total += bytes.len();
        gz_total += gz;
        let name = path.strip_prefix(&dist).unwrap_or(path);
        println!("{:>10} {:>10}  {}", bytes.len(), gz, name.display());
    }
    println!("{raw_total:>10} {gz_total:>10}  total");
    Ok(())
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
