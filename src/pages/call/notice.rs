//! The banner of a non-fatal problem, or of the host's request to mute.

use crate::components::ErrorBanner;
use crate::i18n::Strings;
use crate::state::{Action, Notice, RoomState};
use yew::prelude::*;

/// The banner for `notice`; dismissing it dispatches [`Action::DismissNotice`]. A request to
/// mute offers one click that mutes (`toggle_mic`, only if `mic_on`).
pub(super) fn banner(
    s: &Strings,
    notice: &Notice,
    dispatch: &UseReducerDispatcher<RoomState>,
    toggle_mic: &Callback<()>,
    mic_on: bool,
) -> Html {
    let dismiss = {
        let dispatch = dispatch.clone();
        Callback::from(move |()| dispatch.dispatch(Action::DismissNotice))
    };
    let text = match notice {
        Notice::Refused(why) => format!("{} ({why})", s.err_relay_other),
        Notice::LiveUnavailable(why) => format!("{}: {why}", s.live_unavailable),
        Notice::CameraFailed(why) => format!("{}: {why}", s.camera_failed),
        Notice::FrameKeys(why) => format!("{}: {why}", s.err_frame_keys),
        Notice::FrameKeyMismatch => s.err_frame_key_mismatch.to_string(),
        Notice::TurnFailed { auth_refused: true } => s.err_turn_refused.to_string(),
        Notice::TurnFailed {
            auth_refused: false,
        } => s.err_turn_unreachable.to_string(),
        Notice::MuteRequested => {
            // A request, not an order: the person mutes with one click, or does not.
            let mute = {
                let (toggle, dispatch) = (toggle_mic.clone(), dispatch.clone());
                Callback::from(move |_: MouseEvent| {
                    if mic_on {
                        toggle.emit(());
                    }
                    dispatch.dispatch(Action::DismissNotice);
                })
            };
            return html! {
                <div class="warning-banner" role="status" data-testid="mute-requested">
                    <p>{ s.mute_requested }</p>
                    <div class="actions">
                        <button class="primary" data-testid="mute-now" onclick={mute}>{ s.mute }</button>
                        <button onclick={Callback::from(move |_: MouseEvent| dismiss.emit(()))}>{ s.dismiss }</button>
                    </div>
                </div>
            };
        }
    };
    html! { <ErrorBanner message={text} on_dismiss={dismiss} /> }
}
