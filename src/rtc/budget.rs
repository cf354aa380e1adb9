//! The uplink budget: how much video this participant sends to each peer.
//!
//! In a mesh everyone uploads one copy of their video per peer, so the upload grows with the
//! room. A fixed budget for video (audio is never limited) is divided among the peers that
//! want video; a screen share takes the larger part of it; someone who is not speaking sends
//! less than the active speaker, which keeps everyone's download small while the speaker stays
//! sharp; and when the browser's own estimate of the available bitrate drops below the
//! budget, the estimate wins.

/// Video upload budget unless configured otherwise: 2.5 Mbit/s.
pub const DEFAULT_VIDEO_BUDGET_BPS: u32 = 2_500_000;
/// Never ask an encoder for less than this: below it video is useless and the encoder
/// would rather drop frames than scale.
pub const MIN_VIDEO_BPS: u32 = 60_000;
/// Most camera bitrate worth sending to one peer (640x360 at 24 fps looks its best here).
pub const MAX_CAMERA_BPS: u32 = 900_000;
/// Share of the budget a screen share takes while sharing.
const SCREEN_SHARE: f64 = 0.6;
/// Share of its fair part a participant who is not the active speaker uses.
const QUIET_FACTOR: f64 = 0.6;
/// Leave this much of the browser's estimate unused, for audio and retransmissions.
const ESTIMATE_HEADROOM: f64 = 0.85;

/// Reads `budget=<kbit/s>` from a page query (`?video=low&budget=600`): a person on a slow
/// uplink, or a test, can set their own video budget. Values under 100 kbit/s are refused.
pub fn budget_from_query(search: &str) -> Option<u32> {
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("budget="))
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|kbps| (100..=100_000).contains(kbps))
        .map(|kbps| kbps * 1000)
}

/// Encoder settings for one sent video stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SendParams {
    /// Whether to send at all (off toward a peer that does not want video).
    pub active: bool,
    /// `maxBitrate`, bits per second.
    pub max_bitrate_bps: u32,
    /// `scaleResolutionDownBy` (1 = as captured).
    pub scale_down: f64,
    /// `maxFramerate`.
    pub max_fps: f64,
}

impl SendParams {
    /// Sending nothing.
    pub const PAUSED: SendParams = SendParams {
        active: false,
        max_bitrate_bps: MIN_VIDEO_BPS,
        scale_down: 1.0,
        max_fps: 15.0,
    };

    /// Camera settings for a bitrate: smaller and slower pictures at low bitrates, so what
    /// arrives stays sharp instead of blocky.
    pub fn camera(bps: u32) -> SendParams {
        let (scale_down, max_fps) = match bps {
            b if b >= 500_000 => (1.0, 24.0),
            b if b >= 200_000 => (2.0, 20.0),
            _ => (4.0, 15.0),
        };
        SendParams {
            active: true,
            max_bitrate_bps: bps,
            scale_down,
            max_fps,
        }
    }

    /// Screen settings: full resolution always (text must stay legible), fewer frames.
    pub fn screen(bps: u32) -> SendParams {
        SendParams {
            active: true,
            max_bitrate_bps: bps,
            scale_down: 1.0,
            max_fps: if bps >= 1_000_000 { 15.0 } else { 5.0 },
        }
    }
}

/// The simulcast layers a camera is published in to the SFU, highest first, as
/// `(rid, scaleResolutionDownBy)`: the full picture, half and a quarter (Janus numbers them
/// 2, 1, 0; the order and names are those Janus's own client uses).
pub const SIMULCAST_LAYERS: [(&str, f64); 3] = [("h", 1.0), ("m", 2.0), ("l", 4.0)];

/// Shares of the camera's bitrate the simulcast layers take, highest first: a layer with
/// half the width has a quarter of the pixels, and the small ones need a larger share per
/// pixel to stay legible.
const SIMULCAST_SHARES: [f64; 3] = [0.74, 0.18, 0.08];

/// The encoder settings of each simulcast layer, highest first, from the settings the budget
/// gives the camera: together they stay within its bitrate; each is smaller than the one
/// above by the layer's scale; all are on or off together.
pub fn simulcast_layers(camera: SendParams) -> [SendParams; 3] {
    let layer = |(_, scale): (&str, f64), share: f64| SendParams {
        active: camera.active,
        max_bitrate_bps: ((f64::from(camera.max_bitrate_bps) * share) as u32)
            .max(MIN_VIDEO_BPS / 2),
        scale_down: camera.scale_down * scale,
        max_fps: camera.max_fps,
    };
    [
        layer(SIMULCAST_LAYERS[0], SIMULCAST_SHARES[0]),
        layer(SIMULCAST_LAYERS[1], SIMULCAST_SHARES[1]),
        layer(SIMULCAST_LAYERS[2], SIMULCAST_SHARES[2]),
    ]
}

