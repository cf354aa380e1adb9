//! The call: the grid of tiles, the controls, and what to do when it ends or fails.

use super::JoinDetails;
use crate::components::{
    ChatPanel, Controls, DeviceSettings, ErrorBanner, HelpDialog, Icon, InviteLink, LangSwitch,
    LocalTile, ParticipantList, PeerTile, ScreenTile, StatsPanel, TileGrid, Toasts,
};
use crate::hooks::{
    use_meeting, use_muted_speech, use_page_title, use_screen_share, use_shortcuts, use_viewport,
    Command, HostCommand, JoinRequest, LocalMediaHandle,
};
use crate::i18n::{use_strings, Strings};
use crate::rtc::{budget_from_query, LocalTracks, DEFAULT_VIDEO_BUDGET_BPS};
use crate::state::{
    layout, Action, ChatAction, LayoutInput, Notice, Panel, Phase, RelayStatus, RoomFailure,
    Shortcut, ViewMode,
};
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

/// Height taken by the header, banners' usual share and the control bar, in CSS pixels: what
/// is left of the window's height is for tiles.
const CHROME_HEIGHT_PX: f64 = 176.0;
/// The page's content width limit and side padding (`main` in app.css).
const MAIN_MAX_WIDTH_PX: f64 = 1200.0;
const MAIN_PADDING_PX: f64 = 32.0;
/// A side panel's width and gap, beside the tiles from 800 px up (below them on phones).
const SIDE_PANEL_PX: f64 = 296.0;
const SIDE_BESIDE_FROM_PX: f64 = 800.0;

