//! A shared screen, shown large.

use super::VideoView;
use crate::i18n::use_strings;
use web_sys::MediaStream;
use yew::prelude::*;

/// Props of [`ScreenTile`].
#[derive(Properties, PartialEq)]
pub struct ScreenTileProps {
    /// Who shares it.
    pub name: AttrValue,
    /// Their peer id (`None` for our own share).
    #[prop_or_default]
    pub peer_id: Option<AttrValue>,
    /// The screen video.
    pub stream: Option<MediaStream>,
}

/// One shared screen.
#[function_component(ScreenTile)]
pub fn screen_tile(props: &ScreenTileProps) -> Html {
    let s = use_strings();
    let label = format!("{} — {}", props.name, s.screen_of);
    html! {
        <figure class="tile screen" data-testid="screen-tile"
            data-peer-id={props.peer_id.clone()} data-peer-name={props.name.clone()}
            data-local={props.peer_id.is_none().to_string()}>
            <VideoView stream={props.stream.clone()} muted=true label={label.clone()} />
            <figcaption class="tile-caption"><span class="tile-name">{ label }</span></figcaption>
        </figure>
    }
}
