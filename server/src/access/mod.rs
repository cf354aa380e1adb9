//! Who may connect and who may join: the `Origin` check on the WebSocket upgrade, the
//! per-address connection limit, the per-address limit on failed joins (against password
//! guessing), operator-set room passwords, and signed join tokens.
//!
//! Addresses are counted per IPv4 address and per IPv6 /64 (one home or office network
//! usually holds a whole /64, so counting single IPv6 addresses would limit nothing).
//!
//! Here: origins, client addresses and the connection limit; joins are in `join`.

mod join;

pub use self::join::{is_failed_attempt, Admission, JoinAttempt};

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::config::{Config, Secret};
use crate::limits::TokenBucket;

/// The part of an address the per-address limits count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddressKey {
    /// One IPv4 address.
    V4([u8; 4]),
    /// One IPv6 /64.
    V6([u8; 8]),
}

impl AddressKey {
    /// The key of `ip` (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => AddressKey::V4(v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => AddressKey::V4(v4.octets()),
                None => {
                    let mut prefix = [0u8; 8];
                    prefix.copy_from_slice(&v6.octets()[..8]);
                    AddressKey::V6(prefix)
                }
            },
        }
    }
}

impl fmt::Display for AddressKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressKey::V4(o) => write!(f, "{}.{}.{}.{}", o[0], o[1], o[2], o[3]),
            AddressKey::V6(p) => {
                for pair in p.chunks(2) {
                    write!(f, "{:x}:", u16::from_be_bytes([pair[0], pair[1]]))?;
                }
                f.write_str(":/64")
            }
        }
    }
}

/// The relay's access rules, shared by every connection.
#[derive(Debug)]
pub struct Access {
    allowed_origins: Vec<String>,
    trusted_proxies: Vec<IpAddr>,
    max_connections_per_address: usize,
    open: Mutex<HashMap<AddressKey, usize>>,
    failure_burst: u32,
    failures_forgiven_per_second: f64,
    failures: Mutex<HashMap<AddressKey, TokenBucket>>,
    room_passwords: HashMap<String, Secret>,
    token_secret: Option<Secret>,
    require_token: bool,
    max_room_name_chars: usize,
    max_display_name_chars: usize,
}

/// What a connection knows about its client from the upgrade: its address (for the
/// failed-join limit), and its place in the per-address connection count.
#[derive(Debug, Default)]
pub struct ClientInfo {
    /// The client's address, if known.
    pub ip: Option<IpAddr>,
    /// Released when the connection ends.
    pub address_slot: Option<AddressSlot>,
}

