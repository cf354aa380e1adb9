//! The call: the grid of tiles, the controls, and what to do when it ends or fails. The page
//! holds the hooks; the parts of its view are in `header.rs`, `notice.rs`, `stage.rs` (the
//! tiles), `side.rs` and `ended.rs`.

mod ended;
mod header;
mod notice;
mod side;
mod stage;

use super::JoinDetails;
use crate::components::{Controls, ErrorBanner, HelpDialog, InviteLink, Toasts, REACTION_MS};
use crate::hooks::{
    use_meeting, use_muted_speech, use_page_title, use_screen_share, use_shortcuts, use_viewport,
    Command, JoinRequest, LocalMediaHandle,
};
use crate::i18n::use_strings;
use crate::rtc::{budget_from_query, LocalTracks, DEFAULT_VIDEO_BUDGET_BPS};
use crate::state::{camera_layers, Action, ChatAction, Panel, Phase, RelayStatus, Shortcut};
use meshmeet_protocol::{MediaState, PeerId, RoomName};
use yew::prelude::*;

/// Props of [`Call`].
#[derive(Properties, PartialEq)]
pub struct CallProps {
    /// The room.
    pub room: AttrValue,
    /// Name, password, token and choices from the lobby.
    pub details: JoinDetails,
    /// This browser's own key, if it has one.
    pub client_key: Option<String>,
    /// The invite URL.
    pub invite_url: AttrValue,
    /// Local media, captured in the lobby.
    pub media: LocalMediaHandle,
    /// Back to the lobby (after leaving or a failure).
    pub on_back_to_lobby: Callback<()>,
}

