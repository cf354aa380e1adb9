//! Serving the built client over plain HTTP: SPA fallback, types, cache policy, compression,
//! health, and the page shown when there is no build.

mod support;

use std::io::Read;

use meshmeet_server::Config;
use support::{http_get, test_config, TempDir, TestRelay};

const INDEX: &str =
    "<!doctype html><html><head><title>meshmeet test</title></head><body></body></html>";
const JS: &str = "meshmeet-1a2b3c4d5e6f7a8b.js";
const WASM: &str = "meshmeet-1a2b3c4d5e6f7a8b_bg.wasm";
const CSS: &str = "app-0123456789abcdef.css";

fn script() -> Vec<u8> {
    "export function start() { console.log('meshmeet'); }\n"
        .repeat(200)
        .into_bytes()
}

/// A fake Trunk build: index, hashed js/wasm/css, and an unhashed file.
fn fake_dist() -> TempDir {
    let dist = TempDir::new("dist");
    dist.write("index.html", INDEX.as_bytes());
    dist.write(JS, &script());
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    wasm.extend(std::iter::repeat_n(0u8, 4096));
    dist.write(WASM, &wasm);
    dist.write(CSS, b"body { margin: 0; }\n");
    dist.write("robots.txt", b"User-agent: *\n");
    dist
}

async fn relay_for(dist: &TempDir) -> TestRelay {
    TestRelay::start(Config {
        dist: dist.path().to_path_buf(),
        ..test_config()
    })
    .await
}

#[tokio::test]
async fn app_routes_fall_back_to_index_html_which_is_never_cached_stale() {
    let dist = fake_dist();
    let relay = relay_for(&dist).await;
    for path in [
        "/",
        "/index.html",
        "/r/standup",
        "/r/weekly-sync_2.0",
        "/r/%E5%91%A8%E4%BC%9A",
    ] {
        let response = http_get(relay.addr, path, &[]).await;
        assert_eq!(response.status, 200, "{path}");
        assert_eq!(response.text(), INDEX, "{path}");
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(response.header("cache-control"), Some("no-cache"), "{path}");
    }
}

#[tokio::test]
async fn wasm_is_served_as_application_wasm_and_hashed_assets_are_immutable() {
    let dist = fake_dist();
    let relay = relay_for(&dist).await;
    let immutable = Some("public, max-age=31536000, immutable");

    let wasm = http_get(relay.addr, &format!("/{WASM}"), &[]).await;
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(wasm.header("cache-control"), immutable);
    assert!(wasm.body.starts_with(b"\0asm"));

    let js = http_get(relay.addr, &format!("/{JS}"), &[]).await;
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(js.header("cache-control"), immutable);

    let css = http_get(relay.addr, &format!("/{CSS}"), &[]).await;
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(css.header("cache-control"), immutable);

    let robots = http_get(relay.addr, "/robots.txt", &[]).await;
    assert_eq!(robots.status, 200);
    assert_eq!(robots.header("cache-control"), Some("no-cache"));
}

#[tokio::test]
async fn gzip_and_brotli_are_used_only_when_accepted() {
    let dist = fake_dist();
    let relay = relay_for(&dist).await;
    let path = format!("/{JS}");

    let plain = http_get(relay.addr, &path, &[]).await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.body, script());
    assert_eq!(plain.header("vary"), Some("accept-encoding"));

    let gzip = http_get(relay.addr, &path, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(gzip.status, 200);
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert!(gzip.body.len() < script().len() / 4);
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gzip.body[..])
        .read_to_end(&mut unzipped)
        .expect("valid gzip");
    assert_eq!(unzipped, script());

    let brotli = http_get(
        relay.addr,
        &path,
        &[("Accept-Encoding", "gzip, deflate, br")],
    )
    .await;
    assert_eq!(brotli.header("content-encoding"), Some("br"));
    let mut unbrotli = Vec::new();
    brotli::Decompressor::new(&brotli.body[..], 4096)
        .read_to_end(&mut unbrotli)
        .expect("valid brotli");
    assert_eq!(unbrotli, script());

    // Served from the compressed cache the second time, same bytes.
    let again = http_get(relay.addr, &path, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(again.body, gzip.body);
}

#[tokio::test]
async fn unchanged_file_revalidates_with_304() {
    let dist = fake_dist();
    let relay = relay_for(&dist).await;
    let first = http_get(relay.addr, "/", &[]).await;
    let etag = first.header("etag").expect("etag").to_owned();
    let again = http_get(relay.addr, "/", &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let other = http_get(relay.addr, "/", &[("If-None-Match", "\"something-else\"")]).await;
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn unknown_files_and_escapes_are_404_not_the_app() {
    let dist = fake_dist();
    let relay = relay_for(&dist).await;
    for path in [
        "/missing.js",
        "/meshmeet-ffffffffffffffff.js",
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/.hidden",
        "/r/",
        "/r/a/b",
    ] {
        let response = http_get(relay.addr, path, &[]).await;
        assert_eq!(response.status, 404, "{path}");
        assert_ne!(response.text(), INDEX, "{path}");
    }
}

#[tokio::test]
async fn healthz_answers_ok() {
    let relay = TestRelay::start(test_config()).await;
    let response = http_get(relay.addr, "/healthz", &[]).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "ok");
    assert_eq!(response.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn missing_build_gives_a_clear_404_page_and_the_websocket_still_works() {
    let relay = TestRelay::start(test_config()).await;
    for path in ["/", "/r/standup"] {
        let response = http_get(relay.addr, path, &[]).await;
        assert_eq!(response.status, 404);
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert!(response.text().contains("client has not been built"));
    }
    let (mut client, _) = relay.join("still-works", "Ana").await;
    client.assert_alive(1).await;
}
