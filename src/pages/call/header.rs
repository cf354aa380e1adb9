//! The call's top bar: the room's name, the grid/speaker switch, the shortcuts and the
//! language; and under it, how the call's media is protected (and the safety code of an
//! encrypted room's key).

use crate::components::{Icon, LangSwitch};
use crate::i18n::Strings;
use crate::state::{Action, RoomState, ViewMode};
use meshmeet_protocol::MediaMode;
use yew::prelude::*;

/// The top bar of the call in `room`.
pub(super) fn header(
    s: &Strings,
    room: &AttrValue,
    state: &RoomState,
    dispatch: &UseReducerDispatcher<RoomState>,
) -> Html {
    let view_toggle = {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::ToggleView))
    };
    let help_toggle = {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::ToggleHelp))
    };
    let (view_label, view_icon) = match state.view {
        ViewMode::Grid => (s.view_speaker, Icon::Speaker),
        ViewMode::Speaker => (s.view_grid, Icon::Grid),
    };
    // Everyone sees that the meeting is live, and who the audience sees.
    let live = state.live.as_ref().map(|live| {
        let names: Vec<String> = live
            .stage
            .iter()
            .map(|id| match state.peers.iter().find(|p| &p.info.id == id) {
                Some(peer) => peer.info.name.clone(),
                None if state.self_id.as_ref() == Some(id) => s.you.to_owned(),
                None => "?".to_owned(),
            })
            .collect();
        html! {
            <span class="live-badge" data-testid="live-badge" role="status">
                { format!("● {} · {} {}", s.live, s.live_on_stage, names.join(", ")) }
                if live.follow_speaker {
                    <span class="follows" data-testid="live-follows-speaker">
                        { format!(" ({})", s.live_follows_speaker) }
                    </span>
                }
            </span>
        }
    });
    html! {
        <>
        <header class="top">
            <span class="room-name">{ room }</span>
            { for live }
            <div class="top-actions">
                <button class="view-toggle" data-testid="view-toggle" aria-label={view_label}
                    title={view_label} onclick={view_toggle}>
                    { view_icon.html() }
                </button>
                <button class="view-toggle" data-testid="help-toggle" aria-label={s.shortcuts_title}
                    title={s.shortcuts_title} aria-expanded={state.help_open.to_string()} onclick={help_toggle}>
                    { Icon::Keyboard.html() }
                </button>
                <LangSwitch />
            </div>
        </header>
        { security(s, state) }
        </>
    }
}

/// Whether and how the call is encrypted, said plainly, with the safety code to compare.
fn security(s: &Strings, state: &RoomState) -> Html {
    let (kind, text) = match (state.e2ee, state.topology) {
        (true, _) => ("frames", s.e2ee_frames),
        (false, MediaMode::Mesh) => ("dtls", s.e2ee_mesh),
        (false, MediaMode::Sfu) => ("server", s.e2ee_sfu),
    };
    html! {
        <p class="security" data-testid="e2ee-badge" data-e2ee={kind} role="status">
            <span>{ text }</span>
            if state.e2ee {
                <span class="safety-code" title={s.safety_code_hint}>
                    { format!(" · {}: ", s.safety_code) }
                    <code data-testid="safety-code">
                        { state.safety_code.as_deref().unwrap_or(s.safety_code_pending) }
                    </code>
                </span>
            }
        </p>
    }
}
