//! The built client: files from the dist directory with the right type, cache policy and
//! compression, `index.html` for the app's own routes, and a clear page when there is no
//! build.
//!
//! Compressed copies are made once per file version and kept in memory: the wasm module is
//! megabytes, and brotli at a useful level is too slow to run on every request.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::UNIX_EPOCH;

use bytes::Bytes;
use warp::http::header::{
    HeaderMap, HeaderValue, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, VARY,
};
use warp::http::StatusCode;
use warp::reply::Response;

/// For files whose name carries a hash of their content: a new build has new names.
pub const CACHE_IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For `index.html` and unhashed files: the browser must check for a new version first.
pub const CACHE_REVALIDATE: &str = "no-cache";
/// Files smaller than this are sent as they are; compressing them saves nothing.
const MIN_COMPRESS_BYTES: usize = 1024;
/// Cap on the compressed copies kept in memory; past it the cache starts over.
const MAX_CACHE_BYTES: usize = 64 * 1024 * 1024;
/// brotli quality: 9 of 11 is close to the best ratio at a fraction of the time.
const BROTLI_QUALITY: u32 = 9;
const BROTLI_WINDOW_BITS: u32 = 22;

/// The content encodings the relay can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// As stored.
    Identity,
    /// `gzip`.
    Gzip,
    /// `br`.
    Brotli,
}

impl Encoding {
    fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Brotli => Some("br"),
        }
    }

    fn etag_suffix(self) -> &'static str {
        match self {
            Encoding::Identity => "",
            Encoding::Gzip => "-gz",
            Encoding::Brotli => "-br",
        }
    }
}

/// Picks the best encoding the client accepts, from its `Accept-Encoding` header: brotli,
/// then gzip, then none. A `q=0` refuses an encoding; `*` stands for any not named.
pub fn negotiate_encoding(accept: Option<&str>) -> Encoding {
    let Some(accept) = accept else {
        return Encoding::Identity;
    };
    let mut quality: HashMap<String, f32> = HashMap::new();
    for part in accept.split(',') {
        let mut pieces = part.split(';');
        let name = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        let q = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        quality.insert(name, q);
    }
    let accepts = |name: &str| {
        quality
            .get(name)
            .or_else(|| quality.get("*"))
            .is_some_and(|q| *q > 0.0)
    };
    if accepts("br") {
        Encoding::Brotli
    } else if accepts("gzip") {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// Whether a path names a file Trunk fingerprinted: some segment (file name without its
/// extension and `_bg` suffix, or a directory) ends in `-` and 12 to 64 hex digits, as in
/// `meshmeet-1a2b3c4d5e6f7a8b_bg.wasm`, `app-1a2b3c4d5e6f7a8b.css` or
/// `snippets/meshmeet-1a2b3c4d5e6f7a8b/inline0.js`.
pub fn is_hashed_asset(path: &str) -> bool {
    path.split('/').any(|segment| {
        let stem = segment.split('.').next().unwrap_or(segment);
        let stem = stem.strip_suffix("_bg").unwrap_or(stem);
        match stem.rsplit_once('-') {
            Some((name, hash)) => {
                !name.is_empty()
                    && (12..=64).contains(&hash.len())
                    && hash.bytes().all(|b| b.is_ascii_hexdigit())
            }
            None => false,
        }
    })
}

fn is_compressible(mime: &str) -> bool {
    mime.starts_with("text/")
        || matches!(
            mime,
            "application/javascript"
                | "application/json"
                | "application/wasm"
                | "application/xml"
                | "image/svg+xml"
                | "application/manifest+json"
        )
}

/// What a request path asks for.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// The app shell: `/`, `/index.html`, `/r/<room>`, `/live/<room>` (the watch page).
    Index,
    /// A file under dist, by relative path.
    File(String),
    /// Nothing the relay serves.
    Missing,
}

fn resolve(path: &str) -> Target {
    if path == "/" || path == "/index.html" {
        return Target::Index;
    }
    if let Some(room) = path
        .strip_prefix("/r/")
        .or_else(|| path.strip_prefix("/live/"))
    {
        // The room name is the app's business (and the relay checks it at join); any single
        // segment is a route of the app.
        let room = room.strip_suffix('/').unwrap_or(room);
        return if room.is_empty() || room.contains('/') {
            Target::Missing
        } else {
            Target::Index
        };
    }
    let relative = path.trim_start_matches('/');
    // Only names Trunk produces: plain ASCII, no hidden files, no `..`, no escapes.
    let safe = !relative.is_empty()
        && relative.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        });
    if safe {
        Target::File(relative.to_owned())
    } else {
        Target::Missing
    }
}

