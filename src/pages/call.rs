//! The call: the grid of tiles, the controls, and what to do when it ends or fails.

use crate::components::{
    ChatPanel, Controls, DeviceSettings, ErrorBanner, InviteLink, LangSwitch, LocalTile,
    ParticipantList, PeerTile, ScreenTile, StatsPanel,
};
use crate::hooks::{use_meeting, use_screen_share, Command, JoinRequest, LocalMediaHandle};
use crate::i18n::{use_strings, Strings};
use crate::rtc::{budget_from_query, LocalTracks, DEFAULT_VIDEO_BUDGET_BPS};
use crate::state::{Action, ChatAction, Notice, Panel, Phase, RelayLink, RoomFailure};
use meshmeet_protocol::{MediaState, RoomName};
use yew::prelude::*;

/// Props of [`Call`].
#[derive(Properties, PartialEq)]
pub struct CallProps {
    /// The room.
    pub room: AttrValue,
    /// Own display name.
    pub name: AttrValue,
    /// The invite URL.
    pub invite_url: AttrValue,
    /// Local media, captured in the lobby.
    pub media: LocalMediaHandle,
    /// Back to the lobby (after leaving or a failure).
    pub on_back_to_lobby: Callback<()>,
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
        RoomFailure::Refused(why) => format!("{} ({why})", s.err_relay_other),
    }
}

/// The call.
#[function_component(Call)]
pub fn call(props: &CallProps) -> Html {
    let s = use_strings();
    let local = &props.media.media;
    let join = JoinRequest {
        room: RoomName(props.room.to_string()),
        name: props.name.to_string(),
        password: None,
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
        let text = match notice {
            Notice::Refused(why) => format!("{} ({why})", s.err_relay_other),
        };
        let dismiss = Callback::from(move |()| dispatch.dispatch(Action::DismissNotice));
        html! { <ErrorBanner message={text} on_dismiss={dismiss} /> }
    });
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
            <ScreenTile key="local-screen" name={props.name.clone()} stream={share.preview.clone()} />
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
    let screen_error = share
        .error
        .as_ref()
        .map(|_| html! { <ErrorBanner message={s.err_screen} /> });
    html! {
        <main class="call" data-testid="app" data-phase={if state.phase == Phase::InCall { "in-call" } else { "connecting" }}>
            <header class="top">
                <span class="room-name">{ &props.room }</span>
                <LangSwitch />
            </header>
            { for notice }
            { for screen_error }
            if state.relay == RelayLink::Reconnecting {
                <div class="warning-banner" role="status" data-testid="reconnecting">{ s.reconnecting }</div>
            }
            if meeting.stats.own_connection_poor() {
                <div class="warning-banner" role="status" data-testid="poor-connection">{ s.own_connection_poor }</div>
            }
            <div class={classes!("stage", sharing.then_some("with-screen"))}>
                if sharing {
                    <section class="screens">{ for screens }</section>
                }
                <section class={classes!("grid", format!("n{}", count.min(9)), sharing.then_some("strip"))} aria-label={s.video_grid}>
                    <LocalTile stream={local.preview.clone()} name={props.name.clone()}
                        mic_on={media_state.mic} camera_on={media_state.camera} />
                    { for state.peers.iter().map(|peer| html! {
                        <PeerTile key={peer.info.id.to_string()} peer={peer.clone()}
                            quality={meeting.stats.quality(&peer.info.id)}
                            audio_only={state.audio_only}
                            on_stats={toggle(Panel::Stats(peer.info.id.clone()))}
                            on_visible={let (c, id) = (meeting.command.clone(), peer.info.id.clone());
                                Callback::from(move |visible| c.emit(Command::VideoWanted(id.clone(), visible)))}
                            stream={meeting.streams.camera.get(&peer.info.id).cloned()}
                            sink_id={local.speaker_id.clone()} />
                    }) }
                </section>
                if state.panel == Some(Panel::Participants) {
                    <div class="side">
                        <ParticipantList self_name={props.name.clone()} self_mic={media_state.mic} peers={state.peers.clone()} />
                        <InviteLink url={props.invite_url.clone()} />
                    </div>
                }
                if state.panel == Some(Panel::Chat) {
                    <div class="side">
                        <ChatPanel entries={meeting.chat.entries.clone()}
                            peers={state.peers.iter().map(|p| (p.info.id.clone(), p.info.name.clone())).collect::<Vec<_>>()}
                            transfers={meeting.transfers.list.clone()}
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
                                onchange={let (c, d, on) = (meeting.command.clone(), meeting.state.dispatcher(), !state.audio_only);
                                    Callback::from(move |_: Event| { d.dispatch(Action::SetAudioOnly(on)); c.emit(Command::AudioOnly(on)); })} />
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
