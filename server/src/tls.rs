//! HTTPS and WSS: the certificate (from PEM files, or generated at start for trials on a
//! LAN) and the optional plain-HTTP listener that redirects to HTTPS. Connections, TLS or
//! not, are accepted and served by [`crate::accept`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tracing::info;
use warp::http::header::{HeaderValue, CONTENT_TYPE, HOST, LOCATION};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::accept::HttpLimits;
use crate::config::Config;
use crate::error::ConfigError;

/// The address of a client connected over TLS, put in each request's extensions (warp's own
/// remote-address extension can only be set by warp's server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// A loaded or generated certificate, ready to accept connections.
#[derive(Clone)]
pub struct TlsSetup {
    acceptor: TlsAcceptor,
    certificate: CertificateDer<'static>,
    self_signed: bool,
}

impl std::fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSetup")
            .field("fingerprint", &self.fingerprint())
            .field("self_signed", &self.self_signed)
            .finish()
    }
}

impl TlsSetup {
    /// What accepts TLS connections with this certificate.
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }

    /// The certificate `config` asks for: read from `--tls-cert`/`--tls-key`, generated for
    /// `--tls-self-signed`, or none (plain HTTP).
    pub fn from_config(config: &Config) -> Result<Option<TlsSetup>, ConfigError> {
        if config.tls_self_signed {
            return self_signed(&self_signed_names(config)).map(Some);
        }
        let (Some(cert_path), Some(key_path)) = (&config.tls_cert, &config.tls_key) else {
            return Ok(None);
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_path)
            .and_then(|certs| certs.collect::<Result<_, _>>())
            .map_err(|err| {
                ConfigError::Tls(format!(
                    "reading certificates from {}: {err}",
                    cert_path.display()
                ))
            })?;
        let key = PrivateKeyDer::from_pem_file(key_path).map_err(|err| {
            ConfigError::Tls(format!(
                "reading a private key from {}: {err}",
                key_path.display()
            ))
        })?;
        let Some(first) = chain.first().cloned() else {
            return Err(ConfigError::Tls(format!(
                "{} holds no PEM certificate",
                cert_path.display()
            )));
        };
        Self::build(chain, key, first, false)
            .map(Some)
            .map_err(|err| ConfigError::Tls(format!("{}: {err}", cert_path.display())))
    }

    fn build(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        certificate: CertificateDer<'static>,
        self_signed: bool,
    ) -> Result<TlsSetup, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| err.to_string())?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|err| format!("the certificate and key do not form a usable pair: {err}"))?;
        // HTTP/1.1 only: the WebSocket upgrade is an HTTP/1.1 mechanism.
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsSetup {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            certificate,
            self_signed,
        })
    }

    /// SHA-256 of the (leaf) certificate, as browsers show it: `AB:CD:…`.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.certificate)
    }

    /// The leaf certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate
    }

    /// Whether the certificate was generated at start.
    pub fn is_self_signed(&self) -> bool {
        self.self_signed
    }
}

/// `localhost`, the loopback addresses, the listen address (unless it is 0.0.0.0 or ::) and
/// every `--tls-self-signed-name`.
fn self_signed_names(config: &Config) -> Vec<String> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let ip = config.listen.ip();
    if !ip.is_unspecified() && !ip.is_loopback() {
        names.push(ip.to_string());
    }
    for name in &config.tls_self_signed_names {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

fn self_signed(names: &[String]) -> Result<TlsSetup, ConfigError> {
    let generated = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|err| ConfigError::Tls(format!("generating a self-signed certificate: {err}")))?;
    let certificate = generated.cert.der().clone();
    let key = PrivateKeyDer::try_from(generated.key_pair.serialize_der())
        .map_err(|err| ConfigError::Tls(format!("the generated key: {err}")))?;
    TlsSetup::build(vec![certificate.clone()], key, certificate, true).map_err(ConfigError::Tls)
}

