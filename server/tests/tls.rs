//! HTTPS and WSS with a self-signed certificate: a client that trusts exactly that
//! certificate (by its fingerprint) loads a page and joins a room over WSS, and the plain
//! HTTP listener redirects to HTTPS.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use meshmeet_protocol::ServerMsg;
use meshmeet_server::tls::fingerprint;
use meshmeet_server::{Config, TlsSetup};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use support::{http_get, join_msg, test_config, RECV_TIMEOUT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;

/// Trusts one certificate, named by its SHA-256 fingerprint, as a person comparing the
/// relay's printed fingerprint with the browser's would.
#[derive(Debug)]
struct PinnedFingerprint {
    fingerprint: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedFingerprint {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if fingerprint(end_entity) == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "certificate fingerprint differs".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn connector(fingerprint: &str) -> TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedFingerprint {
            fingerprint: fingerprint.to_owned(),
            provider,
        }))
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn tls_stream(
    addr: SocketAddr,
    fingerprint: &str,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, std::io::Error> {
    let tcp = TcpStream::connect(addr).await?;
    connector(fingerprint)
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
}

/// A relay on port 0 serving HTTPS with a fresh self-signed certificate, plus the address of
/// its plain-HTTP redirect listener.
async fn start(
    config: Config,
) -> (
    SocketAddr,
    SocketAddr,
    String,
    tokio::sync::oneshot::Sender<()>,
) {
    // A free port for the redirect listener (it must be known before the relay starts).
    let redirect = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind")
        .local_addr()
        .expect("address");
    let config = Config {
        tls_self_signed: true,
        http_redirect: Some(redirect),
        ..config
    };
    let tls = TlsSetup::from_config(&config)
        .expect("certificate")
        .expect("tls on");
    let fingerprint = tls.fingerprint();
    let listener = TcpListener::bind(config.listen).await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(meshmeet_server::serve_with_tls(
        config,
        listener,
        Some(tls),
        async move {
            let _ = stopped.await;
        },
    ));
    (addr, redirect, fingerprint, stop)
}

#[tokio::test]
async fn a_client_trusting_the_printed_fingerprint_uses_https_and_wss() {
    let (addr, _, fingerprint, _stop) = start(test_config()).await;

    // HTTPS: the health check answers over TLS.
    let stream = tls_stream(addr, &fingerprint).await.expect("TLS handshake");
    let response = healthz(stream).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok"), "{response}");

    // WSS: two people join a room and see each other.
    let mut sockets = Vec::new();
    for name in ["Ana", "Bo"] {
        let stream = tls_stream(addr, &fingerprint).await.expect("TLS handshake");
        let (mut ws, _) =
            tokio_tungstenite::client_async(format!("wss://localhost:{}/ws", addr.port()), stream)
                .await
                .expect("WebSocket over TLS");
        let join = serde_json::to_string(&join_msg("secure", name)).expect("json");
        ws.send(Message::text(join)).await.expect("send");
        let welcome = next_msg(&mut ws).await;
        assert!(matches!(welcome, ServerMsg::Welcome { .. }), "{welcome:?}");
        sockets.push(ws);
    }
    match next_msg(&mut sockets[0]).await {
        ServerMsg::PeerJoined { peer } => assert_eq!(peer.name, "Bo"),
        other => panic!("expected peer_joined, got {other:?}"),
    }
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_cannot_connect() {
    let (addr, _, _, _stop) = start(test_config()).await;
    let other = fingerprint(b"some other certificate");
    assert!(tls_stream(addr, &other).await.is_err());
    // Plain HTTP on the TLS port gets no page either.
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buffer = Vec::new();
    let _ = tokio::time::timeout(RECV_TIMEOUT, tcp.read_to_end(&mut buffer)).await;
    assert!(
        !String::from_utf8_lossy(&buffer).contains("200 OK"),
        "served plain HTTP on the HTTPS port"
    );
}

#[tokio::test]
async fn plain_http_is_redirected_to_https_on_the_relay_port() {
    let (addr, redirect, _, _stop) = start(test_config()).await;
    // The relay binds the redirect listener as it starts, in its own task.
    let deadline = tokio::time::Instant::now() + RECV_TIMEOUT;
    while TcpStream::connect(redirect).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "redirect listener never came up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let response = http_get(
        redirect,
        "/r/standup?video=low",
        &[("Host", "meet.lan:8080")],
    )
    .await;
    assert_eq!(response.status, 308);
    assert_eq!(
        response.header("location"),
        Some(format!("https://127.0.0.1:{}/r/standup?video=low", addr.port()).as_str())
    );
}

async fn next_msg<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>) -> ServerMsg
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let frame = tokio::time::timeout(RECV_TIMEOUT, ws.next())
            .await
            .expect("message in time")
            .expect("open")
            .expect("frame");
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).expect("a ServerMsg");
        }
    }
}

#[tokio::test]
async fn three_hundred_idle_connections_under_a_256_descriptor_limit_leave_https_answering() {
    let relay = support::RelayProcess::start(256, &["--tls-self-signed"]);
    let fingerprint = relay.fingerprint.clone().expect("a printed fingerprint");
    // Silent connections and half-sent headers hold a descriptor each, TLS handshake or not.
    let idle = support::idle_connections(relay.addr, 300).await;
    assert!(idle.len() >= 256, "opened only {} connections", idle.len());
    let stream = tokio::time::timeout(RECV_TIMEOUT, tls_stream(relay.addr, &fingerprint))
        .await
        .expect("handshake in time")
        .expect("TLS handshake");
    let response = healthz(stream).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    drop(idle);
}

/// Asks for `/healthz` on an open TLS stream and returns the whole response.
async fn healthz<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(mut stream: S) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(RECV_TIMEOUT, stream.read_to_end(&mut response))
        .await
        .expect("in time")
        .expect("read");
    String::from_utf8_lossy(&response).into_owned()
}
