//! The start page: create a meeting with a fresh name, or type one in.

use crate::components::LangSwitch;
use crate::i18n::use_strings;
use crate::state::{room_name_from, Route, MAX_ROOM_CHARS};
use meshmeet_protocol::validate_room_name;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// A fresh random room name, from the browser's cryptographic random source.
fn random_room_name() -> String {
    let mut bytes = [0u8; 12];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    let word = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    room_name_from([word(0), word(4), word(8)])
}

/// Props of [`Home`].
#[derive(Properties, PartialEq)]
pub struct HomeProps {
    /// Goes to another page.
    pub on_navigate: Callback<Route>,
    /// Shown when the link that led here was not a valid meeting.
    #[prop_or_default]
    pub bad_link: bool,
}

/// The start page.
#[function_component(Home)]
pub fn home(props: &HomeProps) -> Html {
    let s = use_strings();
    let code = use_state(String::new);
    let start = {
        let nav = props.on_navigate.clone();
        Callback::from(move |_| nav.emit(Route::Room(random_room_name())))
    };
    let code_valid = validate_room_name(code.trim(), MAX_ROOM_CHARS).is_ok();
    let on_input = {
        let code = code.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                code.set(input.value());
            }
        })
    };
    let on_submit = {
        let (nav, code) = (props.on_navigate.clone(), code.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let room = code.trim().to_owned();
            if validate_room_name(&room, MAX_ROOM_CHARS).is_ok() {
                nav.emit(Route::Room(room));
            }
        })
    };
    html! {
        <main class="home" data-testid="app">
            <header class="top"><LangSwitch /></header>
            <h1>{ "meshmeet" }</h1>
            <p class="tagline">{ s.app_tagline }</p>
            if props.bad_link {
                <div class="error-banner" role="alert" data-testid="error-banner"><p>{ s.err_invalid_room }</p></div>
            }
            <button class="primary big" data-testid="start-meeting" onclick={start}>{ s.start_meeting }</button>
            <form class="join-code" onsubmit={on_submit}>
                <h2>{ s.join_with_code }</h2>
                <label for="room-code">{ s.room_code_label }</label>
                <div class="invite-row">
                    <input id="room-code" data-testid="room-code-input" value={(*code).clone()}
                        oninput={on_input} autocomplete="off" maxlength={MAX_ROOM_CHARS.to_string()}
                        aria-invalid={(!code.is_empty() && !code_valid).to_string()} />
                    <button type="submit" disabled={!code_valid}>{ s.go }</button>
                </div>
                if !code.is_empty() && !code_valid {
                    <p class="hint">{ s.invalid_room_code }</p>
                }
            </form>
        </main>
    }
}
