//! The lobby: name, room password, camera preview, device pickers, the relay-only and
//! end-to-end encryption choices and the join button.

use super::{new_passphrase, JoinDetails};
use crate::components::{
    DeviceSettings, ErrorBanner, Icon, InviteLink, LangSwitch, LevelMeter, VideoView,
};
use crate::hooks::{use_page_title, LocalMediaHandle};
use crate::i18n::{use_strings, Strings};
use crate::media::MediaError;
use meshmeet_protocol::{validate_display_name, DEFAULT_MAX_DISPLAY_NAME_CHARS};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// User Timing mark set when the lobby can be used: the camera and microphone have started
/// (or failed, with the reason shown), so a named person can join. `cargo xtask bench` reads
/// the first one as the page's time to an interactive lobby.
pub const LOBBY_READY_MARK: &str = "meshmeet-lobby-ready";

/// Props of [`Lobby`].
#[derive(Properties, PartialEq)]
pub struct LobbyProps {
    /// The room being joined.
    pub room: AttrValue,
    /// The invite URL.
    pub invite_url: AttrValue,
    /// Local media.
    pub media: LocalMediaHandle,
    /// Name, password and choices so far.
    pub details: JoinDetails,
    /// Something in `details` changed.
    pub on_details: Callback<JoinDetails>,
    /// Join with the (valid) name.
    pub on_join: Callback<()>,
}

/// What a media error means for the person, and what they can do.
pub fn media_error_text(s: &Strings, err: &MediaError) -> &'static str {
    match err {
        MediaError::PermissionDenied => s.err_permission_denied,
        MediaError::NoDevice => s.err_no_device,
        MediaError::DeviceInUse => s.err_device_in_use,
        MediaError::InsecureContext => s.err_insecure_context,
        MediaError::Unsupported => s.err_unsupported,
        MediaError::Other(_) => s.err_media_other,
    }
}

