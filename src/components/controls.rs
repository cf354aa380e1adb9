//! The meeting's control bar.

use super::{Icon, ReactionPicker};
use crate::i18n::use_strings;
use meshmeet_protocol::Reaction;
use yew::prelude::*;

/// Props of [`Controls`].
#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    /// Microphone unmuted.
    pub mic_on: bool,
    /// Camera on.
    pub camera_on: bool,
    /// Sharing a screen.
    pub screen_on: bool,
    /// Show the screen-share button (the browser can share).
    pub can_share: bool,
    /// Chat panel open.
    pub chat_open: bool,
    /// Chat messages not yet seen.
    pub unread: u32,
    /// Participant list open.
    pub participants_open: bool,
    /// Device settings open.
    pub settings_open: bool,
    /// Number of people in the meeting, self included.
    pub count: usize,
    /// Mute/unmute.
    pub on_toggle_mic: Callback<()>,
    /// Camera off/on.
    pub on_toggle_camera: Callback<()>,
    /// Start/stop sharing the screen.
    pub on_toggle_screen: Callback<()>,
    /// Open/close the chat.
    pub on_toggle_chat: Callback<()>,
    /// Open/close the participant list.
    pub on_toggle_participants: Callback<()>,
    /// Open/close the device settings.
    pub on_toggle_settings: Callback<()>,
    /// Send a reaction.
    pub on_react: Callback<Reaction>,
    /// Leave.
    pub on_leave: Callback<()>,
}

/// Buttons for microphone, camera, screen, chat, participants, settings, reactions and
/// leaving.
#[function_component(Controls)]
pub fn controls(props: &ControlsProps) -> Html {
    let s = use_strings();
    let click = |cb: &Callback<()>| {
        let cb = cb.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let mic_label = if props.mic_on { s.mute } else { s.unmute };
    let camera_label = if props.camera_on {
        s.turn_camera_off
    } else {
        s.turn_camera_on
    };
    let screen_label = if props.screen_on {
        s.stop_sharing
    } else {
        s.share_screen
    };
    let chat_label = if props.unread > 0 {
        format!("{} ({} {})", s.chat, props.unread, s.unread)
    } else {
        s.chat.to_string()
    };
    // The visible count is part of the name, so speech input can say what is on screen.
    let participants_label = format!("{} {}", s.participants, props.count);
    html! {
        <nav class="controls" aria-label={s.meeting_controls}>
            <button data-testid="mic-toggle" class={classes!("round", (!props.mic_on).then_some("off"))}
                aria-label={mic_label} title={mic_label} aria-pressed={(!props.mic_on).to_string()}
                onclick={click(&props.on_toggle_mic)}>
                { if props.mic_on { Icon::Mic.html() } else { Icon::MicOff.html() } }
            </button>
            <button data-testid="camera-toggle" class={classes!("round", (!props.camera_on).then_some("off"))}
                aria-label={camera_label} title={camera_label} aria-pressed={(!props.camera_on).to_string()}
                onclick={click(&props.on_toggle_camera)}>
                { if props.camera_on { Icon::Camera.html() } else { Icon::CameraOff.html() } }
            </button>
            if props.can_share {
                <button data-testid="screen-toggle" class={classes!("round", props.screen_on.then_some("active"))}
                    aria-label={screen_label} title={screen_label} aria-pressed={props.screen_on.to_string()}
                    onclick={click(&props.on_toggle_screen)}>
                    { Icon::Screen.html() }
                </button>
            }
            <button data-testid="chat-toggle" class="round badge-holder"
                aria-label={chat_label.clone()} title={chat_label}
                aria-expanded={props.chat_open.to_string()}
                onclick={click(&props.on_toggle_chat)}>
                { Icon::Chat.html() }
                if props.unread > 0 {
                    <span class="badge" data-testid="chat-unread" aria-hidden="true">{ props.unread }</span>
                }
            </button>
            <button data-testid="participants-toggle" class="round"
                aria-label={participants_label.clone()} title={participants_label}
                aria-expanded={props.participants_open.to_string()}
                onclick={click(&props.on_toggle_participants)}>
                { Icon::People.html() }<span class="count">{ props.count }</span>
            </button>
            <button data-testid="settings-toggle" class="round"
                aria-label={s.settings} title={s.settings}
                aria-expanded={props.settings_open.to_string()}
                onclick={click(&props.on_toggle_settings)}>
                { Icon::Settings.html() }
            </button>
            <ReactionPicker on_react={props.on_react.clone()} />
            <button data-testid="leave-button" class="round leave" aria-label={s.leave} title={s.leave}
                onclick={click(&props.on_leave)}>
                { Icon::Leave.html() }
            </button>
        </nav>
    }
}
