//! A meeting page: the lobby first, then the call, sharing one local media capture.

use super::{Call, Lobby};
use crate::hooks::use_local_media;
use crate::media::VideoQuality;
use yew::prelude::*;

const NAME_KEY: &str = "meshmeet.name";

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

fn invite_url(room: &str) -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    format!("{origin}/r/{room}")
}

/// The meeting page.
#[function_component(RoomPage)]
pub fn room_page(props: &RoomPageProps) -> Html {
    let quality = use_memo((), |_| VideoQuality::from_query(&page_query()));
    let media = use_local_media(*quality, true, true);
    let name = use_state(|| {
        storage()
            .and_then(|s| s.get_item(NAME_KEY).ok().flatten())
            .unwrap_or_default()
    });
    let in_call = use_state(|| false);

    let on_name = {
        let name = name.clone();
        Callback::from(move |value: String| name.set(value))
    };
    let on_join = {
        let (name, in_call) = (name.clone(), in_call.clone());
        Callback::from(move |()| {
            let trimmed = name.trim().to_owned();
            if let Some(storage) = storage() {
                let _ = storage.set_item(NAME_KEY, &trimmed);
            }
            name.set(trimmed);
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
    let invite = invite_url(&props.room);
    if *in_call {
        html! {
            <Call room={props.room.clone()} name={(*name).clone()} invite_url={invite}
                media={media} on_back_to_lobby={on_back_to_lobby} />
        }
    } else {
        html! {
            <Lobby room={props.room.clone()} invite_url={invite} media={media}
                name={(*name).clone()} {on_name} {on_join} />
        }
    }
}