/// The width the tiles can use.
fn tile_area_width(window_width: f64, side_open: bool) -> f64 {
    let mut width = window_width.min(MAIN_MAX_WIDTH_PX) - MAIN_PADDING_PX;
    if side_open && window_width >= SIDE_BESIDE_FROM_PX {
        width -= SIDE_PANEL_PX;
    }
    width.max(120.0)
}

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
        RoomFailure::Refused(why) => format!("{} ({why})", s.err_relay_other),
    }
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

    let back = {
        let cb = props.on_back_to_lobby.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let home = Callback::from(|_: MouseEvent| {
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_href("/");
        }
    });

    match &state.phase {
        Phase::Left | Phase::Failed(_) => {
            let message = match &state.phase {
                Phase::Failed(failure) => failure_text(s, failure),
                _ => s.left_title.into(),
            };
            let ended = html! {
                <>
                    <button class="primary" data-testid="rejoin-button" onclick={back}>{ s.rejoin }</button>
                    <button onclick={home}>{ s.back_home }</button>
                </>
            };
            return html! {
                <main class="ended" data-testid="app">
                    if matches!(state.phase, Phase::Left) {
                        <h1 data-testid="left-message">{ message }</h1>
                        <div class="actions">{ ended }</div>
                    } else {
                        <ErrorBanner message={message}>{ ended }</ErrorBanner>
                    }
                </main>
            };
        }
        Phase::Connecting | Phase::InCall => {}
    }

    let dispatch = meeting.state.dispatcher();
    let notice = state.notice.as_ref().map(|notice| {
        let dismiss = {
            let dispatch = dispatch.clone();
            Callback::from(move |()| dispatch.dispatch(Action::DismissNotice))
        };
        let text = match notice {
            Notice::Refused(why) => format!("{} ({why})", s.err_relay_other),
            Notice::TurnFailed { auth_refused: true } => s.err_turn_refused.to_string(),
            Notice::TurnFailed { auth_refused: false } => s.err_turn_unreachable.to_string(),
            Notice::MuteRequested => {
                // A request, not an order: the person mutes with one click, or does not.
                let mute = {
                    let (toggle, mic_on, dispatch) =
                        (props.media.toggle_mic.clone(), media_state.mic, dispatch.clone());
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
    });
    let on_host = {
        let command = meeting.command.clone();
        Callback::from(move |host: HostCommand| command.emit(Command::Host(host)))
    };
    let leave = {
        let command = meeting.command.clone();
        Callback::from(move |()| command.emit(Command::Leave))
    };
    let toggle = |panel: Panel| {
        let dispatch = meeting.state.dispatcher();
        Callback::from(move |()| dispatch.dispatch(Action::TogglePanel(panel.clone())))
    };
    let count = state.peers.len() + 1;
    let mut screens: Vec<Html> = Vec::new();
    if media_state.screen {
        screens.push(html! {
            <ScreenTile key="local-screen" name={name.clone()} stream={share.preview.clone()} />
        });
    }
    for peer in state.peers.iter().filter(|p| p.info.media.screen) {
        let id = peer.info.id.to_string();
        screens.push(html! {
            <ScreenTile key={format!("screen-{id}")} name={peer.info.name.clone()}
                peer_id={id.clone()} stream={meeting.streams.screen.get(&peer.info.id).cloned()} />
        });
    }
    let sharing = !screens.is_empty();
    let side_open = state.panel.is_some();
    let peer_ids: Vec<PeerId> = state.peers.iter().map(|p| p.info.id.clone()).collect();
    let layout = layout(&LayoutInput {
        mode: state.view,
        peers: &peer_ids,
        pinned: state.pinned.as_ref(),
        speaker: state.speaker.as_ref(),
        screen_shared: sharing,
        self_minimised: state.self_minimised,
        width: tile_area_width(viewport.0, side_open),
        height: (viewport.1 - CHROME_HEIGHT_PX).max(120.0),
    });
    let local_tile = html! {
        <LocalTile stream={local.preview.clone()} name={name.clone()}
            mic_on={media_state.mic} camera_on={media_state.camera}
            minimised={state.self_minimised}
            on_toggle_minimised={let d = meeting.state.dispatcher(); Callback::from(move |()| d.dispatch(Action::ToggleSelfView))} />
    };
    let peer_tiles: Vec<(PeerId, Html)> = state.peers.iter().map(|peer| {
        let id = peer.info.id.clone();
        let tile = html! {
            <PeerTile key={id.to_string()} peer={peer.clone()}
                quality={meeting.stats.quality(&id)}
                audio_only={state.audio_only}
                pinned={state.pinned.as_ref() == Some(&id)}
                on_pin={let (d, id) = (meeting.state.dispatcher(), id.clone()); Callback::from(move |()| d.dispatch(Action::TogglePin(id.clone())))}
                on_stats={toggle(Panel::Stats(id.clone()))}
                on_visible={let (c, id) = (meeting.command.clone(), id.clone());
                    Callback::from(move |visible| c.emit(Command::VideoWanted(id.clone(), visible)))}
                stream={meeting.streams.camera.get(&id).cloned()}
                sink_id={local.speaker_id.clone()} />
        };
        (id, tile)
    }).collect();
    let view_toggle = {
        let d = meeting.state.dispatcher();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::ToggleView))
    };
    let help_toggle = {
        let d = meeting.state.dispatcher();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::ToggleHelp))
    };
    let (view_label, view_icon) = match state.view {
        ViewMode::Grid => (s.view_speaker, Icon::Speaker),
        ViewMode::Speaker => (s.view_grid, Icon::Grid),
    };
    let screen_error = share
        .error
        .as_ref()
        .map(|_| html! { <ErrorBanner message={s.err_screen} /> });
    html! {
        <main class="call" data-testid="app" data-phase={if state.phase == Phase::InCall { "in-call" } else { "connecting" }}>
            <header class="top">
                <span class="room-name">{ &props.room }</span>
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
                <TileGrid layout={layout} local={local_tile} self_minimised={state.self_minimised}
                    peers={peer_tiles} screens={screens} label={s.video_grid} />
                if state.panel == Some(Panel::Participants) {
                    <div class="side">
                        <ParticipantList self_name={name.clone()} self_mic={media_state.mic} peers={state.peers.clone()}
                            is_host={state.is_host()} host={state.host.clone()} locked={state.locked}
                            on_host={on_host.clone()} />
                        <InviteLink url={props.invite_url.clone()} />
                    </div>
                }
                if state.panel == Some(Panel::Chat) {
                    <div class="side">
                        <ChatPanel entries={meeting.chat.entries.clone()}
                            peers={state.peers.iter().map(|p| (p.info.id.clone(), p.info.name.clone())).collect::<Vec<_>>()}
                            transfers={meeting.transfers.list.clone()}
                            max_chars={state.chat_limit()}
                            on_send={let c = meeting.command.clone(); Callback::from(move |text| c.emit(Command::Chat(text)))}
                            on_send_file={let c = meeting.command.clone(); Callback::from(move |(file, to)| c.emit(Command::SendFile(file, to)))}
                            on_cancel={let c = meeting.command.clone(); Callback::from(move |key| c.emit(Command::CancelTransfer(key)))} />
                    </div>
                }
                if let Some(Panel::Stats(id)) = &state.panel {
                    <div class="side">
                        <StatsPanel peer_id={id.to_string()}
                            name={state.peers.iter().find(|p| &p.info.id == id).map(|p| p.info.name.clone()).unwrap_or_default()}
                            figures={meeting.stats.peers.get(id).cloned()} />
                    </div>
                }
                if state.panel == Some(Panel::Settings) {
                    <div class="side" aria-label={s.settings}>
                        <DeviceSettings media={props.media.clone()} />
                        <label class="check">
                            <input type="checkbox" data-testid="audio-only-toggle" checked={state.audio_only}
                                onchange={let (c, on) = (meeting.command.clone(), !state.audio_only);
                                    Callback::from(move |_: Event| c.emit(Command::AudioOnly(on)))} />
                            { s.audio_only }
                        </label>
                    </div>
                }
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
                on_leave={leave} />
        </main>
    }
}
