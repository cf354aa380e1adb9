//! Files for the transfer tests: made of pseudo-random bytes with a known SHA-256, and the
//! SHA-256 of what a page received, computed in the page.

use crate::Result;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `dir/name`: `size` pseudo-random bytes. Returns its path and SHA-256 (hex).
pub fn make_file(dir: &Path, name: &str, size: usize) -> Result<(PathBuf, String)> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut data = Vec::with_capacity(size);
    while data.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    data.truncate(size);
    let path = dir.join(name);
    std::fs::File::create(&path)?.write_all(&data)?;
    let digest = Sha256::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((path, digest))
}

/// A page script: name, size and SHA-256 (hex) of the file behind the first download link.
pub const DOWNLOADED_SHA256: &str = r#"
    const a = document.querySelector('[data-testid=file-download]');
    const bytes = await (await fetch(a.href)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    return { name: a.getAttribute('download'), size: bytes.byteLength,
             sha256: [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join('') };
"#;
