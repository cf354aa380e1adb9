//! The watch page of a live meeting (`/live/<room>?t=<token>`): no camera or microphone,
//! the stage played over WebRTC, the audience's size, and a clear word before the live
//! starts and after it ends. Viewers are not participants: the page never opens the
//! meeting's socket.

use crate::components::{LangSwitch, VideoView};
use crate::hooks::use_watch;
use crate::i18n::use_strings;
use crate::state::{query_value, WatchPhase};
use yew::prelude::*;

/// Props of [`WatchPage`].
#[derive(Properties, PartialEq)]
pub struct WatchPageProps {
    /// The room that is live.
    pub room: String,
}

/// The watch page.
#[function_component(WatchPage)]
pub fn watch_page(props: &WatchPageProps) -> Html {
    let s = use_strings();
    let token = use_memo((), |_| {
        let query = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        query_value(&query, "t").filter(|t| !t.is_empty())
    });
    let watch = use_watch(props.room.clone(), (*token).clone());
    // Browsers play sound only after a click: the stage starts muted, one click unmutes.
    let muted = use_state(|| true);
    let unmute = {
        let muted = muted.clone();
        Callback::from(move |_: MouseEvent| muted.set(false))
    };
    let blocked = {
        let muted = muted.clone();
        Callback::from(move |()| muted.set(true))
    };
    let phase = watch.state.phase;
    let message = match phase {
        WatchPhase::Checking | WatchPhase::Connecting | WatchPhase::Ready => s.watch_connecting,
        WatchPhase::NotStarted | WatchPhase::Waiting => s.watch_waiting,
        WatchPhase::Playing => "",
        WatchPhase::Retrying => s.watch_failed,
        WatchPhase::Ended => s.watch_ended,
        WatchPhase::BadLink => s.watch_no_token,
    };
    html! {
        <main class="watch" data-testid="watch-page" data-phase={phase.name()}>
            <header class="top">
                <span class="live-badge" aria-hidden="true">{ "● " }{ s.live }</span>
                <h1 class="room-name">{ &props.room }</h1>
                if let Some(viewers) = watch.state.viewers {
                    <span class="viewer-count" data-testid="viewer-count" aria-live="polite">
                        { format!("{viewers} {}", s.watch_viewers) }
                    </span>
                }
                <div class="top-actions"><LangSwitch /></div>
            </header>
            <div class="watch-stage">
                <VideoView stream={watch.stream.clone()} muted={*muted} label={s.watch_title}
                    testid={AttrValue::from("live-video")} on_sound_blocked={blocked} />
                if *muted && phase == WatchPhase::Playing {
                    <button class="primary watch-unmute" data-testid="watch-unmute" onclick={unmute}>
                        { s.watch_unmute }
                    </button>
                }
            </div>
            if !message.is_empty() {
                <p class="watch-status" role="status" data-testid="watch-status">{ message }</p>
            }
        </main>
    }
}
