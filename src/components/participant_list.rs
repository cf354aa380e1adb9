//! The list of people in the meeting, with the host marked, and for the host the controls
//! over the room: lock, remove, ask to mute, hand over, end for everyone. The relay enforces
//! who may use them; the list only offers them to the host.

use super::Icon;
use crate::hooks::HostCommand;
use crate::i18n::use_strings;
use crate::state::RemotePeer;
use meshmeet_protocol::PeerId;
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
                    <button class="danger" data-testid="end-meeting" onclick={send(HostCommand::EndMeeting)}>
                        { s.end_for_all }
                    </button>
                </section>
            }
        </aside>
    }
}