/// SHA-256 of DER bytes as colon-separated upper-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Answers every request with a permanent redirect to the same path over HTTPS on
/// `https_port` (omitted when 443), keeping the host name the browser used.
pub fn redirect_routes(
    https_port: u16,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static {
    warp::any()
        .and(warp::header::optional::<String>(HOST.as_str()))
        .and(warp::filters::path::full())
        .and(
            warp::filters::query::raw()
                .or(warp::any().map(String::new))
                .unify(),
        )
        .map(
            move |host: Option<String>, path: warp::filters::path::FullPath, query: String| {
                match https_location(host.as_deref(), https_port, path.as_str(), &query) {
                    Some(location) => {
                        let mut response = Response::new("redirecting to HTTPS\n".into());
                        *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
                        if let Ok(value) = HeaderValue::from_str(&location) {
                            response.headers_mut().insert(LOCATION, value);
                        }
                        response
                    }
                    None => {
                        let mut response = Response::new("use HTTPS\n".into());
                        *response.status_mut() = StatusCode::BAD_REQUEST;
                        response.headers_mut().insert(
                            CONTENT_TYPE,
                            HeaderValue::from_static("text/plain; charset=utf-8"),
                        );
                        response
                    }
                }
            },
        )
}

/// `https://<host>[:port]<path>[?query]`, or `None` without a usable `Host`.
fn https_location(host: Option<&str>, https_port: u16, path: &str, query: &str) -> Option<String> {
    let host = host?.trim();
    // Strip the port the browser used for plain HTTP (IPv6 literals keep their brackets).
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') => {
            name
        }
        _ => host,
    };
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    if !valid {
        return None;
    }
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    Some(format!("https://{name}{port}{path}{query}"))
}

/// Serves the redirect on `listener` until `stop` resolves.
pub async fn serve_redirect(
    listener: TcpListener,
    https_port: u16,
    limits: HttpLimits,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    if let Ok(address) = listener.local_addr() {
        info!(%address, https_port, "redirecting plain HTTP to HTTPS");
    }
    crate::accept::serve(listener, None, redirect_routes(https_port), limits, stop).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_colon_separated_sha256() {
        // SHA-256 of "abc" (FIPS 180-2 example).
        assert_eq!(
            fingerprint(b"abc"),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }

    #[test]
    fn self_signed_certificates_cover_loopback_and_the_names_asked_for() {
        let config = Config {
            listen: SocketAddr::from(([192, 168, 1, 20], 8443)),
            tls_self_signed: true,
            tls_self_signed_names: vec!["meet.lan".into()],
            ..Config::default()
        };
        let names = self_signed_names(&config);
        assert_eq!(
            names,
            ["localhost", "127.0.0.1", "::1", "192.168.1.20", "meet.lan"]
        );
        let setup = TlsSetup::from_config(&config)
            .expect("generates")
            .expect("tls on");
        assert!(setup.is_self_signed());
        assert_eq!(setup.fingerprint().len(), 32 * 3 - 1);
        assert_eq!(setup.fingerprint(), fingerprint(setup.certificate_der()));
    }

    #[test]
    fn missing_certificate_files_are_a_clear_error() {
        let config = Config {
            tls_cert: Some("/nonexistent/cert.pem".into()),
            tls_key: Some("/nonexistent/key.pem".into()),
            ..Config::default()
        };
        let err = TlsSetup::from_config(&config).expect_err("no files");
        assert!(err.to_string().contains("/nonexistent/cert.pem"), "{err}");
    }

    #[test]
    fn redirects_keep_host_path_and_query_and_drop_the_http_port() {
        assert_eq!(
            https_location(Some("meet.example.org:8080"), 8443, "/r/a", "x=1").as_deref(),
            Some("https://meet.example.org:8443/r/a?x=1")
        );
        assert_eq!(
            https_location(Some("meet.example.org"), 443, "/", "").as_deref(),
            Some("https://meet.example.org/")
        );
        assert_eq!(
            https_location(Some("[::1]:80"), 8443, "/", "").as_deref(),
            Some("https://[::1]:8443/")
        );
        assert_eq!(https_location(None, 443, "/", ""), None);
        assert_eq!(https_location(Some("evil.test/@x"), 443, "/", ""), None);
    }
}
