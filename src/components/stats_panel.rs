//! The figures of one peer connection, with a one-minute graph of bitrate and round trip.

use crate::decimal::fixed;
use crate::i18n::use_strings;
use crate::state::{PeerFigures, Point};
use yew::prelude::*;

/// Props of [`StatsPanel`].
#[derive(Properties, PartialEq)]
pub struct StatsPanelProps {
    /// The peer's id.
    pub peer_id: AttrValue,
    /// The peer's name.
    pub name: AttrValue,
    /// What is known so far (`None` before the first measurement).
    pub figures: Option<PeerFigures>,
}

fn kbps(bps: f64) -> String {
    format!("{} kbit/s", fixed(bps / 1000.0, 0))
}

fn size(size: Option<(u32, u32)>) -> String {
    size.map_or("–".into(), |(w, h)| format!("{w}×{h}"))
}

fn opt(value: Option<f64>, unit: &str) -> String {
    value.map_or("–".into(), |v| format!("{} {unit}", fixed(v, 0)))
}

/// An SVG polyline of `values` scaled into a `width`×`height` box.
fn polyline(values: &[f64], width: f64, height: f64) -> String {
    let max = values.iter().copied().fold(1.0, f64::max);
    let step = width / (crate::state::HISTORY_SAMPLES.max(2) - 1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{},{}",
                fixed(i as f64 * step, 1),
                fixed(height - v / max * (height - 2.0) - 1.0, 1)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Connection details of one peer.
#[function_component(StatsPanel)]
pub fn stats_panel(props: &StatsPanelProps) -> Html {
    let s = use_strings();
    let Some(figures) = &props.figures else {
        return html! {
            <section class="stats" data-testid="stats-panel" data-peer-id={props.peer_id.clone()}>
                <h2>{ format!("{} {}", s.stats_title, props.name) }</h2>
                <p>{ s.measuring }</p>
            </section>
        };
    };
    let f = &figures.latest;
    let (local, remote) = f.pair.clone().unwrap_or_default();
    let history: Vec<Point> = figures.history.iter().copied().collect();
    let bitrate_line = polyline(
        &history.iter().map(|p| p.video_bps).collect::<Vec<_>>(),
        240.0,
        60.0,
    );
    let rtt_line = polyline(
        &history.iter().map(|p| p.rtt_ms).collect::<Vec<_>>(),
        240.0,
        60.0,
    );
    let row = |label: &str, sent: String, received: String| {
        html! {
            <tr><th scope="row">{ label.to_owned() }</th><td>{ sent }</td><td>{ received }</td></tr>
        }
    };
    let percent = |loss: f64| format!("{} %", fixed(loss * 100.0, 1));
    html! {
        <section class="stats" data-testid="stats-panel" data-peer-id={props.peer_id.clone()}
            data-quality={f.quality.as_attr()}
            data-out-video-bps={fixed(f.out_video_bps, 0)}
            data-in-video-bps={fixed(f.in_video_bps, 0)}
            data-out-audio-bps={fixed(f.out_audio_bps, 0)}
            data-in-audio-bps={fixed(f.in_audio_bps, 0)}
            data-in-loss={fixed(f.in_loss, 4)} data-out-loss={fixed(f.out_loss, 4)}
            data-jitter-ms={f.jitter_ms.map(|j| fixed(j, 1))}
            data-rtt-ms={f.rtt_ms.map(|r| fixed(r, 1))}
            data-out-fps={f.out_fps.map(|v| fixed(v, 0))} data-in-fps={f.in_fps.map(|v| fixed(v, 0))}
            data-out-resolution={size(f.out_size)} data-in-resolution={size(f.in_size)}
            data-limitation={f.limitation.clone()}
            data-available-out-bps={f.available_out_bps.map(|v| fixed(v, 0))}
            data-local-candidate-type={local.kind.clone()} data-remote-candidate-type={remote.kind.clone()}
            data-local-address={local.address.clone()} data-remote-address={remote.address.clone()}>
            <h2>{ format!("{} {}", s.stats_title, props.name) }</h2>
            <svg class="graph" viewBox="0 0 240 60" role="img" aria-label={s.graph_label}>
                <polyline class="bitrate" points={bitrate_line} />
                <polyline class="rtt" points={rtt_line} />
            </svg>
            <p class="legend"><span class="bitrate">{ s.bitrate }</span>{ " · " }<span class="rtt">{ s.rtt }</span></p>
            <table>
                <thead><tr><th /><th scope="col">{ s.sent }</th><th scope="col">{ s.received }</th></tr></thead>
                <tbody>
                    { row(s.bitrate, kbps(f.out_video_bps + f.out_audio_bps), kbps(f.in_video_bps + f.in_audio_bps)) }
                    { row(s.loss, percent(f.out_loss), percent(f.in_loss)) }
                    { row(s.frame_rate, opt(f.out_fps, "fps"), opt(f.in_fps, "fps")) }
                    { row(s.resolution, size(f.out_size), size(f.in_size)) }
                    { row(s.jitter, "–".into(), opt(f.jitter_ms, "ms")) }
                </tbody>
            </table>
            <p>{ format!("{}: {}", s.rtt, opt(f.rtt_ms, "ms")) }</p>
            if let Some(reason) = &f.limitation {
                <p>{ format!("{}: {reason}", s.limited_by) }</p>
            }
            <p>{ format!("{}: {} {}:{} ⇄ {} {}:{}", s.route, local.kind, local.address, local.port,
                remote.kind, remote.address, remote.port) }</p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::polyline;

    #[test]
    fn graph_points_fit_the_box() {
        let line = polyline(&[0.0, 50.0, 100.0], 240.0, 60.0);
        let points: Vec<(f64, f64)> = line
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').expect("x,y");
                (x.parse().expect("x"), y.parse().expect("y"))
            })
            .collect();
        assert_eq!(points.len(), 3);
        assert!(points
            .iter()
            .all(|(x, y)| (0.0..=240.0).contains(x) && (0.0..=60.0).contains(y)));
        // Larger values are higher up (smaller y).
        assert!(points[2].1 < points[0].1);
    }
}
