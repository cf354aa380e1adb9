//! The stage of the call: screen shares, our own tile and everyone else's, laid out for the
//! window.

use crate::components::{LocalTile, PeerTile, ScreenTile, TileGrid};
use crate::hooks::{Command, LocalMedia, MeetingHandle, ScreenShareHandle};
use crate::i18n::Strings;
use crate::state::{layout, Action, Layout, LayoutInput, Panel, RemotePeer, RoomState};
use meshmeet_protocol::{MediaState, PeerId};
use yew::prelude::*;

/// Height taken by the header, banners' usual share and the control bar, in CSS pixels: what
/// is left of the window's height is for tiles.
const CHROME_HEIGHT_PX: f64 = 176.0;
/// The page's content width limit and side padding (`main` in app.css).
const MAIN_MAX_WIDTH_PX: f64 = 1200.0;
const MAIN_PADDING_PX: f64 = 32.0;
/// A side panel's width and gap, beside the tiles from 800 px up (below them on phones).
const SIDE_PANEL_PX: f64 = 296.0;
const SIDE_BESIDE_FROM_PX: f64 = 800.0;

/// The width the tiles can use.
fn tile_area_width(window_width: f64, side_open: bool) -> f64 {
    let mut width = window_width.min(MAIN_MAX_WIDTH_PX) - MAIN_PADDING_PX;
    if side_open && window_width >= SIDE_BESIDE_FROM_PX {
        width -= SIDE_PANEL_PX;
    }
    width.max(120.0)
}

/// What the stage is drawn from.
pub(super) struct StageInput<'a> {
    pub(super) strings: &'a Strings,
    pub(super) state: &'a RoomState,
    pub(super) meeting: &'a MeetingHandle,
    pub(super) local: &'a LocalMedia,
    pub(super) share: &'a ScreenShareHandle,
    /// What we send.
    pub(super) sending: MediaState,
    /// Our display name.
    pub(super) name: &'a AttrValue,
    /// How the tiles are laid out ([`stage_layout`], which the page also sizes the SFU's
    /// camera layers by).
    pub(super) layout: &'a Layout,
}

/// How the tiles are laid out now: `sharing` is whether we share a screen ourselves.
pub(super) fn stage_layout(state: &RoomState, sharing: bool, viewport: (f64, f64)) -> Layout {
    let peer_ids: Vec<PeerId> = state.peers.iter().map(|p| p.info.id.clone()).collect();
    let screen_shared = sharing || state.peers.iter().any(|p| p.info.media.screen);
    layout(&LayoutInput {
        mode: state.view,
        peers: &peer_ids,
        pinned: state.pinned.as_ref(),
        speaker: state.speaker.as_ref(),
        screen_shared,
        self_minimised: state.self_minimised,
        width: tile_area_width(viewport.0, state.panel.is_some()),
        height: (viewport.1 - CHROME_HEIGHT_PX).max(120.0),
    })
}

/// The grid of tiles.
pub(super) fn tile_grid(input: &StageInput<'_>) -> Html {
    let StageInput {
        strings: s,
        state,
        meeting,
        local,
        share,
        sending,
        name,
        layout,
    } = *input;
    let mut screens: Vec<Html> = Vec::new();
    if sending.screen {
        screens.push(html! {
            <ScreenTile key="local-screen" name={name.clone()} stream={share.preview.clone()} />
        });
    }
    for peer in state.peers.iter().filter(|p| p.info.media.screen) {
        let id = peer.info.id.to_string();
        screens.push(html! {
            <ScreenTile key={format!("screen-{id}")} name={peer.info.name.clone()}
                peer_id={id.clone()} stream={meeting.streams.screen.get(&peer.info.id).cloned()} />
        });
    }
    let local_tile = html! {
        <LocalTile stream={local.preview.clone()} name={name.clone()}
            mic_on={sending.mic} camera_on={sending.camera}
            minimised={state.self_minimised}
            reaction={state.self_id.as_ref().and_then(|me| state.reaction_of(me))}
            on_toggle_minimised={let d = meeting.state.dispatcher(); Callback::from(move |()| d.dispatch(Action::ToggleSelfView))} />
    };
    let peer_tiles: Vec<(PeerId, Html)> = state.peers.iter().map(|peer| {
        let id = peer.info.id.clone();
        // The tile shows how its media reaches us, which in an SFU room is not only its link.
        let shown = RemotePeer { connection: state.media_connection(peer), ..peer.clone() };
        let tile = html! {
            <PeerTile key={id.to_string()} peer={shown}
                quality={meeting.stats.quality(&id)}
                audio_only={state.audio_only}
                pinned={state.pinned.as_ref() == Some(&id)}
                reaction={state.reaction_of(&id)}
                on_pin={let (d, id) = (meeting.state.dispatcher(), id.clone()); Callback::from(move |()| d.dispatch(Action::TogglePin(id.clone())))}
                on_stats={let (d, panel) = (meeting.state.dispatcher(), Panel::Stats(id.clone())); Callback::from(move |()| d.dispatch(Action::TogglePanel(panel.clone())))}
                on_visible={let (c, id) = (meeting.command.clone(), id.clone());
                    Callback::from(move |visible| c.emit(Command::VideoWanted(id.clone(), visible)))}
                stream={meeting.streams.camera.get(&id).cloned()}
                sink_id={local.speaker_id.clone()} />
        };
        (id, tile)
    }).collect();
    html! {
        <TileGrid layout={layout.clone()} local={local_tile} self_minimised={state.self_minimised}
            peers={peer_tiles} screens={screens} label={s.video_grid} topology={state.topology} />
    }
}
