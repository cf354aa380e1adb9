//! A meeting page: the lobby first, then the call, sharing one local media capture and what
//! the person typed (name, room password) or chose (relay only), plus what the link carries
//! (a join token).

use super::{Call, Lobby};
use crate::hooks::use_local_media;
use crate::media::VideoQuality;
use crate::state::{
    fragment_passphrase, passphrase_fragment, passphrase_from, query_value, token_name,
};
use yew::prelude::*;

const NAME_KEY: &str = "meshmeet.name";
const RELAY_ONLY_KEY: &str = "meshmeet.relay_only";
const AUDIO_ONLY_KEY: &str = "meshmeet.audio_only";
const CLIENT_KEY_KEY: &str = "meshmeet.client_key";

/// What the lobby collected for the join.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JoinDetails {
    /// Display name (from the token when there is one).
    pub name: String,
    /// Room password as typed (empty: none).
    pub password: String,
    /// Connect through TURN relays only.
    pub relay_only: bool,
    /// Receive audio only (no video from the others).
    pub audio_only: bool,
    /// Join token from the link (`?token=`).
    pub token: Option<String>,
    /// The passphrase of an end-to-end encrypted meeting (the link's `#key=`, or made in the
    /// lobby).
    pub e2ee_passphrase: Option<String>,
}

/// Props of [`RoomPage`].
#[derive(Properties, PartialEq)]
pub struct RoomPageProps {
    /// The room from the URL.
    pub room: AttrValue,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn page_query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// This browser's own random key, made once and kept (the relay recognises a participant
/// the host removed by it).
fn client_key() -> Option<String> {
    let storage = storage()?;
    // A stored key the relay would refuse (edited by hand, or by an older version) would make
    // every join fail with `invalid_client_key`; it is replaced like a missing one.
    if let Some(key) = storage.get_item(CLIENT_KEY_KEY).ok().flatten() {
        if meshmeet_protocol::is_valid_client_key(&key) {
            return Some(key);
        }
    }
    let key = hex::encode(random_bytes()?);
    let _ = storage.set_item(CLIENT_KEY_KEY, &key);
    Some(key)
}

/// The page's `#fragment` (where an encrypted meeting's passphrase travels).
fn page_fragment() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// A new passphrase for an encrypted meeting, from the browser's random numbers.
pub fn new_passphrase() -> Option<String> {
    Some(passphrase_from(&random_bytes()?))
}

/// 128 bits from the browser's random numbers.
fn random_bytes() -> Option<[u8; 16]> {
    let mut bytes = [0u8; 16];
    web_sys::window()?
        .crypto()
        .ok()?
        .get_random_values_with_u8_array(&mut bytes)
        .ok()?;
    Some(bytes)
}

/// Shows `passphrase` in the address bar's fragment (or none), without reloading: what the
/// person copies from there is the whole link.
fn show_passphrase(passphrase: Option<&str>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    let path = location.pathname().unwrap_or_default() + &location.search().unwrap_or_default();
    let url = path + &passphrase.map(passphrase_fragment).unwrap_or_default();
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// The link to invite others: the room, and an encrypted meeting's passphrase in the
/// fragment (browsers never send it to a server).
fn invite_url(room: &str, passphrase: Option<&str>) -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let fragment = passphrase.map(passphrase_fragment).unwrap_or_default();
    format!("{origin}/r/{room}{fragment}")
}

/// The meeting page.
#[function_component(RoomPage)]
pub fn room_page(props: &RoomPageProps) -> Html {
    let quality = use_memo((), |_| VideoQuality::from_query(&page_query()));
    let media = use_local_media(*quality, true, true);
    let details = use_state(|| {
        let token = query_value(&page_query(), "token");
        let saved = |key| storage().and_then(|s| s.get_item(key).ok().flatten());
        JoinDetails {
            name: token
                .as_deref()
                .and_then(token_name)
                .or_else(|| saved(NAME_KEY))
                .unwrap_or_default(),
            password: String::new(),
            relay_only: saved(RELAY_ONLY_KEY).as_deref() == Some("1"),
            audio_only: saved(AUDIO_ONLY_KEY).as_deref() == Some("1"),
            token,
            e2ee_passphrase: fragment_passphrase(&page_fragment()),
        }
    });
    let client_key = use_memo((), |_| client_key());
    let in_call = use_state(|| false);

    let on_details = {
        let details = details.clone();
        Callback::from(move |value: JoinDetails| {
            // The two connection choices are remembered for the next meeting.
            for (key, now, before) in [
                (RELAY_ONLY_KEY, value.relay_only, details.relay_only),
                (AUDIO_ONLY_KEY, value.audio_only, details.audio_only),
            ] {
                if now == before {
                    continue;
                }
                if let Some(storage) = storage() {
                    let _ = storage.set_item(key, if now { "1" } else { "0" });
                }
            }
            if value.e2ee_passphrase != details.e2ee_passphrase {
                show_passphrase(value.e2ee_passphrase.as_deref());
            }
            details.set(value);
        })
    };
    let on_join = {
        let (details, in_call) = (details.clone(), in_call.clone());
        Callback::from(move |()| {
            let mut next = (*details).clone();
            next.name = next.name.trim().to_owned();
            if let (Some(storage), None) = (storage(), &next.token) {
                let _ = storage.set_item(NAME_KEY, &next.name);
            }
            details.set(next);
            in_call.set(true);
        })
    };
    let on_back_to_lobby = {
        let (in_call, retry) = (in_call.clone(), media.retry.clone());
        Callback::from(move |()| {
            in_call.set(false);
            retry.emit(());
        })
    };
    let invite = invite_url(&props.room, details.e2ee_passphrase.as_deref());
    if *in_call {
        html! {
            <Call room={props.room.clone()} details={(*details).clone()}
                client_key={(*client_key).clone()} invite_url={invite}
                media={media} on_back_to_lobby={on_back_to_lobby} />
        }
    } else {
        html! {
            <Lobby room={props.room.clone()} invite_url={invite} media={media}
                details={(*details).clone()} {on_details} {on_join} />
        }
    }
}
