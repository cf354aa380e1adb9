//! Where the tiles go: grid or speaker view, a pinned tile, a shared screen on the stage, and
//! how many columns fit the screen. Pure, so every layout decision is tested natively.

use meshmeet_protocol::{CameraLayer, PeerId, SimulcastLayer};

/// Gap between tiles, in CSS pixels (keep in step with `.grid { gap }` in app.css).
pub const TILE_GAP_PX: f64 = 12.0;

/// Widest a tile of the strip beside the stage is, in CSS pixels (keep in step with
/// `.grid.strip .tile` in app.css).
pub const STRIP_TILE_PX: f64 = 220.0;

/// Widths of the simulcast layers of the standard camera (640x360: a quarter, half, all),
/// in pixels, lowest first.
const LAYER_WIDTHS: [(SimulcastLayer, f64); 2] = [
    (SimulcastLayer::Low, 160.0),
    (SimulcastLayer::Medium, 320.0),
];

/// How the call is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ViewMode {
    /// Everyone the same size.
    #[default]
    Grid,
    /// One person large (whoever speaks, or the pinned one), the others in a strip.
    Speaker,
}

/// What the layout is decided from.
#[derive(Clone, Debug, PartialEq)]
pub struct LayoutInput<'a> {
    /// The chosen view.
    pub mode: ViewMode,
    /// The others, in roster order.
    pub peers: &'a [PeerId],
    /// The tile the person pinned, if any.
    pub pinned: Option<&'a PeerId>,
    /// Who spoke last, if known.
    pub speaker: Option<&'a PeerId>,
    /// Someone (or we) shares a screen.
    pub screen_shared: bool,
    /// Own tile minimised to a small corner preview (not part of the grid).
    pub self_minimised: bool,
    /// Space for the tiles, in CSS pixels.
    pub width: f64,
    /// Height of that space.
    pub height: f64,
}

/// What takes the large area.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Nothing: every tile in the grid.
    Grid,
    /// The shared screen(s).
    Screen,
    /// This participant's tile.
    Peer(PeerId),
}

/// The decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// What the large area shows; with anything but [`Stage::Grid`] the other tiles form a
    /// strip.
    pub stage: Stage,
    /// Grid columns (for [`Stage::Grid`]).
    pub columns: usize,
    /// Width of one grid tile, in CSS pixels, such that every row fits the height.
    pub tile_width: f64,
    /// Tiles are portrait (3:4) rather than landscape (16:9): a phone held upright.
    pub portrait: bool,
}

/// Decides the layout.
pub fn layout(input: &LayoutInput<'_>) -> Layout {
    let portrait = input.height > input.width;
    let stage = if input.screen_shared {
        Stage::Screen
    } else if let Some(pinned) = input.pinned.filter(|p| input.peers.contains(p)) {
        Stage::Peer(pinned.clone())
    } else if input.mode == ViewMode::Speaker && !input.peers.is_empty() {
        let speaker = input
            .speaker
            .filter(|s| input.peers.contains(s))
            .unwrap_or(&input.peers[0]);
        Stage::Peer(speaker.clone())
    } else {
        Stage::Grid
    };
    let tiles = input.peers.len() + usize::from(!input.self_minimised);
    let aspect = if portrait { 3.0 / 4.0 } else { 16.0 / 9.0 };
    let (columns, tile_width) = best_columns(tiles.max(1), input.width, input.height, aspect);
    Layout {
        stage,
        columns,
        tile_width,
        portrait,
    }
}

