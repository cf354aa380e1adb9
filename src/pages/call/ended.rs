//! The page after the call: left, or why it cannot go on, with the way back.

use crate::components::ErrorBanner;
use crate::i18n::Strings;
use crate::state::{Phase, RoomFailure};
use yew::prelude::*;

fn failure_text(s: &Strings, failure: &RoomFailure) -> String {
    match failure {
        RoomFailure::RoomFull => s.err_room_full.into(),
        RoomFailure::WrongPassword => s.err_wrong_password.into(),
        RoomFailure::VersionMismatch => s.err_version.into(),
        RoomFailure::InvalidName => s.err_invalid_name.into(),
        RoomFailure::InvalidRoom => s.err_invalid_room.into(),
        RoomFailure::Unreachable => s.err_relay_unreachable.into(),
        RoomFailure::Lost => s.err_relay_lost.into(),
        RoomFailure::RoomLocked => s.err_room_locked.into(),
        RoomFailure::RemovedBefore => s.err_removed_rejoin.into(),
        RoomFailure::Removed => s.err_removed.into(),
        RoomFailure::MeetingEnded => s.err_meeting_ended.into(),
        RoomFailure::TooManyAttempts => s.err_too_many_attempts.into(),
        RoomFailure::InvalidToken => s.err_invalid_token.into(),
        RoomFailure::TokenExpired => s.err_token_expired.into(),
        RoomFailure::E2eeUnsupported => s.err_e2ee_unsupported.into(),
        RoomFailure::E2eeNoPassphrase => s.err_e2ee_no_passphrase.into(),
        RoomFailure::E2eeRoomNotEncrypted => s.err_e2ee_room_not_encrypted.into(),
        RoomFailure::Refused(why) => format!("{} ({why})", s.err_relay_other),
    }
}

/// The page shown once the call is over (`phase` is `Left` or `Failed`): rejoin goes back to
/// the lobby, the other button to the start page.
pub(super) fn ended(s: &Strings, phase: &Phase, on_back_to_lobby: Callback<()>) -> Html {
    let message = match phase {
        Phase::Failed(failure) => failure_text(s, failure),
        _ => s.left_title.into(),
    };
    let back = Callback::from(move |_: MouseEvent| on_back_to_lobby.emit(()));
    let home = Callback::from(|_: MouseEvent| {
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_href("/");
        }
    });
    let actions = html! {
        <>
            <button class="primary" data-testid="rejoin-button" onclick={back}>{ s.rejoin }</button>
            <button onclick={home}>{ s.back_home }</button>
        </>
    };
    html! {
        <main class="ended" data-testid="app">
            if matches!(phase, Phase::Left) {
                <h1 data-testid="left-message">{ message }</h1>
                <div class="actions">{ actions }</div>
            } else {
                <ErrorBanner message={message}>{ actions }</ErrorBanner>
            }
        </main>
    }
}
