//! The list of people in the meeting, with the host marked, and for the host the controls
//! over the room: lock, remove, ask to mute, hand over, go live with someone on the stage,
//! end for everyone. The relay enforces who may use them; the list only offers them to the
//! host.

use super::live_controls::live_controls;
use super::Icon;
use crate::hooks::HostCommand;
use crate::i18n::{use_strings, Strings};
use crate::state::{IngestGrant, RemotePeer};
use meshmeet_protocol::{LiveInfo, PeerId, RtmpOutputState};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Props of [`ParticipantList`].
#[derive(Properties, PartialEq)]
pub struct ParticipantListProps {
    /// Own name.
    pub self_name: AttrValue,
    /// Own microphone state.
    pub self_mic: bool,
    /// The others.
    pub peers: Vec<RemotePeer>,
    /// Whether we are the host (`RoomState::is_host`): the list then offers the controls.
    #[prop_or_default]
    pub is_host: bool,
    /// The room's host.
    #[prop_or_default]
    pub host: Option<PeerId>,
    /// Whether the room is locked.
    #[prop_or_default]
    pub locked: bool,
    /// Our id, once welcomed (to put ourselves on the stage).
    #[prop_or_default]
    pub self_id: Option<PeerId>,
    /// The room's live, while it is live.
    #[prop_or_default]
    pub live: Option<LiveInfo>,
    /// The live's watch link, while it is live.
    #[prop_or_default]
    pub watch_url: Option<AttrValue>,
    /// Where the room's encoders publish (WHIP).
    #[prop_or_default]
    pub whip_url: AttrValue,
    /// The room is end-to-end encrypted: the relay refuses what needs the server to see the
    /// media (going live, encoders, cameras), so the host is told instead of offered them.
    #[prop_or_default]
    pub e2ee: bool,
    /// The encoders the host let in, with their tokens.
    #[prop_or_default]
    pub ingests: Vec<IngestGrant>,
    /// How each RTMP address of the live is doing, while live.
    #[prop_or_default]
    pub live_outputs: Vec<RtmpOutputState>,
    /// A host control was used.
    #[prop_or_default]
    pub on_host: Callback<HostCommand>,
}

/// Everyone, self first; host controls for the host.
#[function_component(ParticipantList)]
pub fn participant_list(props: &ParticipantListProps) -> Html {
    let s = use_strings();
    let is_host = props.is_host;
    let send = |command: HostCommand| {
        let on_host = props.on_host.clone();
        Callback::from(move |_: MouseEvent| on_host.emit(command.clone()))
    };
    let host_badge = html! {
        <span class="host-badge" data-testid="host-badge">{ s.host }</span>
    };
    let entry = |name: String, mic: bool, id: Option<&PeerId>| {
        let hosting = match id {
            Some(id) => props.host.as_ref() == Some(id),
            None => is_host,
        };
        let controls = match id {
            Some(id) if is_host => html! {
                <span class="host-actions">
                    <button data-testid="ask-mute" aria-label={format!("{} {name}", s.ask_to_mute)}
                        title={format!("{} {name}", s.ask_to_mute)} onclick={send(HostCommand::AskToMute(id.clone()))}>{ Icon::MicOff.html() }</button>
                    <button data-testid="make-host" aria-label={format!("{} {name}", s.make_host)}
                        title={format!("{} {name}", s.make_host)} onclick={send(HostCommand::HandOver(id.clone()))}>{ "👑" }</button>
                    <button class="danger" data-testid="remove-participant" aria-label={format!("{} {name}", s.remove_participant)}
                        title={format!("{} {name}", s.remove_participant)} onclick={send(HostCommand::Remove(id.clone()))}>{ "✕" }</button>
                </span>
            },
            _ => html! {},
        };
        html! {
            <li data-testid="participant" data-peer-id={id.map(|id| id.to_string())} data-host={hosting.to_string()}>
                <span class="who">
                    <span>{ name }</span>
                    if hosting { { host_badge.clone() } }
                    if !mic { <span class="mark" role="img" aria-label={s.mic_off}>{ Icon::MicOff.html() }</span> }
                </span>
                { controls }
            </li>
        }
    };
    let on_lock = {
        let on_host = props.on_host.clone();
        Callback::from(move |e: Event| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                on_host.emit(HostCommand::Lock(input.checked()));
            }
        })
    };
    // Who goes on the stage when the host goes live (or whether it follows who speaks), and
    // where the live also goes (the RTMP addresses as typed, one per line, and HLS).
    let stage_choice = use_state(Vec::<PeerId>::new);
    let follow_choice = use_state(|| false);
    let outputs = use_state(|| (String::new(), false));
    let encoder_name = use_state(String::new);
    let camera_url = use_state(String::new);
    html! {
        <aside class="participants" aria-label={s.participants}>
            <h2>{ format!("{} ({})", s.participants, props.peers.len() + 1) }</h2>
            if props.locked {
                <p class="locked" role="status" data-testid="room-locked">{ "🔒 " }{ s.room_locked }</p>
            }
            <ul>
                { entry(format!("{} ({})", props.self_name, s.you), props.self_mic, None) }
                { for props.peers.iter().map(|p| entry(p.info.name.clone(), p.info.media.mic, Some(&p.info.id))) }
            </ul>
            if is_host {
                <section class="host-controls" aria-label={s.host_controls}>
                    <label class="check">
                        <input type="checkbox" data-testid="lock-toggle" checked={props.locked} onchange={on_lock} />
                        { s.lock_room }
                    </label>
                    if props.e2ee {
                        <p class="field-hint" data-testid="e2ee-no-live">{ s.e2ee_no_live }</p>
                    } else {
                        { live_controls(s, props, (&stage_choice, &follow_choice), &outputs) }
                        { encoder_controls(s, props, &encoder_name, &camera_url) }
                    }
                    <button class="danger" data-testid="end-meeting" onclick={send(HostCommand::EndMeeting)}>
                        { s.end_for_all }
                    </button>
                </section>
            }
        </aside>
    }
}