/// Held by a connection while it is open; gives its address's place back when dropped.
#[derive(Debug)]
pub struct AddressSlot {
    access: Arc<Access>,
    key: AddressKey,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.access.open);
        if let Some(count) = open.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Each critical section is a map lookup and an update: never left half done.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Access {
    /// The rules `config` asks for.
    pub fn new(config: &Config) -> Self {
        Access {
            allowed_origins: config.allowed_origins.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
            max_connections_per_address: config.max_connections_per_ip,
            open: Mutex::new(HashMap::new()),
            failure_burst: config.max_failed_joins,
            failures_forgiven_per_second: f64::from(config.max_failed_joins)
                / config.failed_join_window.as_secs_f64().max(0.001),
            failures: Mutex::new(HashMap::new()),
            room_passwords: config
                .room_passwords
                .iter()
                .map(|entry| (entry.room.clone(), entry.password.clone()))
                .collect(),
            token_secret: config.token_secret.clone(),
            require_token: config.require_token,
            max_room_name_chars: config.max_room_name_chars,
            max_display_name_chars: config.max_display_name_chars,
        }
    }

    /// Whether a WebSocket upgrade with this `Origin` header may proceed. Without
    /// `--allowed-origin` every origin may; with it, only those listed (and a request
    /// without `Origin`, which no browser sends, is refused too).
    pub fn origin_allowed(&self, origin: Option<&str>) -> bool {
        if self.allowed_origins.is_empty() {
            return true;
        }
        origin.is_some_and(|origin| {
            let origin = origin.trim().to_ascii_lowercase();
            self.allowed_origins.contains(&origin)
        })
    }

    /// The client's address: the socket's peer, or, when the peer is a trusted proxy, the
    /// last address in `X-Forwarded-For` that is not a trusted proxy itself.
    pub fn client_ip(
        &self,
        peer: Option<SocketAddr>,
        forwarded_for: Option<&str>,
    ) -> Option<IpAddr> {
        let mut ip = peer?.ip();
        if !self.trusted_proxies.contains(&ip) {
            return Some(ip);
        }
        let Some(forwarded_for) = forwarded_for else {
            return Some(ip);
        };
        for hop in forwarded_for.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(hop) => {
                    ip = hop;
                    if !self.trusted_proxies.contains(&hop) {
                        break;
                    }
                }
                // A proxy that writes ports or names: believe no further.
                Err(_) => break,
            }
        }
        Some(ip)
    }

    /// A place for one more connection from `ip`, or `Err` when that address has its
    /// maximum open. Unknown addresses and an unlimited relay always get in.
    pub fn admit_connection(
        self: &Arc<Self>,
        ip: Option<IpAddr>,
    ) -> Result<Option<AddressSlot>, AddressKey> {
        let (Some(ip), true) = (ip, self.max_connections_per_address > 0) else {
            return Ok(None);
        };
        let key = AddressKey::of(ip);
        let mut open = lock(&self.open);
        let count = open.entry(key).or_insert(0);
        if *count >= self.max_connections_per_address {
            return Err(key);
        }
        *count += 1;
        Ok(Some(AddressSlot {
            access: Arc::clone(self),
            key,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(config: Config) -> Arc<Access> {
        Arc::new(Access::new(&config))
    }

    #[test]
    fn origins_are_open_by_default_and_exact_when_listed() {
        assert!(access(Config::default()).origin_allowed(None));
        let listed = access(Config {
            allowed_origins: vec!["https://meet.example.org".into()],
            ..Config::default()
        });
        assert!(listed.origin_allowed(Some("https://meet.example.org")));
        assert!(listed.origin_allowed(Some("HTTPS://MEET.example.org")));
        assert!(!listed.origin_allowed(Some("https://meet.example.org.evil.test")));
        assert!(!listed.origin_allowed(Some("http://meet.example.org")));
        assert!(!listed.origin_allowed(None));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let rules = access(Config {
            trusted_proxies: vec![proxy, "10.0.0.3".parse().expect("ip")],
            ..Config::default()
        });
        let via_proxy = Some(SocketAddr::new(proxy, 5000));
        let direct = Some(SocketAddr::from(([192, 0, 2, 9], 5000)));
        let client: IpAddr = "198.51.100.7".parse().expect("ip");
        assert_eq!(
            rules.client_ip(via_proxy, Some("203.0.113.1, 198.51.100.7")),
            Some(client)
        );
        assert_eq!(
            rules.client_ip(via_proxy, Some("198.51.100.7, 10.0.0.3")),
            Some(client),
            "a chain of trusted proxies is walked back"
        );
        assert_eq!(rules.client_ip(via_proxy, None), Some(proxy));
        assert_eq!(
            rules.client_ip(direct, Some("198.51.100.7")),
            Some("192.0.2.9".parse().expect("ip")),
            "an untrusted peer cannot pick its address"
        );
    }

    #[test]
    fn connections_per_address_are_limited_and_released() {
        let rules = access(Config {
            max_connections_per_ip: 2,
            ..Config::default()
        });
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let a = rules.admit_connection(Some(ip)).expect("first");
        let _b = rules.admit_connection(Some(ip)).expect("second");
        assert!(rules.admit_connection(Some(ip)).is_err());
        assert!(rules
            .admit_connection(Some("192.0.2.2".parse().expect("ip")))
            .is_ok());
        // Two addresses of one IPv6 /64 are one network.
        let v6a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let v6b: IpAddr = "2001:db8:1:2::ffff".parse().expect("ip");
        let _c = rules.admit_connection(Some(v6a)).expect("v6");
        let _d = rules.admit_connection(Some(v6b)).expect("v6 second");
        assert!(rules.admit_connection(Some(v6a)).is_err());
        drop(a);
        assert!(rules.admit_connection(Some(ip)).is_ok());
    }
}
