//! The list of people in the meeting.

use super::Icon;
use crate::i18n::use_strings;
use crate::state::RemotePeer;
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
}

/// Everyone, self first.
#[function_component(ParticipantList)]
pub fn participant_list(props: &ParticipantListProps) -> Html {
    let s = use_strings();
    let entry = |name: String, mic: bool, id: Option<String>| {
        html! {
            <li data-testid="participant" data-peer-id={id}>
                <span>{ name }</span>
                if !mic { <span class="mark" role="img" aria-label={s.mic_off}>{ Icon::MicOff.html() }</span> }
            </li>
        }
    };
    html! {
        <aside class="participants" aria-label={s.participants}>
            <h2>{ format!("{} ({})", s.participants, props.peers.len() + 1) }</h2>
            <ul>
                { entry(format!("{} ({})", props.self_name, s.you), props.self_mic, None) }
                { for props.peers.iter().map(|p| entry(p.info.name.clone(), p.info.media.mic, Some(p.info.id.to_string()))) }
            </ul>
        </aside>
    }
}
