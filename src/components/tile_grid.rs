//! Places the tiles the layout decided: a grid sized to the screen, or a stage (a shared
//! screen or one person) with the other tiles in a strip; the own tile may sit minimised in
//! a corner instead.

use crate::decimal::fixed;
use crate::state::{Layout, Stage, TILE_GAP_PX};
use meshmeet_protocol::{MediaMode, PeerId};
use yew::prelude::*;

/// Props of [`TileGrid`].
#[derive(Properties, PartialEq)]
pub struct TileGridProps {
    /// Where things go.
    pub layout: Layout,
    /// The own tile.
    pub local: Html,
    /// The own tile is minimised.
    pub self_minimised: bool,
    /// Remote tiles, in roster order.
    pub peers: Vec<(PeerId, Html)>,
    /// Shared screens.
    pub screens: Vec<Html>,
    /// Accessible name of the tile area.
    pub label: AttrValue,
    /// How media travels (`data-topology`, for automation and support).
    pub topology: MediaMode,
}

/// The tiles of the call.
#[function_component(TileGrid)]
pub fn tile_grid(props: &TileGridProps) -> Html {
    let layout = &props.layout;
    let local = (!props.self_minimised).then(|| props.local.clone());
    let minimised = props
        .self_minimised
        .then(|| html! { <div class="self-mini">{ props.local.clone() }</div> });
    let orientation = layout.portrait.then_some("portrait");
    let topology = match props.topology {
        MediaMode::Mesh => "mesh",
        MediaMode::Sfu => "sfu",
    };
    let body = match &layout.stage {
        Stage::Grid => {
            let width = layout.columns as f64 * layout.tile_width
                + (layout.columns as f64 - 1.0) * TILE_GAP_PX;
            let style = format!(
                "grid-template-columns: repeat({}, minmax(0, 1fr)); max-width: {}px",
                layout.columns,
                fixed(width, 0)
            );
            html! {
                <section class={classes!("grid", orientation)} {style} aria-label={props.label.clone()}
                    data-testid="tile-grid" data-layout="grid" data-columns={layout.columns.to_string()}
                    data-topology={topology}>
                    { for local }
                    { for props.peers.iter().map(|(_, tile)| tile.clone()) }
                </section>
            }
        }
        Stage::Screen => html! {
            <div class="staged" data-testid="tile-grid" data-layout="screen" data-topology={topology}>
                <section class="screens">{ for props.screens.iter().cloned() }</section>
                <section class="grid strip" aria-label={props.label.clone()}>
                    { for local }
                    { for props.peers.iter().map(|(_, tile)| tile.clone()) }
                </section>
            </div>
        },
        Stage::Peer(on_stage) => html! {
            <div class="staged" data-testid="tile-grid" data-layout="speaker" data-topology={topology}>
                <section class="speaker">
                    { for props.peers.iter().filter(|(id, _)| id == on_stage).map(|(_, tile)| tile.clone()) }
                </section>
                <section class="grid strip" aria-label={props.label.clone()}>
                    { for local }
                    { for props.peers.iter().filter(|(id, _)| id != on_stage).map(|(_, tile)| tile.clone()) }
                </section>
            </div>
        },
    };
    html! { <>{ body }{ for minimised }</> }
}
