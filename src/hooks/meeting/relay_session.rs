//! The meeting's relay session: it owns the relay connection and carries out the
//! resume-or-rejoin policy (`signaling::RelaySessionState`): greets each new socket, schedules
//! reconnects with backoff, pings, and gives up a connection that went silent.

use super::Input;
use crate::signaling::{
    relay_url, AfterClose, Greeting, Liveness, RelayEvent, RelaySessionState, RelaySocket,
};
use crate::state::{Action, RelayStatus, RoomFailure, RoomState};
use futures_channel::mpsc::UnboundedSender;
use meshmeet_protocol::{ClientMsg, PeerId, ServerMsg, SessionToken, PROTOCOL_VERSION};
use std::rc::Rc;
use yew::UseReducerDispatcher;

/// The relay is pinged every this many ticks, so a dead relay is noticed from here too:
/// browsers hide the relay's WebSocket pings from the page.
const PING_EVERY_TICKS: u32 = 4;

/// One participant's session with the relay, across sockets.
pub(super) struct RelaySession {
    socket: Option<RelaySocket>,
    state: RelaySessionState,
    /// When the relay last said anything: a connection silent too long is given up (the
    /// network under it dropped without closing it).
    liveness: Liveness,
    ticks: u32,
    inputs: UnboundedSender<Input>,
    room: UseReducerDispatcher<RoomState>,
}

impl RelaySession {
    pub(super) fn new(
        inputs: UnboundedSender<Input>,
        room: UseReducerDispatcher<RoomState>,
    ) -> Self {
        RelaySession {
            socket: None,
            state: RelaySessionState::default(),
            liveness: Liveness::new(js_sys::Date::now(), super::TICK_MS),
            ticks: 0,
            inputs,
            room,
        }
    }

    /// Our peer id, once the relay welcomed us.
    pub(super) fn self_id(&self) -> Option<&PeerId> {
        self.state.self_id()
    }

    /// Opens a socket to the relay; its events come back as [`Input::Relay`].
    pub(super) fn connect(&mut self) {
        let tx = self.inputs.clone();
        let on_event = Rc::new(move |event| {
            let _ = tx.unbounded_send(Input::Relay(event));
        });
        let connected = relay_url()
            .map_err(|e| e.to_string())
            .and_then(|url| RelaySocket::connect(&url, on_event).map_err(|e| e.to_string()));
        match connected {
            Ok(socket) => {
                // The new socket gets the whole silence limit to open and answer; counting
                // the old one's silence would give it up before it opened.
                self.liveness.heard(js_sys::Date::now());
                self.socket = Some(socket);
            }
            Err(err) => {
                super::warn(&format!("relay: {err}"));
                self.room.dispatch(Action::Failed(RoomFailure::Unreachable));
            }
        }
    }

    /// Sends on the open socket; while there is none, the message is dropped (the peer
    /// connections carry on, and a resume brings back what the room said meanwhile).
    pub(super) fn send(&self, msg: &ClientMsg) {
        if let Some(socket) = &self.socket {
            if let Err(err) = socket.send(msg) {
                super::warn(&format!("relay send: {err}"));
            }
        }
    }

    /// Handles a socket event; returns the relay's message, if it was one. `join` makes the
    /// join message, for a socket that opens without a session to resume.
    pub(super) fn on_event(
        &mut self,
        event: RelayEvent,
        join: impl FnOnce() -> ClientMsg,
    ) -> Option<ServerMsg> {
        match event {
            RelayEvent::Opened => {
                self.liveness.heard(js_sys::Date::now());
                match self.state.greeting() {
                    Greeting::Resume(session) => self.send(&ClientMsg::Resume {
                        version: PROTOCOL_VERSION,
                        session,
                    }),
                    Greeting::Join => self.send(&join()),
                }
                None
            }
            RelayEvent::Message(msg) => {
                self.liveness.heard(js_sys::Date::now());
                Some(msg)
            }
            RelayEvent::Malformed(text) => {
                super::warn(&format!("relay sent an unknown frame: {text}"));
                None
            }
            RelayEvent::Closed { opened, .. } => {
                self.socket = None;
                let after = self.state.closed(opened, js_sys::Math::random());
                self.carry_out(after);
                None
            }
        }
    }

