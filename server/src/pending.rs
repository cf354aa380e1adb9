//! HTTP connections that have not become WebSockets, counted globally and per address, so
//! idle or slow connections cannot take every file descriptor: past a limit, the least
//! recently active connection (of that address, or of all) is closed to make room.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How many pending connections may be open at once; 0 means no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingLimits {
    /// All addresses together.
    pub total: usize,
    /// One address.
    pub per_ip: usize,
}

/// When a connection last read or wrote a byte, shared between its socket and its watchdog.
#[derive(Debug)]
pub struct Activity {
    origin: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new(origin: Instant) -> Activity {
        let activity = Activity {
            origin,
            last_ms: AtomicU64::new(0),
        };
        activity.touch();
        activity
    }

    /// Records that the connection moved bytes just now.
    pub fn touch(&self) {
        let now = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now, Ordering::Relaxed);
    }

    /// How long the connection has moved no bytes.
    pub fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.origin.elapsed().saturating_sub(last)
    }

    fn last_ms(&self) -> u64 {
        self.last_ms.load(Ordering::Relaxed)
    }
}

struct Entry {
    ip: IpAddr,
    activity: Arc<Activity>,
    evict: Arc<Notify>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    entries: HashMap<u64, Entry>,
    per_ip: HashMap<IpAddr, usize>,
}

impl Table {
    fn remove(&mut self, id: u64) -> Option<Entry> {
        let entry = self.entries.remove(&id)?;
        if let Some(count) = self.per_ip.get_mut(&entry.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_ip.remove(&entry.ip);
            }
        }
        Some(entry)
    }

    /// Closes the least recently active connection among those `which` selects.
    fn evict_stalest(&mut self, which: impl Fn(&Entry) -> bool) {
        let stalest = self
            .entries
            .iter()
            .filter(|(_, entry)| which(entry))
            .min_by_key(|(id, entry)| (entry.activity.last_ms(), **id))
            .map(|(id, _)| *id);
        if let Some(entry) = stalest.and_then(|id| self.remove(id)) {
            // A stored permit: the connection's task sees it even if it is not waiting yet.
            entry.evict.notify_one();
        }
    }
}

/// The table of pending connections.
pub struct PendingConnections {
    limits: PendingLimits,
    origin: Instant,
    table: Mutex<Table>,
}

impl PendingConnections {
    /// An empty table with these limits.
    pub fn new(limits: PendingLimits) -> Arc<PendingConnections> {
        Arc::new(PendingConnections {
            limits,
            origin: Instant::now(),
            table: Mutex::default(),
        })
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // The table stays consistent across a panic elsewhere: every change is one step.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a new connection from `ip`, first closing the stalest one of its address (or
    /// of all) if a limit is reached; `per_ip_limit` false exempts the address from its own
    /// limit (a trusted reverse proxy carries everyone's connections). The connection stays
    /// counted while the guard lives.
    pub fn admit(self: &Arc<Self>, ip: IpAddr, per_ip_limit: bool) -> Pending {
        let mut table = self.table();
        let limits = self.limits;
        if per_ip_limit
            && limits.per_ip > 0
            && table.per_ip.get(&ip).copied().unwrap_or(0) >= limits.per_ip
        {
            table.evict_stalest(|entry| entry.ip == ip);
        }
        if limits.total > 0 && table.entries.len() >= limits.total {
            table.evict_stalest(|_| true);
        }
        let id = table.next_id;
        table.next_id += 1;
        let activity = Arc::new(Activity::new(self.origin));
        let evicted = Arc::new(Notify::new());
        table.entries.insert(
            id,
            Entry {
                ip,
                activity: Arc::clone(&activity),
                evict: Arc::clone(&evicted),
            },
        );
        *table.per_ip.entry(ip).or_default() += 1;
        Pending {
            id,
            owner: Arc::clone(self),
            activity,
            evicted,
        }
    }

    /// Pending connections open now.
    pub fn len(&self) -> usize {
        self.table().entries.len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One counted connection; dropping it (the connection closed or upgraded) uncounts it.
pub struct Pending {
    id: u64,
    owner: Arc<PendingConnections>,
    /// Updated by the connection's socket.
    pub activity: Arc<Activity>,
    /// Notified when the connection must close to make room for a newer one.
    pub evicted: Arc<Notify>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.owner.table().remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    fn was_evicted(pending: &Pending) -> bool {
        let notified = pending.evicted.notified();
        let mut notified = pin!(notified);
        matches!(
            notified
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop())),
            Poll::Ready(())
        )
    }

    fn set_last(pending: &Pending, ms: u64) {
        pending.activity.last_ms.store(ms, Ordering::Relaxed);
    }

    #[test]
    fn past_the_per_address_limit_the_stalest_of_that_address_is_closed() {
        let table = PendingConnections::new(PendingLimits {
            total: 0,
            per_ip: 2,
        });
        let old = table.admit(ip(1), true);
        let recent = table.admit(ip(1), true);
        let other = table.admit(ip(2), true);
        set_last(&old, 1);
        set_last(&recent, 50);
        set_last(&other, 0);
        let newest = table.admit(ip(1), true);
        assert!(was_evicted(&old));
        assert!(!was_evicted(&recent));
        assert!(!was_evicted(&other), "another address is not touched");
        assert!(!was_evicted(&newest));
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn past_the_total_limit_the_stalest_of_all_is_closed_and_drops_uncount() {
        let table = PendingConnections::new(PendingLimits {
            total: 2,
            per_ip: 0,
        });
        let first = table.admit(ip(1), true);
        let second = table.admit(ip(2), true);
        set_last(&first, 30);
        set_last(&second, 20);
        let third = table.admit(ip(3), true);
        assert!(was_evicted(&second));
        assert!(!was_evicted(&first));
        drop(second);
        assert_eq!(table.len(), 2, "an evicted connection is uncounted once");
        drop(first);
        drop(third);
        assert!(table.is_empty());
    }

    #[test]
    fn an_exempt_address_is_limited_only_by_the_total() {
        let table = PendingConnections::new(PendingLimits {
            total: 10,
            per_ip: 1,
        });
        let proxied: Vec<Pending> = (0..5).map(|_| table.admit(ip(9), false)).collect();
        assert!(proxied.iter().all(|p| !was_evicted(p)));
        assert_eq!(table.len(), 5);
    }

    #[test]
    fn no_limit_evicts_nothing() {
        let table = PendingConnections::new(PendingLimits {
            total: 0,
            per_ip: 0,
        });
        let all: Vec<Pending> = (0..100).map(|_| table.admit(ip(1), true)).collect();
        assert!(all.iter().all(|p| !was_evicted(p)));
        assert_eq!(table.len(), 100);
    }
}
