//! Resume or rejoin: what the meeting does with its relay connection when a socket opens or
//! closes, when the relay stops or forgets our place, and when we leave. Pure: the meeting
//! carries out the answers (sends, schedules, shows); the tests here prove the decisions.

use super::reconnect_delay_ms;
use meshmeet_protocol::{PeerId, SessionToken};

/// What to say first on a socket that just opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Greeting {
    /// Take our place (and peer id) back.
    Resume(SessionToken),
    /// Join the room as someone new.
    Join,
}

/// What a closed socket means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterClose {
    /// Nothing: we left, or a reconnect is already scheduled.
    Nothing,
    /// We are in the call: try again after this delay; peer connections carry on meanwhile.
    Reconnect {
        /// Milliseconds to wait.
        delay_ms: u32,
    },
    /// We never got in: the join failed. `opened`: the socket had opened (the relay dropped
    /// us), rather than never being reached.
    JoinFailed {
        /// Whether the socket had opened.
        opened: bool,
    },
}

/// The relay session as the page sees it: who the relay says we are, the token to resume
/// with, and the reconnect attempts since the connection was last good.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RelaySessionState {
    self_id: Option<PeerId>,
    token: Option<SessionToken>,
    attempts: u32,
    reconnect_pending: bool,
    left: bool,
}

impl RelaySessionState {
    /// Our peer id, once the relay welcomed us.
    pub fn self_id(&self) -> Option<&PeerId> {
        self.self_id.as_ref()
    }

    /// Whether we are in the room (welcomed, not left or removed).
    pub fn in_room(&self) -> bool {
        self.self_id.is_some()
    }

    /// Whether we left (or were removed): nothing reconnects any more.
    pub fn has_left(&self) -> bool {
        self.left
    }

    /// What to send on a socket that just opened.
    pub fn greeting(&self) -> Greeting {
        match &self.token {
            Some(token) => Greeting::Resume(token.clone()),
            None => Greeting::Join,
        }
    }

    /// The relay welcomed us as `self_id`, resumable with `token`. Returns true when we had
    /// been in the room before: every old peer id is void, so every link starts over.
    pub fn welcomed(&mut self, self_id: PeerId, token: SessionToken) -> bool {
        let rejoined = self.self_id.is_some();
        self.self_id = Some(self_id);
        self.token = Some(token);
        self.attempts = 0;
        rejoined
    }

    /// The relay took us back under our token.
    pub fn resumed(&mut self) {
        self.attempts = 0;
    }

    /// The relay no longer holds our place: join again (on the same socket).
    pub fn session_expired(&mut self) -> Greeting {
        self.token = None;
        Greeting::Join
    }

    /// The socket closed. `opened`: it had opened. `unit` is a random number in [0, 1) for
    /// the jitter of the delay.
    pub fn closed(&mut self, opened: bool, unit: f64) -> AfterClose {
        if self.left {
            AfterClose::Nothing
        } else if self.in_room() {
            self.lost(None, unit)
        } else {
            AfterClose::JoinFailed { opened }
        }
    }

    /// The connection is lost while in the call (it closed, went silent, or the relay is
    /// stopping and named its own delay): schedule one reconnect. `unit` as in [`closed`].
    ///
    /// [`closed`]: RelaySessionState::closed
    pub fn lost(&mut self, relay_delay_ms: Option<u32>, unit: f64) -> AfterClose {
        if self.left || self.reconnect_pending || !self.in_room() {
            return AfterClose::Nothing;
        }
        let delay_ms = relay_delay_ms.unwrap_or_else(|| reconnect_delay_ms(self.attempts, unit));
        self.attempts = self.attempts.saturating_add(1);
        self.reconnect_pending = true;
        AfterClose::Reconnect { delay_ms }
    }

    /// The scheduled reconnect is due. Returns whether to open a new socket.
    pub fn reconnect_due(&mut self) -> bool {
        self.reconnect_pending = false;
        !self.left
    }