/// The call.
#[function_component(Call)]
pub fn call(props: &CallProps) -> Html {
    let s = use_strings();
    let local = &props.media.media;
    let details = &props.details;
    let name = AttrValue::from(details.name.clone());
    let join = JoinRequest {
        room: RoomName(props.room.to_string()),
        name: details.name.clone(),
        password: Some(details.password.clone()).filter(|p| !p.is_empty()),
        token: details.token.clone(),
        client_key: props.client_key.clone(),
        relay_only: details.relay_only,
        audio_only: details.audio_only,
        video_budget_bps: web_sys::window()
            .and_then(|w| w.location().search().ok())
            .and_then(|q| budget_from_query(&q))
            .unwrap_or(DEFAULT_VIDEO_BUDGET_BPS),
        e2ee_passphrase: details.e2ee_passphrase.clone(),
    };
    let share = use_screen_share();
    let tracks = LocalTracks {
        audio: local.audio.clone(),
        video: local.video.clone(),
        screen: share.track.clone(),
    };
    let media_state = MediaState {
        mic: local.mic_on && local.audio.is_some(),
        camera: local.camera_on && local.video.is_some(),
        screen: share.track.is_some(),
    };
    let meeting = use_meeting(join, tracks, media_state);
    let viewport = use_viewport();
    use_page_title(
        Some(props.room.to_string()),
        !media_state.mic,
        s.title_muted,
    );
    let muted_speaking = use_muted_speech(local.audio.clone(), !media_state.mic);
    {
        let (media, command, d) = (
            props.media.clone(),
            meeting.command.clone(),
            meeting.state.dispatcher(),
        );
        let (share_toggle, can_share) = (share.toggle.clone(), share.supported);
        use_shortcuts(Callback::from(move |shortcut| match shortcut {
            Shortcut::ToggleMic => media.toggle_mic.emit(()),
            Shortcut::ToggleCamera => media.toggle_camera.emit(()),
            Shortcut::ToggleScreen if can_share => share_toggle.emit(()),
            Shortcut::ToggleScreen => {}
            Shortcut::ToggleChat => d.dispatch(Action::TogglePanel(Panel::Chat)),
            Shortcut::ToggleView => d.dispatch(Action::ToggleView),
            Shortcut::Help => d.dispatch(Action::ToggleHelp),
            Shortcut::Leave => command.emit(Command::Leave),
        }));
    }
    let state = &*meeting.state;

    // The chat counts unread messages while its panel is closed.
    {
        let chat = meeting.chat.dispatcher();
        let open = state.panel == Some(Panel::Chat);
        use_effect_with(open, move |open| chat.dispatch(ChatAction::SetOpen(*open)));
    }

    // Once the call is over, the camera light goes off.
    {
        let release = props.media.release.clone();
        let over = matches!(state.phase, Phase::Left | Phase::Failed(_));
        use_effect_with(over, move |over| {
            if *over {
                release.emit(());
            }
        });
    }

    let layout = stage::stage_layout(state, media_state.screen, viewport);
    // Through the SFU each camera comes at the size its tile needs: a new layout says so.
    {
        let peers: Vec<PeerId> = state.peers.iter().map(|p| p.info.id.clone()).collect();
        let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
        let layers = camera_layers(&layout, &peers, ratio);
        let command = meeting.command.clone();
        use_effect_with(layers, move |layers| {
            command.emit(Command::CameraLayers(layers.clone()));
        });
    }

    {
        // One timer, for the oldest reaction on a tile; when it ends, the next one's starts.
        let oldest = state.reactions.first().map(|r| r.id);
        let dispatch = meeting.state.dispatcher();
        use_effect_with(oldest, move |oldest| {
            let timer = oldest.map(|id| {
                gloo_timers::callback::Timeout::new(REACTION_MS, move || {
                    dispatch.dispatch(Action::ReactionEnded(id))
                })
            });
            move || drop(timer)
        });
    }

    if matches!(state.phase, Phase::Left | Phase::Failed(_)) {
        return ended::ended(s, &state.phase, props.on_back_to_lobby.clone());
    }

    let dispatch = meeting.state.dispatcher();
    let notice = state.notice.as_ref().map(|notice| {
        notice::banner(
            s,
            notice,
            &dispatch,
            &props.media.toggle_mic,
            media_state.mic,
        )
    });
    let leave = {
        let command = meeting.command.clone();
        Callback::from(move |()| command.emit(Command::Leave))
    };
    let react = {
        let command = meeting.command.clone();
        Callback::from(move |reaction| command.emit(Command::React(reaction)))
    };
    let toggle = |panel: Panel| {
        let dispatch = meeting.state.dispatcher();
        Callback::from(move |()| dispatch.dispatch(Action::TogglePanel(panel.clone())))
    };
    let count = state.peers.len() + 1;
    let screen_error = share
        .error
        .as_ref()
        .map(|_| html! { <ErrorBanner message={s.err_screen} /> });
    html! {
        <main class="call" data-testid="app" data-phase={if state.phase == Phase::InCall { "in-call" } else { "connecting" }}>
            { header::header(s, &props.room, state, &dispatch) }
            if state.help_open {
                <HelpDialog on_close={let d = meeting.state.dispatcher(); Callback::from(move |()| d.dispatch(Action::ToggleHelp))} />
            }
            <Toasts toasts={state.toasts.clone()}
                on_dismiss={let d = meeting.state.dispatcher(); Callback::from(move |id| d.dispatch(Action::DismissToast(id)))} />
            { for notice }
            { for screen_error }
            if muted_speaking {
                <div class="muted-hint" role="status" data-testid="muted-hint">{ s.muted_while_speaking }</div>
            }
            if state.relay == RelayStatus::Reconnecting {
                <div class="warning-banner" role="status" data-testid="reconnecting">{ s.reconnecting }</div>
            }
            if meeting.stats.own_connection_poor() {
                <div class="warning-banner" role="status" data-testid="poor-connection">{ s.own_connection_poor }</div>
            }
            <div class="stage">
                { stage::tile_grid(&stage::StageInput {
                    strings: s,
                    state,
                    meeting: &meeting,
                    local,
                    share: &share,
                    sending: media_state,
                    name: &name,
                    layout: &layout,
                }) }
                { for state.panel.as_ref().map(|panel| side::panel(&side::SideInput {
                    strings: s,
                    panel,
                    state,
                    meeting: &meeting,
                    media: &props.media,
                    name: &name,
                    self_mic: media_state.mic,
                    invite_url: &props.invite_url,
                })) }
            </div>
            if state.phase == Phase::Connecting {
                <p class="status" role="status">{ s.connecting_to_room }</p>
            } else if state.peers.is_empty() && state.panel.is_none() {
                <div class="alone" role="status">
                    <p>{ s.waiting_for_others }</p>
                    <InviteLink url={props.invite_url.clone()} />
                </div>
            }
            <Controls mic_on={media_state.mic} camera_on={media_state.camera}
                screen_on={media_state.screen} can_share={share.supported}
                on_toggle_screen={share.toggle.clone()}
                chat_open={state.panel == Some(Panel::Chat)} unread={meeting.chat.unread}
                on_toggle_chat={toggle(Panel::Chat)}
                participants_open={state.panel == Some(Panel::Participants)}
                settings_open={state.panel == Some(Panel::Settings)} {count}
                on_toggle_mic={props.media.toggle_mic.clone()}
                on_toggle_camera={props.media.toggle_camera.clone()}
                on_toggle_participants={toggle(Panel::Participants)}
                on_toggle_settings={toggle(Panel::Settings)}
                on_react={react} on_leave={leave} />
        </main>
    }
}
