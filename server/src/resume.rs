//! Sessions a participant can take back after its socket dropped: which token belongs to
//! which room membership, and the messages held for a participant while it is away.
//!
//! A session is *live* while a connection speaks for it and *held* for the resume grace period
//! after that connection closed without `leave`. Only this relay's own connections are here:
//! a resume must reach the relay that held the session. [`Sessions::reclaim`] decides whether
//! a resume is admitted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use meshmeet_protocol::{LeaveReason, SessionToken};
use tokio::sync::Notify;
use tokio::time::Instant;
use tracing::warn;

use crate::error::RelayError;
use crate::member_state::MemberState;
use crate::registry::{random_hex_128, HeldMessages, Mailbox, Membership, RoomRegistry};

/// How long a resume waits for the session's old connection to let go.
const TAKEOVER_WAIT: Duration = Duration::from_secs(2);
/// How often it looks meanwhile.
const TAKEOVER_POLL: Duration = Duration::from_millis(20);

/// Every resumable session of this relay.
#[derive(Debug, Default)]
pub struct Sessions {
    entries: Mutex<HashMap<SessionToken, Entry>>,
    /// Tells held sessions apart from a later hold of the same token, so a grace timer
    /// never expires a session that was resumed and dropped again since.
    next_hold: Mutex<u64>,
}

#[derive(Debug)]
enum Entry {
    Live {
        member: Membership,
        mailbox: Mailbox,
        kept: Arc<MemberState>,
        /// Wakes the connection that holds the session when another one resumes it.
        takeover: Arc<Notify>,
    },
    Held {
        member: Membership,
        mailbox: Mailbox,
        kept: Arc<MemberState>,
        held: HeldMessages,
        hold: u64,
    },
}

/// A held session, taken back by a resuming connection.
#[derive(Debug)]
pub struct HeldSession {
    /// The room membership, with its peer id.
    pub member: Membership,
    /// The mailbox the registry delivers to.
    pub mailbox: Mailbox,
    /// What the membership keeps across connections: its chat numbering (it goes on
    /// counting from there) and its SFU session.
    pub kept: Arc<MemberState>,
    /// What arrived meanwhile.
    pub held: HeldMessages,
}

/// What [`Sessions::take`] found.
#[derive(Debug)]
pub enum Taken {
    /// The session was held: it is the caller's now.
    Held(HeldSession),
    /// Another connection still speaks for the session; it has been told to let go, so
    /// asking again shortly finds it held.
    Live,
    /// No such session (never was, resumed elsewhere, expired, or the relay restarted).
    Unknown,
}

impl Sessions {
    fn entries(&self) -> MutexGuard<'_, HashMap<SessionToken, Entry>> {
        // Each change replaces or removes one entry whole.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new unguessable token.
    pub fn new_token() -> Result<SessionToken, RelayError> {
        random_hex_128().map(SessionToken)
    }

    /// Records that a connection speaks for `member` under `token` (what it keeps across
    /// connections in `kept`); `takeover` wakes it when another connection resumes the session.
    pub fn register(
        &self,
        token: SessionToken,
        member: Membership,
        mailbox: Mailbox,
        kept: Arc<MemberState>,
        takeover: Arc<Notify>,
    ) {
        self.entries().insert(
            token,
            Entry::Live {
                member,
                mailbox,
                kept,
                takeover,
            },
        );
    }

    /// The live session's connection closed: holds its messages (up to `capacity`) and
    /// returns the hold's number for [`Sessions::expire`], or `None` if it was not live.
    pub fn hold(&self, token: &SessionToken, capacity: usize) -> Option<u64> {
        let mut entries = self.entries();
        let Some(Entry::Live {
            member,
            mailbox,
            kept,
            ..
        }) = entries.remove(token)
        else {
            return None;
        };
        let hold = {
            let mut next = self
                .next_hold
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            *next += 1;
            *next
        };
        let held = mailbox.hold(capacity);
        entries.insert(
            token.clone(),
            Entry::Held {
                member,
                mailbox,
                kept,
                held,
                hold,
            },
        );
        Some(hold)
    }

    /// The grace period of hold number `hold` ran out: forgets the session and returns the
    /// membership to end, unless it was resumed meanwhile.
    pub fn expire(&self, token: &SessionToken, hold: u64) -> Option<Membership> {
        let mut entries = self.entries();
        match entries.get(token) {
            Some(Entry::Held { hold: held, .. }) if *held == hold => {}
            _ => return None,
        }
        match entries.remove(token) {
            Some(Entry::Held { member, .. }) => Some(member),
            _ => None,
        }
    }

    /// Forgets a session that ended for good (`leave`, refused, timed out).
    pub fn forget(&self, token: &SessionToken) {
        self.entries().remove(token);
    }

