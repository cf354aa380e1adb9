//! Sharing a screen: start, stop (from our button or the browser's own), and cleanup.

use crate::js::Listener;
use crate::media::{can_share_screen, capture_screen, MediaError};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;
use web_sys::{MediaStream, MediaStreamTrack};
use yew::prelude::*;

/// The screen share and how to toggle it.
#[derive(Clone, PartialEq)]
pub struct ScreenShareHandle {
    /// The shared screen's track, while sharing.
    pub track: Option<MediaStreamTrack>,
    /// The same as a stream, for the local preview.
    pub preview: Option<MediaStream>,
    /// Why the last attempt failed (cancelling the picker counts as a refusal).
    pub error: Option<MediaError>,
    /// Whether the browser can share a screen at all.
    pub supported: bool,
    /// Starts or stops sharing.
    pub toggle: Callback<()>,
}

/// Screen sharing for the call; the share stops when the call unmounts.
#[hook]
pub fn use_screen_share() -> ScreenShareHandle {
    let track = use_state(|| Option::<MediaStreamTrack>::None);
    let error = use_state(|| Option::<MediaError>::None);
    // The browser's "stop sharing" button ends the track: listen for that.
    let ended: Rc<RefCell<Option<Listener>>> = use_mut_ref(|| None);
    let supported = use_memo((), |_| can_share_screen());

    {
        let track = track.clone();
        use_effect_with((), move |_| {
            move || {
                if let Some(t) = track.as_ref() {
                    t.stop();
                }
            }
        });
    }

    let toggle = {
        let (track, error, ended) = (track.clone(), error.clone(), ended.clone());
        Callback::from(move |()| {
            if let Some(current) = track.as_ref() {
                current.stop();
                ended.borrow_mut().take();
                track.set(None);
                return;
            }
            let (track, error, ended) = (track.clone(), error.clone(), ended.clone());
            spawn_local(async move {
                match capture_screen().await {
                    Ok(new) => {
                        let on_end = track.clone();
                        *ended.borrow_mut() =
                            Some(Listener::new(&new, "ended", move |_| on_end.set(None)));
                        error.set(None);
                        track.set(Some(new));
                    }
                    Err(err) => {
                        web_sys::console::warn_1(&JsValue::from_str(&format!("screen: {err}")));
                        error.set(Some(err));
                    }
                }
            });
        })
    };

    let preview = use_memo((*track).clone(), |track| {
        track.as_ref().and_then(|t| {
            let list: js_sys::Array = std::iter::once(JsValue::from(t)).collect();
            MediaStream::new_with_tracks(&list).ok()
        })
    });
    ScreenShareHandle {
        track: (*track).clone(),
        preview: (*preview).clone(),
        error: (*error).clone(),
        supported: *supported,
        toggle,
    }
}
