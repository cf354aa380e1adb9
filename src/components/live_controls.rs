//! The host's live controls: who is on the stage (one to four, ticked in the order they
//! appear side by side, or whoever speaks), where the live also goes (RTMP, HLS), go live or
//! stop, and the links to hand out. While live, ticking or unticking changes the stage at
//! once.

use super::participant_list::ParticipantListProps;
use crate::hooks::HostCommand;
use crate::i18n::Strings;
use crate::state::{
    hls_url, live_outputs_from_form, stage_after_toggle, stage_box_enabled, stage_to_send,
};
use meshmeet_protocol::{PeerId, RtmpOutputState, RtmpOutputStatus};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

/// The host's live controls, from the participants panel's props; `choice` holds who goes
/// on the stage when the host goes live and whether it follows who speaks, `outputs` the
/// RTMP addresses as typed (one per line) and HLS. A function, not a component: the panel
/// owns the state.
pub fn live_controls(
    s: &Strings,
    props: &ParticipantListProps,
    (choice, follow_choice): (&UseStateHandle<Vec<PeerId>>, &UseStateHandle<bool>),
    outputs: &UseStateHandle<(String, bool)>,
) -> Html {
    let chosen_outputs = live_outputs_from_form(&outputs.0, outputs.1);
    let live = props.live.is_some();
    let follow = props
        .live
        .as_ref()
        .map_or(**follow_choice, |l| l.follow_speaker);
    let present = |id: &PeerId| {
        props.self_id.as_ref() == Some(id) || props.peers.iter().any(|p| &p.info.id == id)
    };
    // Who left is no longer offered, nor kept when the host changes the stage.
    let stage: Vec<PeerId> = match &props.live {
        Some(l) => l.stage.iter().filter(|p| present(p)).cloned().collect(),
        None => {
            let chosen: Vec<PeerId> = choice.iter().filter(|p| present(p)).cloned().collect();
            if chosen.is_empty() {
                props.self_id.iter().cloned().collect()
            } else {
                chosen
            }
        }
    };
    let on_tick = {
        let (choice, on_host, stage) = (choice.clone(), props.on_host.clone(), stage.clone());
        let chosen_outputs = chosen_outputs.clone();
        Callback::from(move |e: Event| {
            let Some(input) = e.target_dyn_into::<HtmlInputElement>() else {
                return;
            };
            let peer = PeerId::from(input.value().as_str());
            let Some(next) = stage_after_toggle(&stage, &peer, input.checked()) else {
                // Not a stage: the box goes back to what the stage says.
                input.set_checked(!input.checked());
                return;
            };
            if live {
                on_host.emit(HostCommand::GoLive {
                    stage: next.clone(),
                    outputs: chosen_outputs.clone(),
                    follow_speaker: false,
                });
            }
            choice.set(next);
        })
    };
    // Following who speaks starts from the first on the stage; leaving it keeps whoever is
    // on it now.
    let on_follow = {
        let (follow_choice, on_host, stage) =
            (follow_choice.clone(), props.on_host.clone(), stage.clone());
        let chosen_outputs = chosen_outputs.clone();
        Callback::from(move |e: Event| {
            let Some(input) = e.target_dyn_into::<HtmlInputElement>() else {
                return;
            };
            let on = input.checked();
            if live {
                on_host.emit(HostCommand::GoLive {
                    stage: stage_to_send(&stage, on),
                    outputs: chosen_outputs.clone(),
                    follow_speaker: on,
                });
            }
            follow_choice.set(on);
        })
    };
    let toggle = {
        let (on_host, stage) = (props.on_host.clone(), stage.clone());
        let chosen_outputs = chosen_outputs.clone();
        Callback::from(move |_: MouseEvent| {
            if live {
                on_host.emit(HostCommand::StopLive);
            } else if !stage.is_empty() {
                on_host.emit(HostCommand::GoLive {
                    stage: stage_to_send(&stage, follow),
                    outputs: chosen_outputs.clone(),
                    follow_speaker: follow,
                });
            }
        })
    };
    let on_rtmp = {
        let outputs = outputs.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(area) = e.target_dyn_into::<HtmlTextAreaElement>() {
                outputs.set((area.value(), outputs.1));
            }
        })
    };
    let on_hls = {
        let outputs = outputs.clone();
        Callback::from(move |e: Event| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                outputs.set((outputs.0.clone(), input.checked()));
            }
        })
    };
    let stage_box = |id: &PeerId, name: String| {
        html! {
            <label class="check">
                <input type="checkbox" value={id.to_string()} checked={stage.contains(id)}
                    disabled={follow || !stage_box_enabled(&stage, id)} onchange={on_tick.clone()} />
                { name }
            </label>
        }
    };
    html! {
        <div class="live-controls">
            <fieldset class="stage-pick" data-testid="live-stage">
                <legend>{ s.live_stage_pick }</legend>
                <label class="check">
                    <input type="checkbox" data-testid="live-follow-speaker" checked={follow}
                        onchange={on_follow} />
                    { s.live_follow_speaker }
                </label>
                if let Some(me) = &props.self_id {
                    { stage_box(me, format!("{} ({})", props.self_name, s.you)) }
                }
                { for props.peers.iter().map(|p| stage_box(&p.info.id, p.info.name.clone())) }
            </fieldset>
            // The outputs are fixed while live (they are sent again with each stage change).
            <label>
                { s.rtmp_urls }
                <textarea data-testid="rtmp-url" rows="2" disabled={live} autocomplete="off"
                    spellcheck="false" placeholder="rtmp://…/app/stream-key"
                    value={outputs.0.clone()} oninput={on_rtmp} />
            </label>
            <label class="check">
                <input type="checkbox" data-testid="live-hls" disabled={live}
                    checked={outputs.1} onchange={on_hls} />
                { s.live_hls }
            </label>
            if live && !props.live_outputs.is_empty() {
                <ul class="rtmp-status" data-testid="rtmp-status" role="status">
                    { for props.live_outputs.iter().map(|o| output_line(s, o)) }
                </ul>
            }
            <button class={if live { "danger" } else { "primary" }} data-testid="live-toggle"
                aria-pressed={live.to_string()} onclick={toggle}>
                { if live { s.stop_live } else { s.go_live } }
            </button>
            if let Some(url) = &props.watch_url {
                <label class="watch-link">
                    { s.watch_link }
                    <input type="text" readonly=true data-testid="watch-link" value={url.clone()} />
                </label>
                if let Some(hls) = hls_url(url).filter(|_| chosen_outputs.hls) {
                    <label class="watch-link">
                        { s.hls_link }
                        <input type="text" readonly=true data-testid="hls-link" value={hls} />
                    </label>
                }
            }
        </div>
    }
}

/// One RTMP address and how it is doing (its stream key masked by the relay).
fn output_line(s: &Strings, output: &RtmpOutputState) -> Html {
    let (status, text) = match output.status {
        RtmpOutputStatus::Connecting => ("connecting", s.rtmp_connecting.to_owned()),
        RtmpOutputStatus::Sending => ("sending", s.rtmp_sending.to_owned()),
        RtmpOutputStatus::Failing => (
            "failing",
            format!(
                "{}: {} ({} {})",
                s.rtmp_failing,
                output.reason.as_deref().unwrap_or_default(),
                s.rtmp_retry_in,
                output.retry_secs.unwrap_or_default()
            ),
        ),
    };
    html! {
        <li data-status={status}>
            <span class="address">{ output.address.clone() }</span>
            <span class="state">{ text }</span>
        </li>
    }
}