/// Serves the dist directory.
#[derive(Debug)]
pub struct StaticFiles {
    root: PathBuf,
    compressed: Mutex<CompressedCache>,
}

#[derive(Debug, Default)]
struct CompressedCache {
    /// (relative path, encoding) → (etag of the source version, compressed bytes).
    entries: HashMap<(String, Encoding), (String, Bytes)>,
    bytes: usize,
}

impl StaticFiles {
    /// Serves files under `root`.
    pub fn new(root: PathBuf) -> Self {
        StaticFiles {
            root,
            compressed: Mutex::new(CompressedCache::default()),
        }
    }

    /// Whether `root` holds a built client.
    pub fn has_client(&self) -> bool {
        self.root.join("index.html").is_file()
    }

    /// The directory served.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Answers a GET or HEAD for `path` (the URL path, as sent).
    pub async fn respond(&self, path: &str, headers: &HeaderMap) -> Response {
        let (relative, cache_control) = match resolve(path) {
            Target::Index => {
                if !self.has_client() {
                    return self.not_built_page();
                }
                ("index.html".to_owned(), CACHE_REVALIDATE)
            }
            Target::File(relative) => {
                let policy = if is_hashed_asset(&relative) {
                    CACHE_IMMUTABLE
                } else {
                    CACHE_REVALIDATE
                };
                (relative, policy)
            }
            Target::Missing => return not_found(),
        };
        match self.file_response(&relative, cache_control, headers).await {
            Some(response) => response,
            None => not_found(),
        }
    }

    async fn file_response(
        &self,
        relative: &str,
        cache_control: &'static str,
        headers: &HeaderMap,
    ) -> Option<Response> {
        let full = self.root.join(relative);
        let meta = tokio::fs::metadata(&full).await.ok()?;
        if !meta.is_file() {
            return None;
        }
        let mime = mime_guess::from_path(&full).first_or_octet_stream();
        let mime = mime.essence_str().to_owned();
        let compressible = is_compressible(&mime);
        let accept = headers.get(ACCEPT_ENCODING).and_then(|v| v.to_str().ok());
        let mut encoding = if compressible {
            negotiate_encoding(accept)
        } else {
            Encoding::Identity
        };
        if (meta.len() as usize) < MIN_COMPRESS_BYTES {
            encoding = Encoding::Identity;
        }

        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let source_tag = format!("{:x}-{:x}", meta.len(), modified_ns);
        let etag = format!("\"{source_tag}{}\"", encoding.etag_suffix());

        let mut response = if if_none_match(headers, &etag) {
            let mut response = Response::new(Bytes::new().into());
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            response
        } else {
            let body = match self.body(relative, &full, encoding, &source_tag).await {
                Some(body) => body,
                None => {
                    // The file vanished or could not be compressed: send it as it is.
                    encoding = Encoding::Identity;
                    Bytes::from(tokio::fs::read(&full).await.ok()?)
                }
            };
            Response::new(body.into())
        };

        let out = response.headers_mut();
        let content_type = if mime.starts_with("text/") || mime == "application/javascript" {
            format!("{mime}; charset=utf-8")
        } else {
            mime
        };
        insert(out, CONTENT_TYPE, &content_type);
        out.insert(CACHE_CONTROL, HeaderValue::from_static(cache_control));
        insert(out, ETAG, &etag);
        out.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        if compressible {
            out.insert(VARY, HeaderValue::from_static("accept-encoding"));
        }
        if let Some(name) = encoding.header() {
            out.insert(CONTENT_ENCODING, HeaderValue::from_static(name));
        }
        Some(response)
    }

    /// The file's bytes in `encoding`, compressed at most once per version.
    async fn body(
        &self,
        relative: &str,
        full: &Path,
        encoding: Encoding,
        source_tag: &str,
    ) -> Option<Bytes> {
        if encoding == Encoding::Identity {
            return tokio::fs::read(full).await.ok().map(Bytes::from);
        }
        let key = (relative.to_owned(), encoding);
        {
            let cache = self
                .compressed
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some((tag, bytes)) = cache.entries.get(&key) {
                if tag == source_tag {
                    return Some(bytes.clone());
                }
            }
        }
        let raw = tokio::fs::read(full).await.ok()?;
        // CPU-bound: keep it off the threads that drive sockets.
        let compressed = tokio::task::spawn_blocking(move || compress(&raw, encoding))
            .await
            .ok()?
            .ok()?;
        let compressed = Bytes::from(compressed);
        let mut cache = self
            .compressed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.bytes + compressed.len() > MAX_CACHE_BYTES {
            cache.entries.clear();
            cache.bytes = 0;
        }
        if let Some((_, old)) = cache
            .entries
            .insert(key, (source_tag.to_owned(), compressed.clone()))
        {
            cache.bytes -= old.len();
        }
        cache.bytes += compressed.len();
        Some(compressed)
    }

