//! `cargo xtask size`: the release client's `.wasm`, `.js` and `.css`, raw and gzipped, held
//! to a budget that `cargo xtask test` enforces too.

use crate::cmd::heading;
use crate::{build, tools, Result};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::{Path, PathBuf};

const MEASURED_EXTENSIONS: [&str; 3] = ["wasm", "js", "css"];

/// The most the meeting client may weigh, gzipped (issue #18). It is there to catch growth
/// nobody noticed, not to be met with workarounds: a change that needs more raises it in
/// the same commit, with the new figure and the reason.
///
/// 300,000 until issue #19 split the meeting task into a relay session, a media topology and
/// the features on top (so the SFU can sit beside the mesh): the client went from 298,981 to
/// 300,529 B, the price of the boundaries between the parts (measured with twiggy: the
/// task's code is 2.7 KB larger before wasm-opt). Raised to 301,000.
///
/// 301,000 until issue #20 added the SFU's messages to the protocol (the welcome's topology,
/// `topology_changed`, `sfu_published`, `sfu_subscription`, three client messages and five
/// error codes): serde's derives for them took the client from 300,529 to 304,461 B.
/// Raised to 305,000.
///
/// 305,000 until issue #20 built the browser's side of the SFU (`rtc/sfu_link.rs`,
/// `rtc/description.rs`, `hooks/meeting/sfu.rs`: a second kind of peer connection, its
/// trickle and the mapping of the subscription's streams to tiles): 304,461 to 314,154 B.
/// Raised to 316,000.
///
/// 316,000 until the SFU's recovery (tiles *reconnecting*, restarts) and its statistics per
/// participant (the subscriber's figures shared out by media section, for the stats
/// panel, quality marks and speaker choice): 314,154 to 317,081 B. Raised to 318,000.
///
/// 318,000 until the SFU's bandwidth controls (`sfu_prefs`: no video for tiles off screen
/// or in audio-only mode, the simulcast camera and the layer each tile's size needs):
/// 316,876 to 319,391 B. Raised to 320,000.
///
/// 320,000 until `prefs` told camera and screen apart (a camera tile off screen no longer
/// stops the screen share on the stage): 319,391 to 320,379 B. Raised to 321,000.
///
/// 321,000 until the SFU's camera layers followed the downlink (`state::DownlinkGuard`: the
/// subscription's loss steps the layer down and, once clean, back up): 320,414 to 321,583 B.
/// Raised to 322,500.
///
/// 322,500 until issue #21 went live: the host's live controls and badge (+5.9 KB with the
/// protocol's live messages and their strings in two languages) and the audience's watch
/// page (+11.6 KB: its WHEP connection, the status polling, its reducer and view; `fetch`
/// through web-sys, since gloo-net's HTTP client cost 3.4 KB more): 321,583 to 339,142 B.
/// Raised to 340,000. The live's outputs (RTMP addresses, HLS, the HLS link and their
/// strings) took it to 340,963 B: raised to 342,500.
///
/// 342,500 until encoders in (WHIP): `create_ingest` and `ingest_created` in the protocol,
/// the host's form to let an encoder in, its WHIP address and token, and their strings in
/// two languages: 340,910 to 343,205 B. Raised to 344,500. RTSP cameras (`add_camera`,
/// `camera_failed`, the address field and its strings) took it to 343,918 B.
///
/// 344,500 until a stage of several: the stage picker became a box per participant (one to
/// four, changed at once while live, with the rules in `state/stage_choice.rs`): 343,918 to
/// 345,096 B. Raised to 346,000. Each RTMP address's state told to the host (`live_outputs`,
/// its list in the live controls and the strings) took it to 347,670 B: raised to 348,500.
/// A stage that follows the speaker (its box, the badge's note, `follow_speaker` in two
/// messages) took it to 348,602 B: raised to 349,200. Frame encryption in the peer
/// connections (the worker's script, carried in the wasm, and its wrapper) took it to
/// 350,190 B: raised to 350,800.
///
/// 350,800 until the meeting used end-to-end encryption: the frame worker linked in, the
/// key exchange (ECDH, HKDF and AES-GCM through Web Crypto, the key rules of
/// `state/key_ring.rs`, its task in `hooks/meeting/frame_keys.rs`), the lobby's toggle, the
/// room's badge and safety code, and their strings in two languages: 350,186 to 380,414 B
/// (71 KB more code before wasm-opt, spread over those parts; no dependency was added).
/// Raised to 382,000. Encrypted video preferring VP8 took it to 381,643 B; reactions (the
/// picker, the sign over a tile, their reducer and seven strings in two languages) to
/// 386,000 B: raised to 386,600.
pub const BUDGET_GZIP_BYTES: usize = 386_600;

/// One measured file of a build: its path under the build directory, raw and gzipped bytes.
pub struct Asset {
    pub name: String,
    pub raw: usize,
    pub gzip: usize,
}

/// Builds the client in release (or takes the build in `--dist <dir>`), prints one line per
/// asset plus the total, and fails if the total is over the budget.
pub fn run(args: &[String]) -> Result {
    let dist = match args {
        [] => {
            let tools = tools::ensure_client_tools()?;
            build::client_release(&tools)?
        }
        [flag, dir] if flag == "--dist" => PathBuf::from(dir),
        _ => return Err("usage: cargo xtask size [--dist <built client directory>]".into()),
    };
    check_budget(&dist)
}

/// Measures the build in `dist`, prints the figures and the budget, and fails when the total
/// is over the budget.
pub fn check_budget(dist: &Path) -> Result {
    heading(&format!("client size ({})", dist.display()));
    let assets = measure(dist)?;
    print(&assets);
    let (_, gzip) = totals(&assets);
    if gzip > BUDGET_GZIP_BYTES {
        return Err(format!(
            "the client is {gzip} B gzipped, over its budget of {BUDGET_GZIP_BYTES} B by {} B: \
             find what grew, or raise the budget in xtask/src/size.rs with the reason",
            gzip - BUDGET_GZIP_BYTES
        ));
    }
    println!(
        "within budget: {gzip} of {BUDGET_GZIP_BYTES} B gzipped ({} B to spare)",
        BUDGET_GZIP_BYTES - gzip
    );
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

/// One line per asset, then the total beside the budget.
pub fn print(assets: &[Asset]) {
    println!("{:>10} {:>10}  file", "raw B", "gzip B");
    for asset in assets {
        println!("{:>10} {:>10}  {}", asset.raw, asset.gzip, asset.name);
    }
    let (raw, gzip) = totals(assets);
    println!("{raw:>10} {gzip:>10}  total (budget: {BUDGET_GZIP_BYTES} gzipped)");
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
        "budget_gzip_bytes": BUDGET_GZIP_BYTES,
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