    /// Takes a held session for a resuming connection; a live one is told to let go.
    pub fn take(&self, token: &SessionToken) -> Taken {
        let mut entries = self.entries();
        match entries.get(token) {
            None => return Taken::Unknown,
            Some(Entry::Live { takeover, .. }) => {
                takeover.notify_one();
                return Taken::Live;
            }
            Some(Entry::Held { .. }) => {}
        }
        match entries.remove(token) {
            Some(Entry::Held {
                member,
                mailbox,
                kept,
                held,
                ..
            }) => Taken::Held(HeldSession {
                member,
                mailbox,
                kept,
                held,
            }),
            _ => Taken::Unknown,
        }
    }

    /// Takes back session `token` for a resuming connection. A session still live (its old
    /// connection has not noticed its network dropped) is told to let go and waited for.
    /// Refused with `session_expired` when there is no such session, or when more arrived
    /// while it was away than the relay keeps: the room moved on without it, so its
    /// participant leaves and starts over with a new join.
    pub async fn reclaim<R: RoomRegistry>(
        &self,
        token: &SessionToken,
        registry: &R,
    ) -> Result<HeldSession, RelayError> {
        let mut taken = self.take(token);
        let deadline = Instant::now() + TAKEOVER_WAIT;
        while matches!(taken, Taken::Live) && Instant::now() < deadline {
            tokio::time::sleep(TAKEOVER_POLL).await;
            taken = self.take(token);
        }
        let Taken::Held(session) = taken else {
            return Err(RelayError::SessionExpired);
        };
        if session.held.overflowed() {
            let member = &session.member;
            warn!(room = %member.room(), peer = %member.peer_id(), "held messages overflowed; the session is lost");
            registry.leave(member, LeaveReason::Disconnected).await;
            return Err(RelayError::SessionExpired);
        }
        Ok(session)
    }

    /// Sessions known, live or held (for tests and logs).
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether no session is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::MailboxSignal;
    use meshmeet_protocol::{PeerId, RoomName};
    use std::sync::atomic::AtomicBool;
    use tokio::sync::mpsc;

    fn live(sessions: &Sessions) -> (SessionToken, Arc<Notify>) {
        let token = Sessions::new_token().expect("randomness");
        let (tx, _rx) = mpsc::channel(4);
        let mailbox = Mailbox::new(
            tx,
            Arc::new(MailboxSignal::default()),
            Arc::new(AtomicBool::new(false)),
        );
        let member = Membership::new(RoomName("r".into()), PeerId::from("p"), false);
        let takeover = Arc::new(Notify::new());
        sessions.register(
            token.clone(),
            member,
            mailbox,
            Arc::default(),
            Arc::clone(&takeover),
        );
        (token, takeover)
    }

    #[test]
    fn a_held_session_is_taken_once() {
        let sessions = Sessions::default();
        let (token, _) = live(&sessions);
        assert!(sessions.hold(&token, 4).is_some());
        assert!(matches!(sessions.take(&token), Taken::Held(_)));
        assert!(matches!(sessions.take(&token), Taken::Unknown));
        assert!(sessions.is_empty());
    }

    #[test]
    fn taking_a_live_session_wakes_its_connection_and_keeps_it() {
        let sessions = Sessions::default();
        let (token, takeover) = live(&sessions);
        assert!(matches!(sessions.take(&token), Taken::Live));
        // The permit is stored: the connection's next wait returns at once.
        let woken = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
            .block_on(async {
                tokio::time::timeout(std::time::Duration::from_secs(1), takeover.notified())
                    .await
                    .is_ok()
            });
        assert!(woken);
        assert_eq!(sessions.len(), 1);
    }

    #[test]
    fn an_old_grace_timer_does_not_expire_a_session_held_again_later() {
        let sessions = Sessions::default();
        let (token, takeover) = live(&sessions);
        let first = sessions.hold(&token, 4).expect("live");
        let Taken::Held(HeldSession {
            member,
            mailbox,
            kept,
            ..
        }) = sessions.take(&token)
        else {
            panic!("held");
        };
        sessions.register(token.clone(), member, mailbox, kept, takeover);
        let second = sessions.hold(&token, 4).expect("live again");
        assert_eq!(sessions.expire(&token, first), None);
        assert!(sessions.expire(&token, second).is_some());
        assert!(sessions.is_empty());
    }

    #[test]
    fn unknown_tokens_are_unknown() {
        let sessions = Sessions::default();
        assert!(matches!(
            sessions.take(&SessionToken("nope".into())),
            Taken::Unknown
        ));
        assert_eq!(sessions.hold(&SessionToken("nope".into()), 4), None);
    }
}
