//! The participant's own tile: mirrored preview, never played back.

use super::{Icon, VideoView};
use crate::hooks::{use_audio_level, SPEAKING_LEVEL};
use crate::i18n::use_strings;
use web_sys::MediaStream;
use yew::prelude::*;

/// Props of [`LocalTile`].
#[derive(Properties, PartialEq)]
pub struct LocalTileProps {
    /// Own camera and microphone.
    pub stream: Option<MediaStream>,
    /// Own display name.
    pub name: AttrValue,
    /// Microphone unmuted.
    pub mic_on: bool,
    /// Camera on.
    pub camera_on: bool,
    /// Shown small in a corner.
    #[prop_or_default]
    pub minimised: bool,
    /// Minimise or restore.
    #[prop_or_default]
    pub on_toggle_minimised: Callback<()>,
    /// Our reaction floating over the tile, for a moment.
    #[prop_or_default]
    pub reaction: Option<meshmeet_protocol::Reaction>,
}

/// Own tile.
#[function_component(LocalTile)]
pub fn local_tile(props: &LocalTileProps) -> Html {
    let s = use_strings();
    let level = use_audio_level(props.stream.clone());
    let speaking = props.mic_on && level > SPEAKING_LEVEL;
    let on_off = |on: bool| if on { "on" } else { "off" };
    let class = classes!(
        "tile",
        "local",
        speaking.then_some("speaking"),
        (!props.camera_on).then_some("camera-off"),
        props.minimised.then_some("minimised")
    );
    let toggle_label = if props.minimised {
        s.restore_self
    } else {
        s.minimise_self
    };
    let toggle = props.on_toggle_minimised.clone();
    html! {
        <figure {class} data-testid="local-tile"
            data-mic={on_off(props.mic_on)} data-camera={on_off(props.camera_on)}>
            <VideoView stream={props.stream.clone()} muted=true mirrored=true label={s.camera_preview} />
            if !props.camera_on {
                <div class="avatar" aria-hidden="true">{ super::peer_tile::initial(&props.name) }</div>
            }
            <figcaption class="tile-caption">
                <span class="tile-name">{ format!("{} ({})", props.name, s.you) }</span>
                if !props.mic_on {
                    <span class="mark" role="img" aria-label={s.mic_off} title={s.mic_off}>{ Icon::MicOff.html() }</span>
                }
            </figcaption>
            { super::reactions::tile_reaction(s, props.reaction) }
            <button class="tile-button minimise" data-testid="self-view-toggle"
                aria-label={toggle_label} title={toggle_label} aria-pressed={props.minimised.to_string()}
                onclick={Callback::from(move |_| toggle.emit(()))}>
                { if props.minimised { Icon::Expand.html() } else { Icon::Minimise.html() } }
            </button>
        </figure>
    }
}