    /// We leave. Returns whether to tell the relay (we were in the room).
    pub fn leave(&mut self) -> bool {
        if self.left {
            return false;
        }
        self.left = true;
        self.in_room()
    }

    /// The host removed us or ended the meeting: we are out, with nothing to resume and no
    /// `leave` to send (the meeting then leaves as usual).
    pub fn ended_by_host(&mut self) {
        self.self_id = None;
        self.token = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn welcomed() -> RelaySessionState {
        let mut session = RelaySessionState::default();
        session.welcomed(PeerId::from("me"), SessionToken("t1".into()));
        session
    }

    #[test]
    fn a_first_socket_joins_and_a_later_one_resumes() {
        assert_eq!(RelaySessionState::default().greeting(), Greeting::Join);
        assert_eq!(
            welcomed().greeting(),
            Greeting::Resume(SessionToken("t1".into()))
        );
    }

    #[test]
    fn an_expired_session_joins_anew_and_the_new_welcome_restarts_every_link() {
        let mut session = welcomed();
        assert_eq!(session.session_expired(), Greeting::Join);
        assert_eq!(session.greeting(), Greeting::Join);
        let rejoined = session.welcomed(PeerId::from("me2"), SessionToken("t2".into()));
        assert!(rejoined, "old peer ids are void");
        assert_eq!(session.self_id(), Some(&PeerId::from("me2")));
    }

    #[test]
    fn a_socket_lost_before_the_welcome_fails_the_join() {
        let mut session = RelaySessionState::default();
        assert_eq!(
            session.closed(false, 0.5),
            AfterClose::JoinFailed { opened: false }
        );
        assert_eq!(
            session.closed(true, 0.5),
            AfterClose::JoinFailed { opened: true }
        );
    }

    #[test]
    fn a_socket_lost_in_the_call_reconnects_with_a_growing_delay() {
        let mut session = welcomed();
        let first = session.closed(true, 0.0);
        assert_eq!(first, AfterClose::Reconnect { delay_ms: 250 });
        assert!(session.reconnect_due());
        assert_eq!(
            session.closed(false, 0.0),
            AfterClose::Reconnect { delay_ms: 500 }
        );
    }

    #[test]
    fn only_one_reconnect_is_scheduled_at_a_time() {
        let mut session = welcomed();
        assert!(matches!(
            session.lost(None, 0.0),
            AfterClose::Reconnect { .. }
        ));
        assert_eq!(session.closed(true, 0.0), AfterClose::Nothing);
    }

    #[test]
    fn a_stopping_relay_names_the_delay() {
        let mut session = welcomed();
        assert_eq!(
            session.lost(Some(3_000), 0.9),
            AfterClose::Reconnect { delay_ms: 3_000 }
        );
    }

    #[test]
    fn coming_back_resets_the_backoff() {
        let mut session = welcomed();
        session.lost(None, 0.0);
        session.reconnect_due();
        session.lost(None, 0.0);
        session.reconnect_due();
        session.resumed();
        assert_eq!(
            session.lost(None, 0.0),
            AfterClose::Reconnect { delay_ms: 250 }
        );
    }

    #[test]
    fn after_leaving_nothing_reconnects_and_leave_is_said_once() {
        let mut session = welcomed();
        assert!(session.leave(), "in the room: tell the relay");
        assert!(!session.leave(), "once");
        assert_eq!(session.closed(true, 0.0), AfterClose::Nothing);
        assert!(!session.reconnect_due());
    }

    #[test]
    fn removed_by_the_host_there_is_nothing_to_resume_or_leave() {
        let mut session = welcomed();
        session.ended_by_host();
        assert!(!session.in_room());
        assert_eq!(session.greeting(), Greeting::Join);
        assert!(!session.leave(), "not in the room: no leave");
        assert_eq!(session.closed(true, 0.0), AfterClose::Nothing);
    }

    #[test]
    fn a_page_that_never_joined_says_no_leave() {
        assert!(!RelaySessionState::default().leave());
    }
}
