//! The watch page's state: what it tells a viewer and whether it should connect, from the
//! relay's live status and its own WHEP connection. Pure: the watch hook applies the same
//! actions it dispatches, to decide what to do next.

use meshmeet_protocol::LiveStatus;

/// What the watch page is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WatchPhase {
    /// Asking the relay for the first time.
    #[default]
    Checking,
    /// Not live (yet): the page keeps asking and starts by itself.
    NotStarted,
    /// Live, but the stage's media is not flowing yet.
    Waiting,
    /// Live and on air: a connection is due.
    Ready,
    /// Offering to the relay.
    Connecting,
    /// Connected: the stage plays.
    Playing,
    /// The connection failed or broke; another is due while the stage is on air.
    Retrying,
    /// It was live, and is not any more.
    Ended,
    /// The link's token is not the live's (or the link has none).
    BadLink,
}

impl WatchPhase {
    /// A name for automation (`data-phase`).
    pub fn name(self) -> &'static str {
        match self {
            WatchPhase::Checking => "checking",
            WatchPhase::NotStarted => "not-started",
            WatchPhase::Waiting => "waiting",
            WatchPhase::Ready => "ready",
            WatchPhase::Connecting => "connecting",
            WatchPhase::Playing => "playing",
            WatchPhase::Retrying => "retrying",
            WatchPhase::Ended => "ended",
            WatchPhase::BadLink => "bad-link",
        }
    }
}

/// The watch page's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WatchState {
    /// What the page is doing.
    pub phase: WatchPhase,
    /// How many watch over WebRTC, as the relay last said.
    pub viewers: Option<u64>,
    /// Whether the stage was on air in the last status.
    on_air: bool,
    /// Whether the room was live in any status so far (then not live means it ended).
    seen_live: bool,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchAction {
    /// The relay's status.
    Status(LiveStatus),
    /// The relay says the token is not the live's.
    BadToken,
    /// An offer went out.
    Connecting,
    /// The answer came and was applied.
    Connected,
    /// Connecting failed, or the connection broke.
    ConnectionLost,
}

impl WatchState {
    /// A page opened without a token in its link.
    pub fn without_token() -> WatchState {
        WatchState {
            phase: WatchPhase::BadLink,
            ..WatchState::default()
        }
    }

    /// Applies one action.
    pub fn apply(mut self, action: WatchAction) -> WatchState {
        use WatchPhase::*;
        if self.phase == BadLink {
            return self;
        }
        match action {
            WatchAction::Status(status) if !status.live => {
                self.viewers = None;
                self.on_air = false;
                self.phase = if self.seen_live { Ended } else { NotStarted };
            }
            WatchAction::Status(status) => {
                self.seen_live = true;
                self.viewers = status.viewers;
                self.on_air = status.on_air.unwrap_or(false);
                self.phase = match (self.phase, self.on_air) {
                    (Connecting | Playing, _) => self.phase,
                    (Retrying, true) => Retrying,
                    (_, true) => Ready,
                    (_, false) => Waiting,
                };
            }
            WatchAction::BadToken => self.phase = BadLink,
            WatchAction::Connecting => self.phase = Connecting,
            WatchAction::Connected => self.phase = Playing,
            WatchAction::ConnectionLost => self.phase = Retrying,
        }
        self
    }

    /// Whether the page should offer now.
    pub fn wants_connection(&self) -> bool {
        matches!(self.phase, WatchPhase::Ready | WatchPhase::Retrying) && self.on_air
    }

    /// Whether a connection the page holds must go (the live ended, the link is void).
    pub fn must_disconnect(&self) -> bool {
        matches!(
            self.phase,
            WatchPhase::Ended | WatchPhase::NotStarted | WatchPhase::BadLink
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(live: bool, on_air: bool, viewers: u64) -> WatchAction {
        WatchAction::Status(LiveStatus {
            live,
            on_air: live.then_some(on_air),
            viewers: live.then_some(viewers),
        })
    }

    #[test]
    fn a_page_opened_before_the_live_waits_and_connects_once_the_stage_is_on_air() {
        let state = WatchState::default().apply(status(false, false, 0));
        assert_eq!(state.phase, WatchPhase::NotStarted);
        assert!(!state.wants_connection());
        let state = state.apply(status(true, false, 0));
        assert_eq!(state.phase, WatchPhase::Waiting);
        assert!(!state.wants_connection());
        let state = state.apply(status(true, true, 3));
        assert!(state.wants_connection());
        assert_eq!(state.viewers, Some(3));
        let state = state
            .apply(WatchAction::Connecting)
            .apply(status(true, true, 3));
        assert_eq!(
            state.phase,
            WatchPhase::Connecting,
            "a status does not undo it"
        );
        assert!(!state.wants_connection());
        let state = state
            .apply(WatchAction::Connected)
            .apply(status(true, true, 4));
        assert_eq!((state.phase, state.viewers), (WatchPhase::Playing, Some(4)));
    }

    #[test]
    fn a_lost_connection_is_tried_again_only_while_the_stage_is_on_air() {
        let state = WatchState::default()
            .apply(status(true, true, 1))
            .apply(WatchAction::Connecting)
            .apply(WatchAction::ConnectionLost);
        assert!(state.wants_connection());
        let off = state.clone().apply(status(true, false, 0));
        assert!(!off.wants_connection());
        assert_eq!(off.phase, WatchPhase::Waiting);
        assert!(state.apply(status(true, true, 0)).wants_connection());
    }

    #[test]
    fn a_live_that_ends_says_so_and_drops_the_connection() {
        let state = WatchState::default()
            .apply(status(true, true, 1))
            .apply(WatchAction::Connected)
            .apply(status(false, false, 0));
        assert_eq!(state.phase, WatchPhase::Ended);
        assert!(state.must_disconnect());
        assert_eq!(state.viewers, None);
    }

    #[test]
    fn a_bad_link_stays_bad() {
        let state = WatchState::default().apply(WatchAction::BadToken);
        assert_eq!(state.phase, WatchPhase::BadLink);
        let state = state.apply(status(true, true, 1));
        assert_eq!(state.phase, WatchPhase::BadLink);
        assert!(!state.wants_connection());
        assert_eq!(WatchState::without_token().phase, WatchPhase::BadLink);
    }
}