/// What a peer wants of our video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoWanted {
    /// Our camera: its tile of us is on screen and it did not choose audio only.
    pub camera: bool,
    /// Our screen share: it did not choose audio only (a share is shown on the stage, not in
    /// the camera tile).
    pub screen: bool,
}

impl VideoWanted {
    /// Everything, until told otherwise.
    pub const ALL: VideoWanted = VideoWanted {
        camera: true,
        screen: true,
    };
}

/// What the split depends on.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetInput {
    /// The configured video budget, bits per second.
    pub budget_bps: u32,
    /// The lowest available outgoing bitrate the browser estimates over our connections.
    pub available_bps: Option<f64>,
    /// For each peer: what it wants of our video.
    pub wants: Vec<VideoWanted>,
    /// Whether we are the active speaker.
    pub speaking: bool,
    /// Whether we share a screen.
    pub sharing_screen: bool,
}

/// Per peer, in the order of [`BudgetInput::wants`]: camera and screen settings.
pub fn split_budget(input: &BudgetInput) -> Vec<(SendParams, SendParams)> {
    let wants = &input.wants;
    let receivers = wants
        .iter()
        .filter(|w| w.camera || (input.sharing_screen && w.screen))
        .count();
    let camera_receivers = wants.iter().filter(|w| w.camera).count();
    let screen_receivers = wants.iter().filter(|w| w.screen).count();
    let mut total = f64::from(input.budget_bps);
    if let Some(available) = input.available_bps {
        // The estimate is per connection; all of them share one uplink.
        let uplink = available * ESTIMATE_HEADROOM * receivers.max(1) as f64;
        total = total.min(uplink);
    }
    let (camera_total, screen_total) = if input.sharing_screen {
        (total * (1.0 - SCREEN_SHARE), total * SCREEN_SHARE)
    } else {
        (total, 0.0)
    };
    let per_peer = |part: f64, receivers: usize| (part / receivers.max(1) as f64) as u32;
    let mut camera_bps = per_peer(camera_total, camera_receivers).min(MAX_CAMERA_BPS);
    if !input.speaking {
        camera_bps = (f64::from(camera_bps) * QUIET_FACTOR) as u32;
    }
    let camera_bps = camera_bps.max(MIN_VIDEO_BPS);
    let screen_bps = per_peer(screen_total, screen_receivers).max(MIN_VIDEO_BPS);
    input
        .wants
        .iter()
        .map(|wants| {
            let camera = if wants.camera {
                SendParams::camera(camera_bps)
            } else {
                SendParams::PAUSED
            };
            let screen = if input.sharing_screen && wants.screen {
                SendParams::screen(screen_bps)
            } else {
                SendParams::PAUSED
            };
            (camera, screen)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(peers: usize) -> BudgetInput {
        BudgetInput {
            budget_bps: DEFAULT_VIDEO_BUDGET_BPS,
            available_bps: None,
            wants: vec![VideoWanted::ALL; peers],
            speaking: true,
            sharing_screen: false,
        }
    }

    fn total(split: &[(SendParams, SendParams)]) -> u32 {
        split
            .iter()
            .map(|(c, s)| {
                u32::from(c.active) * c.max_bitrate_bps + u32::from(s.active) * s.max_bitrate_bps
            })
            .sum()
    }

    #[test]
    fn the_budget_is_divided_among_peers_and_never_exceeded() {
        for peers in 1..=7 {
            let split = split_budget(&input(peers));
            assert_eq!(split.len(), peers);
            assert!(
                total(&split) <= DEFAULT_VIDEO_BUDGET_BPS,
                "{peers} peers: {}",
                total(&split)
            );
        }
        // Five peers share 2.5 Mbit/s: 500 kbit/s each, full resolution.
        let five = split_budget(&input(5));
        assert_eq!(five[0].0.max_bitrate_bps, 500_000);
        assert_eq!(five[0].0.scale_down, 1.0);
    }

    #[test]
    fn joins_lower_and_leaves_raise_each_share() {
        let two = split_budget(&input(2))[0].0.max_bitrate_bps;
        let six = split_budget(&input(6))[0].0.max_bitrate_bps;
        assert!(six < two);
        // With many peers the picture shrinks rather than turning to mush.
        let seven = split_budget(&input(7))[0].0;
        assert_eq!(seven.scale_down, 2.0);
    }

    #[test]
    fn the_active_speaker_sends_more_than_the_others() {
        let mut quiet = input(3);
        quiet.speaking = false;
        let speaking = split_budget(&input(3))[0].0.max_bitrate_bps;
        let not_speaking = split_budget(&quiet)[0].0.max_bitrate_bps;
        assert!(speaking > not_speaking, "{speaking} vs {not_speaking}");
    }

    #[test]
    fn a_screen_share_takes_the_larger_part() {
        let mut sharing = input(3);
        sharing.sharing_screen = true;
        let split = split_budget(&sharing);
        let (camera, screen) = split[0];
        assert!(screen.active && screen.max_bitrate_bps > camera.max_bitrate_bps);
        assert_eq!(screen.scale_down, 1.0, "screens keep their resolution");
        assert!(total(&split) <= DEFAULT_VIDEO_BUDGET_BPS);
    }

    #[test]
    fn peers_that_do_not_want_video_get_none_and_free_their_share() {
        let none = VideoWanted {
            camera: false,
            screen: false,
        };
        let mut some = input(4);
        some.wants = vec![VideoWanted::ALL, none, VideoWanted::ALL, none];
        let split = split_budget(&some);
        assert!(!split[1].0.active && !split[3].0.active);
        assert_eq!(
            split[0].0.max_bitrate_bps,
            split_budget(&input(2))[0].0.max_bitrate_bps
        );
    }

    #[test]
    fn a_peer_whose_camera_tile_is_off_screen_still_gets_our_screen_share() {
        let screen_only = VideoWanted {
            camera: false,
            screen: true,
        };
        let mut sharing = input(2);
        sharing.sharing_screen = true;
        sharing.wants = vec![VideoWanted::ALL, screen_only];
        let split = split_budget(&sharing);
        assert!(split[0].0.active && split[0].1.active);
        let (camera, screen) = split[1];
        assert!(!camera.active, "its camera tile is off screen");
        assert!(screen.active, "the share on its stage goes on");
        assert_eq!(screen.max_bitrate_bps, split[0].1.max_bitrate_bps);
        // The camera budget is shared by the one peer that wants the camera.
        let mut alone = input(1);
        alone.sharing_screen = true;
        assert_eq!(
            split[0].0.max_bitrate_bps,
            split_budget(&alone)[0].0.max_bitrate_bps
        );
    }

    #[test]
    fn the_budget_can_come_from_the_page_query() {
        assert_eq!(budget_from_query("?video=low&budget=600"), Some(600_000));
        assert_eq!(budget_from_query("?budget=50"), None);
        assert_eq!(budget_from_query("?budget=abc"), None);
        assert_eq!(budget_from_query(""), None);
    }

    #[test]
    fn a_low_bandwidth_estimate_wins_over_the_budget() {
        let mut squeezed = input(2);
        squeezed.available_bps = Some(300_000.0);
        let split = split_budget(&squeezed);
        assert!(split[0].0.max_bitrate_bps <= 255_000);
        assert!(split[0].0.max_bitrate_bps >= MIN_VIDEO_BPS);
    }

    #[test]
    fn simulcast_layers_halve_the_picture_and_share_the_cameras_bitrate() {
        let camera = SendParams::camera(900_000);
        let layers = simulcast_layers(camera);
        let scales: Vec<f64> = layers.iter().map(|l| l.scale_down).collect();
        assert_eq!(scales, [1.0, 2.0, 4.0]);
        let total: u32 = layers.iter().map(|l| l.max_bitrate_bps).sum();
        assert!(total <= 900_000 && total > 850_000, "{total}");
        assert!(layers[0].max_bitrate_bps > layers[1].max_bitrate_bps);
        assert!(layers[1].max_bitrate_bps > layers[2].max_bitrate_bps);
        // A camera the budget already scales down is scaled further per layer.
        let small = simulcast_layers(SendParams::camera(150_000));
        assert_eq!(small.map(|l| l.scale_down), [4.0, 8.0, 16.0]);
        assert!(small.iter().all(|l| l.max_bitrate_bps >= MIN_VIDEO_BPS / 2));
        assert!(simulcast_layers(SendParams::PAUSED)
            .iter()
            .all(|l| !l.active));
    }
}
