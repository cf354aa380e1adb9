//! The chat panel: messages, the message box, and file transfers.

use crate::i18n::{use_strings, Strings};
use crate::state::{segments, ChatEntry, Direction, Segment, Transfer, TransferKey, TransferState};
use meshmeet_protocol::PeerId;
use wasm_bindgen::JsValue;
use web_sys::{File, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// Props of [`ChatPanel`].
#[derive(Properties, PartialEq)]
pub struct ChatPanelProps {
    /// Messages in display order.
    pub entries: Vec<ChatEntry>,
    /// The others, for the file target picker.
    pub peers: Vec<(PeerId, String)>,
    /// Transfers in both directions.
    pub transfers: Vec<Transfer>,
    /// Longest message, in characters (the relay's limit).
    pub max_chars: u32,
    /// Send a message.
    pub on_send: Callback<String>,
    /// Send a file to one peer (`Some`) or everyone.
    pub on_send_file: Callback<(File, Option<PeerId>)>,
    /// Cancel a transfer.
    pub on_cancel: Callback<TransferKey>,
}

fn clock(ms: u64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

fn state_text(s: &Strings, state: &TransferState) -> String {
    match state {
        TransferState::Active => s.transfer_active.into(),
        TransferState::Done => s.transfer_done.into(),
        TransferState::Cancelled => s.transfer_cancelled.into(),
        TransferState::Failed(why) => format!("{} ({why})", s.transfer_failed),
    }
}

/// Chat and files side panel.
#[function_component(ChatPanel)]
pub fn chat_panel(props: &ChatPanelProps) -> Html {
    let s = use_strings();
    let draft = use_state(String::new);
    let target = use_state(|| Option::<PeerId>::None);
    let list = use_node_ref();

    // Keep the newest message in view.
    {
        let list = list.clone();
        use_effect_with(props.entries.len(), move |_| {
            if let Some(list) = list.cast::<web_sys::Element>() {
                list.set_scroll_top(list.scroll_height());
            }
        });
    }

    let on_input = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                draft.set(input.value());
            }
        })
    };
    let on_submit = {
        let (draft, on_send) = (draft.clone(), props.on_send.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !draft.trim().is_empty() {
                on_send.emit((*draft).clone());
                draft.set(String::new());
            }
        })
    };
    let send_files = {
        let (target, on_send_file) = (target.clone(), props.on_send_file.clone());
        move |list: Option<web_sys::FileList>| {
            let Some(list) = list else { return };
            for i in 0..list.length() {
                if let Some(file) = list.get(i) {
                    on_send_file.emit((file, (*target).clone()));
                }
            }
        }
    };
    let on_file = {
        let send_files = send_files.clone();
        Callback::from(move |e: Event| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                send_files(input.files());
                // Let the same file be picked again.
                input.set_value("");
            }
        })
    };
    let on_drop = Callback::from(move |e: DragEvent| {
        e.prevent_default();
        send_files(e.data_transfer().and_then(|d| d.files()));
    });
    let on_target = {
        let target = target.clone();
        Callback::from(move |e: Event| {
            if let Some(select) = e.target_dyn_into::<HtmlSelectElement>() {
                let value = select.value();
                target.set((!value.is_empty()).then_some(PeerId(value)));
            }
        })
    };

    let message = |entry: &ChatEntry| {
        let parts = segments(&entry.text).into_iter().map(|segment| match segment {
            Segment::Text(text) => html! { { text } },
            Segment::Link(url) => html! {
                <a href={url.clone()} target="_blank" rel="noopener noreferrer nofollow">{ url }</a>
            },
        });
        html! {
            <li data-testid="chat-message" data-from={entry.name.clone()}
                data-from-id={entry.from.to_string()} class={classes!(entry.mine.then_some("mine"))}>
                <div class="meta"><span class="who">{ &entry.name }</span>
                    <time>{ clock(entry.at_ms) }</time></div>
                <p class="text">{ for parts }</p>
            </li>
        }
    };
    let transfer = |t: &Transfer| {
        let cancel = {
            let (on_cancel, key) = (props.on_cancel.clone(), t.key.clone());
            Callback::from(move |_| on_cancel.emit(key.clone()))
        };
        let (direction, who) = match t.key.direction {
            Direction::Sending => ("sending", format!("{} {}", s.to_peer, t.peer_name)),
            Direction::Receiving => ("receiving", format!("{} {}", s.from_peer, t.peer_name)),
        };
        let percent = t.percent();
        html! {
            <li data-testid="file-transfer" data-state={t.state.as_attr()} data-progress={percent.to_string()}
                data-direction={direction} data-name={t.name.clone()}>
                <div class="meta"><span class="who">{ &t.name }</span><span>{ who }</span></div>
                <progress max="100" value={percent.to_string()} aria-label={t.name.clone()} />
                <div class="meta">
                    <span>{ state_text(s, &t.state) }</span>
                    if t.state == TransferState::Active {
                        <button data-testid="file-cancel" onclick={cancel}>{ s.cancel }</button>
                    }
                    if let Some(url) = &t.url {
                        <a data-testid="file-download" href={url.clone()} download={t.name.clone()}>{ s.download }</a>
                    }
                </div>
            </li>
        }
    };

    html! {
        <aside class="chat" aria-label={s.chat}
            ondragover={Callback::from(|e: DragEvent| e.prevent_default())} ondrop={on_drop}>
            <h2>{ s.chat }</h2>
            <ol class="messages" aria-live="polite" ref={list}>
                if props.entries.is_empty() {
                    <li class="empty">{ s.no_messages }</li>
                }
                { for props.entries.iter().map(message) }
            </ol>
            <form class="chat-form" onsubmit={on_submit}>
                <input data-testid="chat-input" aria-label={s.chat_message_label} placeholder={s.chat_placeholder}
                    value={(*draft).clone()} oninput={on_input} maxlength={props.max_chars.to_string()} autocomplete="off" />
                <button data-testid="chat-send" type="submit" disabled={draft.trim().is_empty()}>{ s.send }</button>
            </form>
            <h2>{ s.files }</h2>
            <div class="field">
                <label for="file-target">{ s.send_file_to }</label>
                <select id="file-target" data-testid="file-target" onchange={on_target}>
                    <option value="" selected={target.is_none()}>{ s.everyone }</option>
                    { for props.peers.iter().map(|(id, name)| html! {
                        <option value={id.to_string()} selected={target.as_ref() == Some(id)}>{ name }</option>
                    }) }
                </select>
            </div>
            <label class="file-drop">
                { s.choose_file }
                <input type="file" data-testid="file-input" multiple=true onchange={on_file}
                    disabled={props.peers.is_empty()} />
            </label>
            <ul class="transfers">{ for props.transfers.iter().rev().map(transfer) }</ul>
        </aside>
    }
}
