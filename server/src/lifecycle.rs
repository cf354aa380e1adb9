//! Open connections and shutdown: admits sockets up to the limit, tells them all when the
//! relay stops, and lets `serve` wait until they have closed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

/// Counts open WebSocket connections and carries the shutdown signal.
#[derive(Debug)]
pub struct Lifecycle {
    max_connections: usize,
    open: watch::Sender<usize>,
    stopping: watch::Sender<bool>,
    /// Shared with every mailbox, see [`crate::registry::Mailbox`].
    draining: Arc<AtomicBool>,
}

/// Held by a connection for as long as it is open; releases its slot when dropped.
#[derive(Debug)]
pub struct ConnectionSlot {
    lifecycle: Arc<Lifecycle>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.lifecycle
            .open
            .send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Lifecycle {
    /// Nothing open yet, not stopping.
    pub fn new(max_connections: usize) -> Self {
        Lifecycle {
            max_connections,
            open: watch::Sender::new(0),
            stopping: watch::Sender::new(false),
            draining: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A slot for one more connection, unless the relay is full or stopping.
    pub fn try_admit(self: &Arc<Self>) -> Option<ConnectionSlot> {
        if self.is_stopping() {
            return None;
        }
        let mut admitted = false;
        self.open.send_if_modified(|n| {
            // Check and increment in one step, so two upgrades cannot both take the last slot.
            if *n < self.max_connections {
                *n += 1;
                admitted = true;
            }
            admitted
        });
        admitted.then(|| ConnectionSlot {
            lifecycle: Arc::clone(self),
        })
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        *self.open.borrow()
    }

    /// Whether shutdown has begun.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Starts shutdown: mailboxes stop taking news, then every connection is told to close.
    pub fn begin_shutdown(&self) {
        self.draining.store(true, Ordering::Release);
        self.stopping.send_replace(true);
    }

    /// Resolves when shutdown has begun (at once if it already has).
    pub fn stopping(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.stopping.subscribe();
        async move {
            // An error means the lifecycle is gone, which only happens when the relay is.
            let _ = rx.wait_for(|stopping| *stopping).await;
        }
    }

    /// Resolves when no connection is open.
    pub async fn all_closed(&self) {
        let mut rx = self.open.subscribe();
        let _ = rx.wait_for(|open| *open == 0).await;
    }

    /// The flag mailboxes check before delivering.
    pub fn draining_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.draining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_limited_and_released() {
        let lifecycle = Arc::new(Lifecycle::new(2));
        let a = lifecycle.try_admit().expect("first");
        let _b = lifecycle.try_admit().expect("second");
        assert!(lifecycle.try_admit().is_none());
        drop(a);
        assert_eq!(lifecycle.open_connections(), 1);
        assert!(lifecycle.try_admit().is_some());
    }

    #[tokio::test]
    async fn nothing_is_admitted_once_stopping() {
        let lifecycle = Arc::new(Lifecycle::new(2));
        let stopping = lifecycle.stopping();
        lifecycle.begin_shutdown();
        stopping.await;
        assert!(lifecycle.try_admit().is_none());
        lifecycle.all_closed().await;
    }
}