/// The lobby.
#[function_component(Lobby)]
pub fn lobby(props: &LobbyProps) -> Html {
    let s = use_strings();
    let media = &props.media.media;
    use_page_title(Some(props.room.to_string()), !media.mic_on, s.title_muted);
    let details = &props.details;
    let name_ok = validate_display_name(&details.name, DEFAULT_MAX_DISPLAY_NAME_CHARS).is_ok();
    // Each field edits its part of a copy of the details.
    let edit = |change: fn(&mut JoinDetails, &HtmlInputElement)| {
        let (details, on_details) = (details.clone(), props.on_details.clone());
        Callback::from(move |e: Event| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                let mut next = details.clone();
                change(&mut next, &input);
                on_details.emit(next);
            }
        })
    };
    let on_name = edit(|d, input| d.name = input.value());
    let on_password = edit(|d, input| d.password = input.value());
    let on_relay_only = edit(|d, input| d.relay_only = input.checked());
    let on_audio_only = edit(|d, input| d.audio_only = input.checked());
    // Encrypting makes a passphrase for the link; a passphrase the link brought is kept.
    let on_e2ee = edit(|d, input| {
        d.e2ee_passphrase = match (input.checked(), d.e2ee_passphrase.take()) {
            (false, _) => None,
            (true, Some(kept)) => Some(kept),
            (true, None) => new_passphrase(),
        }
    });
    let can_encrypt = crate::rtc::FrameCrypto::supported();
    let from_token = details.token.is_some();
    let on_submit = {
        let on_join = props.on_join.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if name_ok {
                on_join.emit(());
            }
        })
    };
    let click = |cb: &Callback<()>| {
        let cb = cb.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let ready = !media.starting && (media.preview.is_some() || media.error.is_some());
    use_effect_with(ready, |ready| {
        if *ready {
            crate::js::mark(LOBBY_READY_MARK);
        }
    });
    let mic_label = if media.mic_on { s.mute } else { s.unmute };
    let camera_label = if media.camera_on {
        s.turn_camera_off
    } else {
        s.turn_camera_on
    };
    html! {
        <main class="lobby" data-testid="app">
            <header class="top">
                <span class="room-name">{ &props.room }</span>
                <LangSwitch />
            </header>
            <h1>{ s.lobby_title }</h1>
            <div class="lobby-grid">
                <section class="preview">
                    <figure class={classes!("tile", "local", (!media.camera_on).then_some("camera-off"))}>
                        <VideoView stream={media.preview.clone()} muted=true mirrored=true
                            label={s.camera_preview} testid="preview-video" />
                        <div class="preview-buttons">
                            <button data-testid="mic-toggle" class={classes!("round", (!media.mic_on).then_some("off"))}
                                aria-label={mic_label} title={mic_label} aria-pressed={(!media.mic_on).to_string()}
                                onclick={click(&props.media.toggle_mic)}>
                                { if media.mic_on { Icon::Mic.html() } else { Icon::MicOff.html() } }
                            </button>
                            <button data-testid="camera-toggle" class={classes!("round", (!media.camera_on).then_some("off"))}
                                aria-label={camera_label} title={camera_label} aria-pressed={(!media.camera_on).to_string()}
                                onclick={click(&props.media.toggle_camera)}>
                                { if media.camera_on { Icon::Camera.html() } else { Icon::CameraOff.html() } }
                            </button>
                        </div>
                    </figure>
                    <LevelMeter stream={media.preview.clone()} />
                </section>
                <section class="settings">
                    if let Some(err) = &media.error {
                        <ErrorBanner message={format!("{} {}", media_error_text(s, err), s.join_anyway_hint)}>
                            <button data-testid="retry-devices" onclick={click(&props.media.retry)}>{ s.retry_devices }</button>
                        </ErrorBanner>
                    }
                    <form class="join-form" onsubmit={on_submit}>
                        <div class="field">
                            <label for="display-name">{ s.your_name }</label>
                            <input id="display-name" data-testid="name-input" value={details.name.clone()}
                                oninput={let on = on_name.clone(); Callback::from(move |e: InputEvent| on.emit(e.into()))}
                                placeholder={s.name_placeholder} autocomplete="name"
                                maxlength={DEFAULT_MAX_DISPLAY_NAME_CHARS.to_string()} required=true readonly={from_token}
                                aria-describedby={from_token.then_some("name-from-link")} />
                            if from_token {
                                <p id="name-from-link" class="field-hint">{ s.name_from_link }</p>
                            }
                        </div>
                        if !from_token {
                            <div class="field">
                                <label for="room-password">{ s.password_label }</label>
                                <input id="room-password" data-testid="password-input" type="password"
                                    value={details.password.clone()} autocomplete="off"
                                    aria-describedby="password-hint"
                                    oninput={let on = on_password.clone(); Callback::from(move |e: InputEvent| on.emit(e.into()))} />
                                <p id="password-hint" class="field-hint">{ s.password_hint }</p>
                            </div>
                        }
                        <DeviceSettings media={props.media.clone()} />
                        <label class="check">
                            <input type="checkbox" data-testid="relay-only-toggle" checked={details.relay_only}
                                onchange={on_relay_only} />
                            { s.relay_only }
                        </label>
                        <label class="check">
                            <input type="checkbox" data-testid="audio-only-join-toggle" checked={details.audio_only}
                                onchange={on_audio_only} />
                            { s.audio_only }
                        </label>
                        <label class="check">
                            <input type="checkbox" data-testid="e2ee-toggle"
                                checked={details.e2ee_passphrase.is_some()} disabled={!can_encrypt}
                                aria-describedby="e2ee-hint" onchange={on_e2ee} />
                            { s.e2ee_toggle }
                        </label>
                        <p id="e2ee-hint" class="field-hint">
                            { if can_encrypt { s.e2ee_hint } else { s.e2ee_unsupported_hint } }
                        </p>
                        <button type="submit" class="primary big" data-testid="join-button"
                            disabled={!name_ok || media.starting}>
                            { if media.starting { s.joining } else { s.join } }
                        </button>
                    </form>
                    <InviteLink url={props.invite_url.clone()} />
                </section>
            </div>
        </main>
    }
}
