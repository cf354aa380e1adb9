//! Test support: a relay on a free loopback port, WebSocket clients that fail fast instead
//! of hanging, plain HTTP requests, and throwaway dist directories.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use meshmeet_protocol::{
    ClientMsg, ErrorCode, MediaState, PeerId, PeerInfo, RoomName, ServerMsg, SessionToken, Signal,
    PROTOCOL_VERSION,
};
use meshmeet_server::{Config, ServeError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Longest wait for something that should arrive.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(3);
/// How long "nothing arrives" is watched for.
pub const SILENCE: Duration = Duration::from_millis(150);

/// A config for tests: the defaults, with a dist directory that does not exist and resuming
/// off, so a closed socket is announced at once (the resume tests turn it on).
pub fn test_config() -> Config {
    Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        dist: PathBuf::from("/nonexistent/meshmeet-test-dist"),
        resume_grace: Duration::ZERO,
        ..Config::default()
    }
}

/// A relay running inside the test on 127.0.0.1 with a port the OS picked.
pub struct TestRelay {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServeError>>>,
}

impl TestRelay {
    pub async fn start(config: Config) -> TestRelay {
        let listener = TcpListener::bind(config.listen).await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(meshmeet_server::serve(config, listener, async move {
            let _ = stopped.await;
        }));
        TestRelay {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// A connected client that has not joined.
    pub async fn connect(&self) -> Client {
        let (ws, _) = tokio::time::timeout(
            RECV_TIMEOUT,
            tokio_tungstenite::connect_async(self.ws_url()),
        )
        .await
        .expect("connect in time")
        .expect("websocket handshake");
        Client { ws }
    }

    /// A connection attempt with extra handshake headers (`Origin` and the like): the client,
    /// or the HTTP status the upgrade was refused with.
    pub async fn connect_with_headers(&self, headers: &[(&str, &str)]) -> Result<Client, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = self.ws_url().into_client_request().expect("request");
        for (name, value) in headers {
            request.headers_mut().insert(
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                    .expect("header name"),
                value.parse().expect("header value"),
            );
        }
        let connected =
            tokio::time::timeout(RECV_TIMEOUT, tokio_tungstenite::connect_async(request))
                .await
                .expect("handshake in time");
        match connected {
            Ok((ws, _)) => Ok(Client { ws }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(other) => panic!("handshake failed without an HTTP answer: {other}"),
        }
    }

    /// A client that joined `room` as `name`, and what its welcome said.
    pub async fn join(&self, room: &str, name: &str) -> (Client, Welcome) {
        let mut client = self.connect().await;
        let welcome = client.join(room, name).await;
        (client, welcome)
    }

    /// Triggers shutdown and waits for `serve` to return.
    pub async fn stop(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().expect("not stopped twice");
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("serve returns after shutdown")
            .expect("serve task did not panic")
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The parts of `welcome` tests look at.
#[derive(Debug, Clone)]
pub struct Welcome {
    pub peer_id: PeerId,
    pub roster: Vec<PeerInfo>,
    pub session: SessionToken,
    pub msg: ServerMsg,
}

pub fn join_msg(room: &str, name: &str) -> ClientMsg {
    ClientMsg::Join {
        version: PROTOCOL_VERSION,
        room: RoomName(room.into()),
        name: name.into(),
        password: None,
        media: MediaState::default(),
        token: None,
        client_key: None,
        e2ee: false,
    }
}

/// `go_live` with `stage` chosen by the host, to the watch link only.
pub fn go_live_msg(stage: Vec<PeerId>) -> ClientMsg {
    ClientMsg::GoLive {
        stage,
        outputs: Default::default(),
        follow_speaker: false,
    }
}

pub fn candidate(n: usize) -> Signal {
    Signal::Candidate {
        candidate: format!(
            "candidate:{n} 1 udp 2122260223 192.0.2.1 {} typ host",
            50_000 + n
        ),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
        username_fragment: Some("abcd".into()),
    }
}

/// A test's WebSocket client. Every receive has a timeout; control frames are skipped (and
/// pings answered by tungstenite while reading).
pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a connection ended, as the client saw it.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    /// A close frame with this code.
    Frame(u16),
    /// The stream ended without one (or with a socket error).
    Abruptly,
}

impl Client {
    pub async fn send(&mut self, msg: &ClientMsg) {
        let text = serde_json::to_string(msg).expect("serialise");
        self.send_text(&text).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.send_frame(Message::text(text.to_owned())).await;
    }

    pub async fn send_frame(&mut self, frame: Message) {
        tokio::time::timeout(RECV_TIMEOUT, self.ws.send(frame))
            .await
            .expect("send in time")
            .expect("send");
    }

    /// The next protocol message; panics on timeout, close or anything that is not one.
    pub async fn recv(&mut self) -> ServerMsg {
        match self.recv_within(RECV_TIMEOUT).await {
            Some(msg) => msg,
            None => panic!("no message within {RECV_TIMEOUT:?}"),
        }
    }

    async fn recv_within(&mut self, limit: Duration) -> Option<ServerMsg> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let frame = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return None,
                Ok(frame) => frame,
            };
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return Some(serde_json::from_str(&text).unwrap_or_else(|err| {
                        panic!("relay sent something that is not a ServerMsg ({err}): {text}")
                    }))
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a message, got {other:?}"),
            }
        }
    }

    /// The next message, which must be an error; returns its code.
    pub async fn recv_error(&mut self) -> ErrorCode {
        match self.recv().await {
            ServerMsg::Error { code, .. } => code,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    /// Asserts nothing arrives for a moment.
    pub async fn expect_silence(&mut self) {
        if let Some(msg) = self.recv_within(SILENCE).await {
            panic!("expected nothing, got {msg:?}");
        }
    }

    /// Sends a ping and expects its pong as the very next message: proof the session is alive
    /// and nothing else was queued for it.
    pub async fn assert_alive(&mut self, nonce: u64) {
        self.send(&ClientMsg::Ping { nonce }).await;
        assert_eq!(self.recv().await, ServerMsg::Pong { nonce });
    }

    /// Waits for the connection to end, failing on any protocol message on the way.
    pub async fn expect_closed(&mut self) -> Closed {
        let deadline = tokio::time::Instant::now() + RECV_TIMEOUT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .expect("connection closed in time");
            match frame {
                Some(Ok(Message::Close(Some(close)))) => {
                    return Closed::Frame(u16::from(close.code));
                }
                Some(Ok(Message::Close(None))) => return Closed::Frame(1005),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => panic!("expected the connection to close, got {other:?}"),
                Some(Err(_)) | None => return Closed::Abruptly,
            }
        }
    }

    pub async fn join(&mut self, room: &str, name: &str) -> Welcome {
        self.send(&join_msg(room, name)).await;
        self.expect_welcome().await
    }

    pub async fn expect_welcome(&mut self) -> Welcome {
        let msg = self.recv().await;
        match &msg {
            ServerMsg::Welcome {
                peer_id,
                roster,
                session,
                ..
            } => Welcome {
                peer_id: peer_id.clone(),
                roster: roster.clone(),
                session: session.clone(),
                msg,
            },
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    pub async fn close(mut self) {
        let _ = self
            .ws
            .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }))
            .await;
    }
}

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A plain HTTP/1.1 GET over a fresh TCP connection (`Connection: close`).
pub async fn http_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    http_raw(addr, &request).await
}