    fn carry_out(&mut self, after: AfterClose) {
        match after {
            AfterClose::Nothing => {}
            AfterClose::Reconnect { delay_ms } => {
                self.room
                    .dispatch(Action::RelayChanged(RelayStatus::Reconnecting));
                let tx = self.inputs.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    gloo_timers::future::TimeoutFuture::new(delay_ms).await;
                    let _ = tx.unbounded_send(Input::Reconnect);
                });
            }
            AfterClose::JoinFailed { opened } => {
                let failure = if opened {
                    RoomFailure::Lost
                } else {
                    RoomFailure::Unreachable
                };
                self.room.dispatch(Action::Failed(failure));
            }
        }
    }

    /// The connection is lost while in the call (or the relay is stopping and named its own
    /// delay): the peer connections carry on, and the relay is tried again later.
    /// Whether it is lost is the policy's decision (`RelaySessionState::lost`): before the
    /// welcome the socket is kept, and its close, when it comes, fails the join.
    pub(super) fn lost(&mut self, relay_delay_ms: Option<u32>) {
        let after = self.state.lost(relay_delay_ms, js_sys::Math::random());
        if after != AfterClose::Nothing {
            self.socket = None;
        }
        self.carry_out(after);
    }

    /// The scheduled reconnect is due.
    pub(super) fn reconnect_due(&mut self) {
        if self.state.reconnect_due() {
            self.connect();
        }
    }

    /// The relay welcomed us. Returns true when we had been in the room before (every old
    /// peer id is void).
    pub(super) fn welcomed(&mut self, self_id: PeerId, token: SessionToken) -> bool {
        let rejoined = self.state.welcomed(self_id, token);
        self.room
            .dispatch(Action::RelayChanged(RelayStatus::Connected));
        rejoined
    }

    /// The relay took us back.
    pub(super) fn resumed(&mut self) {
        self.state.resumed();
        self.room
            .dispatch(Action::RelayChanged(RelayStatus::Connected));
    }

    /// The relay no longer holds our place: join again on this socket.
    pub(super) fn rejoin(&mut self, join: ClientMsg) {
        self.state.session_expired();
        self.send(&join);
    }

    /// The relay refused us for good: the socket is done with.
    pub(super) fn drop_socket(&mut self) {
        self.socket = None;
    }

    /// Whether we are in the room.
    pub(super) fn in_room(&self) -> bool {
        self.state.in_room()
    }

    /// One clock tick: pings now and then, and gives up a relay silent for too long.
    pub(super) fn tick(&mut self) {
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks % PING_EVERY_TICKS == 0 {
            self.send(&ClientMsg::Ping {
                nonce: u64::from(self.ticks),
            });
        }
        let now = js_sys::Date::now();
        if self.liveness.tick(now) && self.socket.is_some() && self.state.in_room() {
            super::warn(&format!(
                "relay silent for {} s: reconnecting",
                crate::decimal::fixed(self.liveness.silent_ms(now) / 1000.0, 0)
            ));
            self.lost(None);
        }
    }

    /// The host removed us or ended the meeting: nothing to resume, no `leave` to send.
    pub(super) fn ended_by_host(&mut self) {
        self.state.ended_by_host();
    }

    /// Leaves: tells the relay if we are in the room, and closes the socket. Returns false
    /// when we had left already.
    pub(super) fn leave(&mut self) -> bool {
        if self.state.has_left() {
            return false;
        }
        if self.state.leave() {
            self.send(&ClientMsg::Leave);
        }
        self.socket = None;
        true
    }
}
