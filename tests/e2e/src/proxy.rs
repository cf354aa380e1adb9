//! A TCP proxy in front of the relay whose connections a test can cut: the browser behind it
//! loses its relay socket while the browser itself, and its peer connections, live on.

use crate::{Error, Result};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// A running proxy; dropping it stops it and cuts every connection.
pub struct Proxy {
    addr: SocketAddr,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    acceptor: JoinHandle<()>,
}

impl Proxy {
    /// Listens on 127.0.0.1 (a port the OS picks) and forwards every connection to `target`.
    pub async fn start(target: SocketAddr) -> Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| Error::new(format!("proxy: bind: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::new(format!("proxy: address: {e}")))?;
        let connections = Arc::new(Mutex::new(Vec::<AbortHandle>::new()));
        let tracked = Arc::clone(&connections);
        let acceptor = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = inbound.set_nodelay(true);
                        let _ = outbound.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                let mut open = tracked.lock().unwrap();
                open.retain(|handle| !handle.is_finished());
                open.push(task.abort_handle());
            }
        });
        Ok(Proxy {
            addr,
            connections,
            acceptor,
        })
    }

    /// `http://127.0.0.1:<port>`: open pages here to go through the proxy.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every connection open now (both sides see the TCP connection close); later
    /// connections are forwarded as before. Returns how many were cut.
    pub fn cut(&self) -> usize {
        let open = std::mem::take(&mut *self.connections.lock().unwrap());
        let live = open.iter().filter(|h| !h.is_finished()).count();
        for handle in open {
            handle.abort();
        }
        live
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.cut();
    }
}
