//! Every configured Janus, each kept connected by a supervisor task that reconnects with
//! backoff: the relay starts whether or not Janus is up (rooms stay mesh meanwhile), and
//! `/readyz` reports why an instance is not usable.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::task::JoinHandle;

use super::{JanusClient, JanusOptions};
use crate::config::Secret;

/// First wait before reconnecting to a Janus that is down; it doubles up to the maximum.
const FIRST_RETRY: Duration = Duration::from_millis(200);
const MAX_RETRY: Duration = Duration::from_secs(5);

/// The state of one instance.
enum Link {
    /// Not connected (yet, or any more), and why.
    Down(String),
    /// Connected, with a live session.
    Up(Arc<JanusClient>),
}

struct Instance {
    url: String,
    link: Mutex<Link>,
}

impl Instance {
    fn set(&self, link: Link) {
        *self.link.lock().unwrap_or_else(PoisonError::into_inner) = link;
    }

    fn client(&self) -> Result<Arc<JanusClient>, String> {
        match &*self.link.lock().unwrap_or_else(PoisonError::into_inner) {
            Link::Up(client) if !client.is_closed() => Ok(Arc::clone(client)),
            Link::Up(_) => Err("connection closed; reconnecting".to_owned()),
            Link::Down(reason) => Err(reason.clone()),
        }
    }
}

/// The Janus instances the relay may put rooms on (none without `--janus-url`).
#[derive(Default)]
pub struct JanusPool {
    instances: Vec<Arc<Instance>>,
    supervisors: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for JanusPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let urls: Vec<&str> = self.instances.iter().map(|i| i.url.as_str()).collect();
        f.debug_struct("JanusPool").field("urls", &urls).finish()
    }
}

impl JanusPool {
    /// Starts connecting to every URL, in the background (needs a Tokio runtime when `urls`
    /// is not empty).
    pub fn start(urls: &[String], admin_key: Option<&Secret>, options: JanusOptions) -> Self {
        let Some(admin_key) = admin_key else {
            return JanusPool::default();
        };
        let instances: Vec<Arc<Instance>> = urls
            .iter()
            .map(|url| {
                Arc::new(Instance {
                    url: url.clone(),
                    link: Mutex::new(Link::Down("connecting".to_owned())),
                })
            })
            .collect();
        let supervisors = instances
            .iter()
            .map(|instance| {
                tokio::spawn(supervise(
                    Arc::clone(instance),
                    admin_key.clone(),
                    options.clone(),
                ))
            })
            .collect();
        JanusPool {
            instances,
            supervisors,
        }
    }

    /// Whether any Janus is configured.
    pub fn is_configured(&self) -> bool {
        !self.instances.is_empty()
    }

    /// `Ok` when no Janus is configured or at least one is connected; otherwise why each
    /// one is not (`janus ws://…: reason`).
    pub fn ready(&self) -> Result<(), String> {
        if !self.is_configured() || self.instances.iter().any(|i| i.client().is_ok()) {
            return Ok(());
        }
        let reasons: Vec<String> = self
            .instances
            .iter()
            .filter_map(|i| {
                i.client()
                    .err()
                    .map(|reason| format!("janus {}: {reason}", i.url))
            })
            .collect();
        Err(reasons.join("; "))
    }

    /// A connected client, the first in configuration order.
    pub fn client(&self) -> Option<Arc<JanusClient>> {
        self.instances.iter().find_map(|i| i.client().ok())
    }

    /// Every connected client, in configuration order.
    pub fn connected(&self) -> Vec<Arc<JanusClient>> {
        self.instances
            .iter()
            .filter_map(|i| i.client().ok())
            .collect()
    }

    /// The client of the instance at `url`, if it is configured and connected now.
    pub fn client_for(&self, url: &str) -> Option<Arc<JanusClient>> {
        self.instances
            .iter()
            .find(|i| i.url == url)
            .and_then(|i| i.client().ok())
    }

    /// Stops reconnecting and drops every connection.
    pub fn stop(&self) {
        for supervisor in &self.supervisors {
            supervisor.abort();
        }
        for instance in &self.instances {
            instance.set(Link::Down("stopped".to_owned()));
        }
    }
}

impl Drop for JanusPool {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Keeps `instance` connected: connect, wait for the connection to close, reconnect with
/// a doubling wait while Janus is down.
async fn supervise(instance: Arc<Instance>, admin_key: Secret, options: JanusOptions) {
    let mut retry = FIRST_RETRY;
    loop {
        match JanusClient::connect(&instance.url, admin_key.clone(), options.clone()).await {
            Ok(client) => {
                tracing::info!(url = %instance.url, "connected to Janus");
                retry = FIRST_RETRY;
                instance.set(Link::Up(Arc::clone(&client)));
                let reason = client.closed().await;
                tracing::warn!(url = %instance.url, %reason, "lost Janus; reconnecting");
                instance.set(Link::Down(reason));
            }
            Err(err) => {
                tracing::debug!(url = %instance.url, %err, "Janus not reachable");
                instance.set(Link::Down(err.to_string()));
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(MAX_RETRY);
            }
        }
    }
}
