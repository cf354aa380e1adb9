//! The side panel of the call: participants, chat, one connection's statistics, or settings.

use crate::components::{ChatPanel, DeviceSettings, InviteLink, ParticipantList, StatsPanel};
use crate::hooks::{Command, HostCommand, LocalMediaHandle, MeetingHandle};
use crate::i18n::Strings;
use crate::state::{watch_url, whip_url, Panel, RoomState};
use yew::prelude::*;

/// What the side panel shows from.
pub(super) struct SideInput<'a> {
    pub(super) strings: &'a Strings,
    /// The panel open.
    pub(super) panel: &'a Panel,
    pub(super) state: &'a RoomState,
    pub(super) meeting: &'a MeetingHandle,
    pub(super) media: &'a LocalMediaHandle,
    /// Our display name.
    pub(super) name: &'a AttrValue,
    /// Whether our microphone is on.
    pub(super) self_mic: bool,
    pub(super) invite_url: &'a AttrValue,
}

/// The open side panel.
pub(super) fn panel(input: &SideInput<'_>) -> Html {
    let SideInput {
        strings: s,
        state,
        meeting,
        ..
    } = *input;
    match input.panel {
        Panel::Participants => {
            let on_host = {
                let command = meeting.command.clone();
                Callback::from(move |host: HostCommand| command.emit(Command::Host(host)))
            };
            html! {
                <div class="side">
                    <ParticipantList self_name={input.name.clone()} self_mic={input.self_mic} peers={state.peers.clone()}
                        is_host={state.is_host()} host={state.host.clone()} locked={state.locked}
                        self_id={state.self_id.clone()} live={state.live.clone()}
                        watch_url={state.live.as_ref().map(|l| AttrValue::from(watch_url(input.invite_url, &l.watch_token)))}
                        whip_url={AttrValue::from(whip_url(input.invite_url))} ingests={state.ingests.clone()}
                        live_outputs={state.live_outputs.clone()} e2ee={state.e2ee}
                        {on_host} />
                    <InviteLink url={input.invite_url.clone()} />
                </div>
            }
        }
        Panel::Chat => html! {
            <div class="side">
                <ChatPanel entries={meeting.chat.entries.clone()}
                    peers={state.peers.iter().map(|p| (p.info.id.clone(), p.info.name.clone())).collect::<Vec<_>>()}
                    transfers={meeting.transfers.list.clone()}
                    max_chars={state.chat_limit()}
                    on_send={let c = meeting.command.clone(); Callback::from(move |text| c.emit(Command::Chat(text)))}
                    on_send_file={let c = meeting.command.clone(); Callback::from(move |(file, to)| c.emit(Command::SendFile(file, to)))}
                    on_cancel={let c = meeting.command.clone(); Callback::from(move |key| c.emit(Command::CancelTransfer(key)))} />
            </div>
        },
        Panel::Stats(id) => html! {
            <div class="side">
                <StatsPanel peer_id={id.to_string()}
                    name={state.peers.iter().find(|p| &p.info.id == id).map(|p| p.info.name.clone()).unwrap_or_default()}
                    figures={meeting.stats.peers.get(id).cloned()} />
            </div>
        },
        Panel::Settings => html! {
            <div class="side" aria-label={s.settings}>
                <DeviceSettings media={input.media.clone()} />
                <label class="check">
                    <input type="checkbox" data-testid="audio-only-toggle" checked={state.audio_only}
                        onchange={let (c, on) = (meeting.command.clone(), !state.audio_only);
                            Callback::from(move |_: Event| c.emit(Command::AudioOnly(on)))} />
                    { s.audio_only }
                </label>
            </div>
        },
    }
}