/// Sends `request` as it is over a fresh TCP connection and reads the response until the
/// relay closes the connection.
pub async fn http_raw(addr: SocketAddr, request: &str) -> HttpResponse {
    let raw = tokio::time::timeout(RECV_TIMEOUT, async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        raw
    })
    .await
    .expect("response in time");
    parse_http(&raw)
}

fn parse_http(raw: &[u8]) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = std::str::from_utf8(&raw[..split]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = std::str::from_utf8(&data[..line_end]).expect("ASCII size");
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .expect("hex size");
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// A directory under the system temp dir, removed when dropped.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "meshmeet-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }

    pub fn write(&self, relative: &str, contents: &[u8]) -> PathBuf {
        let path = self.path.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The relay binary, started by `sh` after `ulimit -n` lowered its descriptor limit.
pub struct RelayProcess {
    child: std::process::Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// The SHA-256 fingerprint it printed for a self-signed certificate.
    pub fingerprint: Option<String>,
}

impl RelayProcess {
    /// Starts the relay binary with at most `fd_limit` file descriptors, on 127.0.0.1 port 0
    /// with no client, plus `args`; waits for its listening line.
    pub fn start(fd_limit: u32, args: &[&str]) -> RelayProcess {
        use std::io::BufRead;
        let child = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n {fd_limit} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_meshmeet-server"))
            .args(["--listen", "127.0.0.1:0", "--dist", "/nonexistent/meshmeet"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the relay starts");
        // Owned by the guard at once, so a failed start below still kills it.
        let mut process = RelayProcess {
            child,
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            fingerprint: None,
        };
        let stdout = process.child.stdout.take().expect("stdout");
        let (lines_tx, lines_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        loop {
            let line = lines_rx
                .recv_timeout(Duration::from_secs(10))
                .expect("the relay announced its address in time");
            if let Some(value) = line.split("fingerprint: ").nth(1) {
                process.fingerprint = Some(value.trim().to_owned());
            }
            if let Some((_, address)) = line.split_once("listening on ") {
                let address = address.split_once("://").map_or(address, |(_, a)| a);
                process.addr = address.trim().parse().expect("an address");
                return process;
            }
        }
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens `count` TCP connections that never finish a request: every other one sends half a
/// request header (slowloris), the rest send nothing.
pub async fn idle_connections(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut idle = Vec::with_capacity(count);
    for n in 0..count {
        let Ok(mut stream) = TcpStream::connect(addr).await else {
            // The backlog may be full while the relay closes the oldest: that is its right.
            continue;
        };
        if n % 2 == 0 {
            let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await;
        }
        idle.push(stream);
    }
    idle
}

/// Whether the relay closed `stream` (a read returns end of file or an error) in time.
pub async fn closed_by_relay(stream: &mut TcpStream) -> bool {
    let mut buffer = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + RECV_TIMEOUT;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // A 408 or similar before the close.
            Ok(Ok(_)) => continue,
        }
    }
}
