//! The tile of one remote participant: video, name, marks and connection state.

use super::{Icon, VideoView};
use crate::hooks::{use_audio_level, use_visible, SPEAKING_LEVEL};
use crate::i18n::use_strings;
use crate::rtc::{ConnectionStatus, Quality};
use crate::state::RemotePeer;
use web_sys::MediaStream;
use yew::prelude::*;

/// Props of [`PeerTile`].
#[derive(Properties, PartialEq)]
pub struct PeerTileProps {
    /// Who.
    pub peer: RemotePeer,
    /// Their media, once it arrives.
    pub stream: Option<MediaStream>,
    /// Speaker to play their sound on.
    #[prop_or_default]
    pub sink_id: Option<String>,
    /// How the connection is doing (`None` before it was measured).
    #[prop_or_default]
    pub quality: Option<Quality>,
    /// Open the connection details.
    #[prop_or_default]
    pub on_stats: Callback<()>,
    /// The tile came on screen (`true`) or left it.
    #[prop_or_default]
    pub on_visible: Callback<bool>,
    /// We receive audio only: show the avatar instead of video.
    #[prop_or_default]
    pub audio_only: bool,
    /// Pinned to the stage.
    #[prop_or_default]
    pub pinned: bool,
    /// Pin or unpin.
    #[prop_or_default]
    pub on_pin: Callback<()>,
    /// Their reaction floating over the tile, for a moment.
    #[prop_or_default]
    pub reaction: Option<meshmeet_protocol::Reaction>,
}

/// One remote participant.
#[function_component(PeerTile)]
pub fn peer_tile(props: &PeerTileProps) -> Html {
    let s = use_strings();
    let sound_blocked = use_state(|| false);
    let level = use_audio_level(props.stream.clone());
    let node = use_node_ref();
    use_visible(node.clone(), props.on_visible.clone());
    let info = &props.peer.info;
    let speaking = info.media.mic && level > SPEAKING_LEVEL;
    let on_off = |on: bool| if on { "on" } else { "off" };
    let status = props.peer.connection;
    let status_text = match status {
        ConnectionStatus::Connecting => s.conn_connecting,
        ConnectionStatus::Connected => s.conn_connected,
        ConnectionStatus::Reconnecting => s.conn_reconnecting,
        ConnectionStatus::Failed | ConnectionStatus::Closed => s.conn_failed,
    };
    let pin_label = if props.pinned { s.unpin } else { s.pin };
    let full_screen = {
        let node = node.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(element) = node.cast::<web_sys::Element>() {
                // Refused outside a user gesture or by policy: the tile just stays as it is.
                let _ = element.request_fullscreen();
            }
        })
    };
    let enable_sound = {
        let sound_blocked = sound_blocked.clone();
        Callback::from(move |_| sound_blocked.set(false))
    };
    let show_video = info.media.camera && !props.audio_only;
    let class = classes!(
        "tile",
        speaking.then_some("speaking"),
        (!show_video).then_some("camera-off"),
        props.pinned.then_some("pinned")
    );
    html! {
        <figure ref={node} {class} data-testid="peer-tile"
            data-peer-id={info.id.to_string()}
            data-peer-name={info.name.clone()}
            data-mic={on_off(info.media.mic)}
            data-camera={on_off(info.media.camera)}
            data-connection={status.as_attr()}
            data-speaking={on_off(speaking)}>
            <VideoView stream={props.stream.clone()} muted={*sound_blocked}
                label={info.name.clone()} sink_id={props.sink_id.clone()}
                on_sound_blocked={let b = sound_blocked.clone(); Callback::from(move |()| b.set(true))} />
            if !show_video {
                <div class="avatar" aria-hidden="true">{ initial(&info.name) }</div>
            }
            <figcaption class="tile-caption">
                { quality_mark(s, props.quality) }
                <span class="tile-name">{ &info.name }</span>
                if !info.media.mic {
                    <span class="mark" role="img" aria-label={s.mic_off} title={s.mic_off}>{ Icon::MicOff.html() }</span>
                }
                if !info.media.camera {
                    <span class="mark" role="img" aria-label={s.camera_off} title={s.camera_off}>{ Icon::CameraOff.html() }</span>
                }
            </figcaption>
            { super::reactions::tile_reaction(s, props.reaction) }
            if status != ConnectionStatus::Connected {
                <div class={classes!("conn", status.as_attr())} role="status">{ status_text }</div>
            }
            <div class="tile-buttons">
                <button class="tile-button" data-testid="pin-toggle" aria-pressed={props.pinned.to_string()}
                    aria-label={format!("{}: {}", pin_label, info.name)} title={pin_label}
                    onclick={let cb = props.on_pin.clone(); Callback::from(move |_| cb.emit(()))}>
                    { Icon::Pin.html() }
                </button>
                <button class="tile-button" data-testid="fullscreen-button"
                    aria-label={format!("{}: {}", s.full_screen, info.name)} title={s.full_screen}
                    onclick={full_screen}>
                    { Icon::Expand.html() }
                </button>
            </div>
            <button class="tile-stats" data-testid="stats-toggle" aria-label={format!("{}: {}", s.show_stats, info.name)}
                title={s.show_stats} onclick={let cb = props.on_stats.clone(); Callback::from(move |_| cb.emit(()))}>
                { Icon::Info.html() }
            </button>
            if *sound_blocked {
                <button class="enable-sound" onclick={enable_sound}>{ s.enable_sound }</button>
            }
        </figure>
    }
}

fn quality_mark(s: &crate::i18n::Strings, quality: Option<Quality>) -> Html {
    let (attr, word) = match quality {
        None => ("unknown", s.measuring),
        Some(Quality::Good) => ("good", s.quality_good),
        Some(Quality::Fair) => ("fair", s.quality_fair),
        Some(Quality::Poor) => ("poor", s.quality_poor),
    };
    let label = format!("{}: {word}", s.connection_quality);
    html! {
        <span class="quality" data-testid="quality" data-quality={attr} role="img"
            aria-label={label.clone()} title={label} />
    }
}

/// The first letter of a name, for the camera-off avatar.
pub fn initial(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default()
}