/// The simulcast layer each remote camera tile needs: the smallest whose width covers the
/// tile's in device pixels (the stage's tile gets the highest). Only the tiles that need
/// less than [`SimulcastLayer::High`] are listed, in the order of `peers`.
pub fn camera_layers(
    layout: &Layout,
    peers: &[PeerId],
    device_pixel_ratio: f64,
) -> Vec<CameraLayer> {
    let ratio = if device_pixel_ratio.is_finite() && device_pixel_ratio > 0.0 {
        device_pixel_ratio
    } else {
        1.0
    };
    peers
        .iter()
        .filter_map(|peer| {
            let css_width = match &layout.stage {
                Stage::Grid => layout.tile_width,
                Stage::Peer(on_stage) if on_stage == peer => return None,
                Stage::Peer(_) | Stage::Screen => STRIP_TILE_PX,
            };
            let width = css_width * ratio;
            let (layer, _) = LAYER_WIDTHS.iter().find(|(_, w)| width <= *w)?;
            Some(CameraLayer {
                peer_id: peer.clone(),
                layer: *layer,
            })
        })
        .collect()
}

/// The column count that makes `tiles` tiles of `aspect` (width / height) largest in a
/// `width` × `height` area, and that tile width.
pub fn best_columns(tiles: usize, width: f64, height: f64, aspect: f64) -> (usize, f64) {
    let mut best = (1, 0.0);
    for columns in 1..=tiles {
        let rows = tiles.div_ceil(columns);
        let by_width = (width - TILE_GAP_PX * (columns as f64 - 1.0)) / columns as f64;
        let by_height = (height - TILE_GAP_PX * (rows as f64 - 1.0)) / rows as f64 * aspect;
        let tile = by_width.min(by_height).max(0.0);
        // Strictly larger only: with a tie, fewer columns (bigger rows) read better.
        if tile > best.1 + 0.5 {
            best = (columns, tile);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<PeerId> {
        (0..n).map(|i| PeerId(format!("p{i}"))).collect()
    }

    fn grid(peers: &[PeerId], width: f64, height: f64) -> Layout {
        layout(&LayoutInput {
            mode: ViewMode::Grid,
            peers,
            pinned: None,
            speaker: None,
            screen_shared: false,
            self_minimised: false,
            width,
            height,
        })
    }

    #[test]
    fn desktop_grids_grow_columns_with_people() {
        let columns: Vec<usize> = (0..8)
            .map(|others| grid(&ids(others), 1200.0, 620.0).columns)
            .collect();
        // 1, 2, 3, 4, 5, 6, 7, 8 people on a 1200x620 area.
        assert_eq!(columns, [1, 2, 2, 2, 3, 3, 3, 3]);
    }

    #[test]
    fn a_phone_held_upright_stacks_portrait_tiles_in_at_most_two_columns() {
        let layouts: Vec<(usize, bool)> = (0..6)
            .map(|others| {
                let l = grid(&ids(others), 370.0, 640.0);
                (l.columns, l.portrait)
            })
            .collect();
        assert_eq!(
            layouts,
            [
                (1, true),
                (1, true),
                (2, true),
                (2, true),
                (2, true),
                (2, true)
            ]
        );
    }

    #[test]
    fn every_row_fits_the_height() {
        for others in 0..9 {
            for (width, height) in [(1200.0, 620.0), (370.0, 640.0), (800.0, 1000.0)] {
                let l = grid(&ids(others), width, height);
                let rows = (others + 1).div_ceil(l.columns) as f64;
                let aspect = if l.portrait { 3.0 / 4.0 } else { 16.0 / 9.0 };
                let used = rows * l.tile_width / aspect + (rows - 1.0) * TILE_GAP_PX;
                assert!(
                    used <= height + 0.01,
                    "{others} others in {width}x{height}: {used}"
                );
                let used_width =
                    l.columns as f64 * l.tile_width + (l.columns as f64 - 1.0) * TILE_GAP_PX;
                assert!(used_width <= width + 0.01);
            }
        }
    }

    #[test]
    fn a_shared_screen_takes_the_stage_over_a_pin_and_the_speaker_view() {
        let peers = ids(3);
        let l = layout(&LayoutInput {
            mode: ViewMode::Speaker,
            peers: &peers,
            pinned: Some(&peers[1]),
            speaker: Some(&peers[2]),
            screen_shared: true,
            self_minimised: false,
            width: 1200.0,
            height: 620.0,
        });
        assert_eq!(l.stage, Stage::Screen);
    }

    #[test]
    fn a_pin_wins_over_the_speaker_in_either_view() {
        let peers = ids(3);
        for mode in [ViewMode::Grid, ViewMode::Speaker] {
            let l = layout(&LayoutInput {
                mode,
                peers: &peers,
                pinned: Some(&peers[1]),
                speaker: Some(&peers[2]),
                screen_shared: false,
                self_minimised: false,
                width: 1200.0,
                height: 620.0,
            });
            assert_eq!(l.stage, Stage::Peer(peers[1].clone()));
        }
    }

    #[test]
    fn speaker_view_shows_who_spoke_last_else_the_first_peer_and_ignores_strangers() {
        let peers = ids(3);
        let stranger = PeerId("gone".into());
        let stage = |speaker: Option<&PeerId>| {
            layout(&LayoutInput {
                mode: ViewMode::Speaker,
                peers: &peers,
                pinned: Some(&stranger),
                speaker,
                screen_shared: false,
                self_minimised: false,
                width: 1200.0,
                height: 620.0,
            })
            .stage
        };
        assert_eq!(stage(Some(&peers[2])), Stage::Peer(peers[2].clone()));
        assert_eq!(stage(None), Stage::Peer(peers[0].clone()));
        assert_eq!(stage(Some(&stranger)), Stage::Peer(peers[0].clone()));
    }

    #[test]
    fn speaker_view_alone_is_a_grid_and_a_minimised_self_view_leaves_the_grid() {
        let none = ids(0);
        let alone = layout(&LayoutInput {
            mode: ViewMode::Speaker,
            peers: &none,
            pinned: None,
            speaker: None,
            screen_shared: false,
            self_minimised: false,
            width: 1200.0,
            height: 620.0,
        });
        assert_eq!(alone.stage, Stage::Grid);
        let peers = ids(1);
        let minimised = layout(&LayoutInput {
            mode: ViewMode::Grid,
            peers: &peers,
            pinned: None,
            speaker: None,
            screen_shared: false,
            self_minimised: true,
            width: 1200.0,
            height: 620.0,
        });
        assert_eq!(minimised.columns, 1, "one tile left in the grid");
    }

    #[test]
    fn camera_tiles_get_the_smallest_layer_that_covers_them_in_device_pixels() {
        let peers = ids(3);
        // Four tiles on 1200x620: about 590 CSS px wide, the highest layer.
        let large = grid(&peers, 1200.0, 620.0);
        assert!(camera_layers(&large, &peers, 1.0).is_empty());
        // Four tiles on a 600x400 area: about 290 px, half the camera; on a 2x screen the
        // same tiles need the whole picture.
        let medium = grid(&peers, 600.0, 400.0);
        let layers = camera_layers(&medium, &peers, 1.0);
        assert_eq!(layers.len(), 3);
        assert!(layers.iter().all(|l| l.layer == SimulcastLayer::Medium));
        assert!(camera_layers(&medium, &peers, 2.0).is_empty());
        let tiny = grid(&peers, 300.0, 200.0);
        let layers = camera_layers(&tiny, &peers, 1.0);
        assert!(
            layers.iter().all(|l| l.layer == SimulcastLayer::Low),
            "{layers:?}"
        );
    }

    #[test]
    fn the_stage_gets_the_highest_layer_and_the_strip_what_its_width_needs() {
        let peers = ids(3);
        let speaker = layout(&LayoutInput {
            mode: ViewMode::Speaker,
            peers: &peers,
            pinned: None,
            speaker: Some(&peers[1]),
            screen_shared: false,
            self_minimised: false,
            width: 1200.0,
            height: 620.0,
        });
        let layers = camera_layers(&speaker, &peers, 1.0);
        let medium = |peer: &PeerId| CameraLayer {
            peer_id: peer.clone(),
            layer: SimulcastLayer::Medium,
        };
        assert_eq!(layers, vec![medium(&peers[0]), medium(&peers[2])]);
        // A nonsense ratio from the browser counts as 1.
        assert_eq!(camera_layers(&speaker, &peers, f64::NAN), layers);
    }
}