/// The host's encoders: a name to let one in under, and for each one let in the WHIP
/// address and token to give it.
fn encoder_controls(
    s: &Strings,
    props: &ParticipantListProps,
    name: &UseStateHandle<String>,
    camera: &UseStateHandle<String>,
) -> Html {
    let on_name = {
        let name = name.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                name.set(input.value());
            }
        })
    };
    let on_add = {
        let (name, on_host) = (name.clone(), props.on_host.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let chosen = name.trim();
            if !chosen.is_empty() {
                on_host.emit(HostCommand::CreateIngest(chosen.to_owned()));
                name.set(String::new());
            }
        })
    };
    let on_camera = {
        let camera = camera.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                camera.set(input.value());
            }
        })
    };
    let on_add_camera = {
        let (name, camera, on_host) = (name.clone(), camera.clone(), props.on_host.clone());
        Callback::from(move |_: MouseEvent| {
            let (chosen, url) = (name.trim(), camera.trim());
            if !chosen.is_empty() && !url.is_empty() {
                on_host.emit(HostCommand::AddCamera(chosen.to_owned(), url.to_owned()));
                name.set(String::new());
                camera.set(String::new());
            }
        })
    };
    html! {
        <form class="live-controls" onsubmit={on_add}>
            <label>
                { s.encoder_name }
                <input type="text" data-testid="ingest-name" maxlength="64" autocomplete="off"
                    value={(**name).clone()} oninput={on_name} />
            </label>
            <button type="submit" data-testid="add-encoder">{ s.add_encoder }</button>
            <label>
                { s.camera_url }
                <input type="url" data-testid="camera-url" autocomplete="off" spellcheck="false"
                    placeholder="rtsp://…" value={(**camera).clone()} oninput={on_camera} />
            </label>
            <button type="button" data-testid="add-camera" onclick={on_add_camera}>{ s.add_camera }</button>
            { for props.ingests.iter().map(|g| html! {
                <label class="watch-link">
                    { format!("{} · WHIP", g.name) }
                    <input type="text" readonly=true data-testid="whip-url" value={props.whip_url.clone()} />
                    <input type="text" readonly=true data-testid="whip-token" aria-label={s.whip_token}
                        value={g.token.clone()} />
                </label>
            }) }
        </form>
    }
}