    fn not_built_page(&self) -> Response {
        let page = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>meshmeet: client not built</title></head>\n\
             <body><h1>The meshmeet client has not been built</h1>\n\
             <p>This relay serves the browser client from <code>{}</code>, and there is no <code>index.html</code> there.\n\
             Build the client with Trunk (<code>trunk build --release</code>) or point the relay at a build with <code>--dist</code>.</p>\n\
             <p>The signalling endpoint <code>/ws</code> works without it.</p></body></html>\n",
            html_escape(&self.root.display().to_string())
        );
        let mut response = Response::new(page.into());
        *response.status_mut() = StatusCode::NOT_FOUND;
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

fn compress(raw: &[u8], encoding: Encoding) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    match encoding {
        Encoding::Identity => Ok(raw.to_vec()),
        Encoding::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(raw)?;
            encoder.finish()
        }
        Encoding::Brotli => {
            let mut encoder = brotli::CompressorWriter::new(
                Vec::new(),
                64 * 1024,
                BROTLI_QUALITY,
                BROTLI_WINDOW_BITS,
            );
            encoder.write_all(raw)?;
            // Finishes the stream; writing into a Vec cannot fail.
            Ok(encoder.into_inner())
        }
    }
}

fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

fn insert(headers: &mut HeaderMap, name: warp::http::header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

fn not_found() -> Response {
    let mut response = Response::new("not found\n".into());
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_file_names_are_recognised_as_hashed() {
        assert!(is_hashed_asset("meshmeet-1a2b3c4d5e6f7a8b.js"));
        assert!(is_hashed_asset("meshmeet-1a2b3c4d5e6f7a8b_bg.wasm"));
        assert!(is_hashed_asset("app-1a2b3c4d5e6f7a8b.css"));
        assert!(is_hashed_asset(
            "snippets/meshmeet-1a2b3c4d5e6f7a8b/inline0.js"
        ));
        assert!(!is_hashed_asset("index.html"));
        assert!(!is_hashed_asset("favicon-192x192.png"));
        assert!(!is_hashed_asset("app-cafe.css"));
        assert!(!is_hashed_asset("-1a2b3c4d5e6f7a8b.js"));
    }

    #[test]
    fn paths_resolve_to_the_app_a_file_or_nothing() {
        assert_eq!(resolve("/"), Target::Index);
        assert_eq!(resolve("/r/standup"), Target::Index);
        assert_eq!(resolve("/r/%E5%91%A8%E4%BC%9A/"), Target::Index);
        assert_eq!(resolve("/r/"), Target::Missing);
        assert_eq!(resolve("/r/a/b"), Target::Missing);
        assert_eq!(resolve("/live/standup"), Target::Index);
        assert_eq!(resolve("/live/standup/status"), Target::Missing);
        assert_eq!(resolve("/app-1.css"), Target::File("app-1.css".into()));
        assert_eq!(resolve("/../etc/passwd"), Target::Missing);
        assert_eq!(resolve("/.env"), Target::Missing);
        assert_eq!(resolve("/a//b"), Target::Missing);
        assert_eq!(resolve("/%2e%2e/x"), Target::Missing);
    }

    #[test]
    fn encoding_prefers_brotli_and_honours_refusals() {
        assert_eq!(negotiate_encoding(None), Encoding::Identity);
        assert_eq!(negotiate_encoding(Some("gzip")), Encoding::Gzip);
        assert_eq!(
            negotiate_encoding(Some("gzip, deflate, br")),
            Encoding::Brotli
        );
        assert_eq!(negotiate_encoding(Some("br;q=0, gzip")), Encoding::Gzip);
        assert_eq!(negotiate_encoding(Some("*")), Encoding::Brotli);
        assert_eq!(negotiate_encoding(Some("*;q=0")), Encoding::Identity);
        assert_eq!(negotiate_encoding(Some("identity")), Encoding::Identity);
    }

    #[test]
    fn compressed_bytes_decompress_to_the_original() {
        use std::io::Read;
        let raw = b"meshmeet ".repeat(500);
        let gz = compress(&raw, Encoding::Gzip).expect("gzip");
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .expect("gunzip");
        assert_eq!(back, raw);
        let br = compress(&raw, Encoding::Brotli).expect("brotli");
        let mut back = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut back)
            .expect("unbrotli");
        assert_eq!(back, raw);
        assert!(br.len() < raw.len() / 10);
    }
}
