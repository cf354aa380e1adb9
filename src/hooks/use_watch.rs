//! The watch page's bridge to the relay and the browser: asks the relay about the live every
//! two seconds, connects over WHEP once the stage is on air, reconnects when the connection
//! breaks, and lets go when the live ends or the page goes.

use crate::rtc::WhepViewer;
use crate::signaling::{live_status, whep_path, LiveStatusError};
use crate::state::{WatchAction, WatchState};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use web_sys::MediaStream;
use yew::prelude::*;

/// Time between two questions to the relay.
const STATUS_EVERY_MS: u32 = 2_000;

/// What the watch page shows.
#[derive(Clone, PartialEq)]
pub struct WatchHandle {
    /// Its state.
    pub state: WatchState,
    /// The stage's sound and picture, once connected.
    pub stream: Option<MediaStream>,
}

impl Reducible for WatchState {
    type Action = WatchAction;

    fn reduce(self: Rc<Self>, action: WatchAction) -> Rc<Self> {
        Rc::new((*self).clone().apply(action))
    }
}

/// Watches `room`'s live with the link's `token` (none: the link is incomplete).
#[hook]
pub fn use_watch(room: String, token: Option<String>) -> WatchHandle {
    let initial = token.is_none();
    let state = use_reducer(move || {
        if initial {
            WatchState::without_token()
        } else {
            WatchState::default()
        }
    });
    let stream = use_state(|| None::<MediaStream>);
    {
        let (dispatcher, stream) = (state.dispatcher(), stream.setter());
        use_effect_with((room, token), move |(room, token)| {
            let alive = Rc::new(Cell::new(true));
            if let Some(token) = token.clone() {
                spawn_local(follow(
                    room.clone(),
                    token,
                    Rc::clone(&alive),
                    dispatcher,
                    stream,
                ));
            }
            move || alive.set(false)
        });
    }
    WatchHandle {
        state: (*state).clone(),
        stream: (*stream).clone(),
    }
}

/// The page's loop: status, then whatever the state asks for, until the page goes.
async fn follow(
    room: String,
    token: String,
    alive: Rc<Cell<bool>>,
    dispatcher: UseReducerDispatcher<WatchState>,
    stream: UseStateSetter<Option<MediaStream>>,
) {
    // The same reducer as the page's, to decide here what to do next.
    let mut local = WatchState::default();
    let act = |local: &mut WatchState, action: WatchAction| {
        *local = std::mem::take(local).apply(action.clone());
        dispatcher.dispatch(action);
    };
    let mut viewer: Option<WhepViewer> = None;
    while alive.get() {
        match live_status(&room, &token).await {
            Ok(status) => act(&mut local, WatchAction::Status(status)),
            Err(LiveStatusError::BadToken) => act(&mut local, WatchAction::BadToken),
            // The relay is away for a moment: what plays goes on; ask again later.
            Err(LiveStatusError::Network(_)) => {}
        }
        if local.must_disconnect() {
            if let Some(playing) = viewer.take() {
                playing.close();
                stream.set(None);
            }
        }
        if viewer.as_ref().is_some_and(WhepViewer::is_broken) {
            if let Some(broken) = viewer.take() {
                broken.close();
            }
            stream.set(None);
            act(&mut local, WatchAction::ConnectionLost);
        }
        if viewer.is_none() && local.wants_connection() {
            act(&mut local, WatchAction::Connecting);
            match WhepViewer::connect(&whep_path(&room), &token).await {
                // The page went while the offer was out.
                Ok(connected) if !alive.get() => connected.close(),
                Ok(connected) => {
                    stream.set(Some(connected.stream()));
                    viewer = Some(connected);
                    act(&mut local, WatchAction::Connected);
                }
                Err(err) => {
                    web_sys::console::warn_1(&format!("watching failed: {err}").into());
                    act(&mut local, WatchAction::ConnectionLost);
                }
            }
        }
        gloo_timers::future::TimeoutFuture::new(STATUS_EVERY_MS).await;
    }
    if let Some(playing) = viewer {
        playing.close();
    }
}
