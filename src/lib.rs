//! The meshmeet browser client: a Yew single-page app.

use yew::prelude::*;

/// The root component.
#[function_component(App)]
pub fn app() -> Html {
    html! { <main data-testid="app"><h1>{ "meshmeet" }</h1></main> }
}

/// Mounts the app on the document body.
pub fn start() {
    yew::Renderer::<App>::new().render();
}
