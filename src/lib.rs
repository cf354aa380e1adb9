//! The meshmeet browser client: a Yew single-page app.
//!
//! Layers, from the browser up: [`media`], [`rtc`] and [`signaling`] wrap browser APIs
//! (no Yew); [`state`] holds pure reducers; [`hooks`] are the only bridge between Yew and the
//! browser layers; [`components`] and [`pages`] take props and emit callbacks.

pub mod components;
pub mod decimal;
pub mod hooks;
pub mod i18n;
pub mod js;
pub mod media;
pub mod pages;
pub mod rtc;
pub mod signaling;
pub mod state;

use i18n::{Lang, LangContext};
use js::Listener;
use pages::{Home, RoomPage, WatchPage};
use state::Route;
use yew::prelude::*;

fn current_route() -> Route {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .map(|path| Route::from_path(&path))
        .unwrap_or(Route::Home)
}

/// The root component: language context and routing by URL path.
#[function_component(App)]
pub fn app() -> Html {
    let lang = use_state(Lang::detect);
    let route = use_state(current_route);

    // Back and forward buttons.
    {
        let route = route.clone();
        use_effect_with((), move |_| {
            let listener = web_sys::window()
                .map(|w| Listener::new(&w, "popstate", move |_| route.set(current_route())));
            move || drop(listener)
        });
    }
    {
        use_effect_with(*lang, |lang| lang.remember());
    }

    let navigate = {
        let route = route.clone();
        Callback::from(move |next: Route| {
            if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                let _ = history.push_state_with_url(
                    &wasm_bindgen::JsValue::NULL,
                    "",
                    Some(&next.path()),
                );
            }
            route.set(next);
        })
    };
    let context = LangContext {
        lang: *lang,
        set: {
            let lang = lang.clone();
            Callback::from(move |next| lang.set(next))
        },
    };
    let page = match &*route {
        Route::Home => html! { <Home on_navigate={navigate} /> },
        Route::NotFound => html! { <Home on_navigate={navigate} bad_link=true /> },
        Route::Room(room) => html! { <RoomPage key={room.clone()} room={room.clone()} /> },
        Route::Live(room) => html! { <WatchPage key={room.clone()} room={room.clone()} /> },
    };
    html! {
        <ContextProvider<LangContext> {context}>
            { page }
        </ContextProvider<LangContext>>
    }
}

/// Mounts the app on the document body.
pub fn start() {
    yew::Renderer::<App>::new().render();
}
