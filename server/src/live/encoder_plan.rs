//! What the live's ffmpeg does, as its SDP file and arguments: it reads each stage member's
//! forwarded RTP, puts their pictures side by side (one to four) and mixes their sound,
//! then encodes that once for RTMP and HLS (H.264 and AAC, through `tee`) and, for a stage
//! of several, once more for the WebRTC audience (VP8 and Opus RTP back to the relay, which
//! copies it into the live's mountpoints). Pure: no process, no socket.

use std::path::Path;

use meshmeet_protocol::LiveOutputs;

use super::bridge::StageVideo;

/// Payload type of a member's Opus as forwarded to ffmpeg, and of the composite's.
pub const AUDIO_PT: u8 = 111;
/// Payload type of a member's video as forwarded to ffmpeg, and of the composite's.
pub const VIDEO_PT: u8 = 96;
/// The picture every output gets: platforms expect one fixed size, and the stage's own
/// changes with its camera and the network.
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
const FPS: u32 = 25;
/// HLS segment length, in seconds (a key frame starts each).
pub const HLS_SEGMENT_SECS: u32 = 2;
/// The playlist's window: the segments older than it are deleted.
const HLS_LIST_SIZE: u32 = 6;
/// The playlist's file name.
pub const PLAYLIST: &str = "index.m3u8";
/// Largest RTP packet ffmpeg sends the audience's composite in: what Janus relays to
/// browsers must fit a path's MTU with SRTP's and the tunnels' overhead.
const AUDIENCE_PACKET: u32 = 1200;

/// One member of the stage as the encoder reads it: what it sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageInput {
    /// Its camera's codec, if it sends a picture.
    pub video: Option<StageVideo>,
    /// Whether it sends sound.
    pub audio: bool,
}

/// Loopback ports ffmpeg reads one member's RTP on; RTCP is on the next port of each (key
/// frame requests go back to Janus's forwarder from there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncoderPorts {
    /// Opus, payload type [`AUDIO_PT`].
    pub audio: u16,
    /// Video, payload type [`VIDEO_PT`].
    pub video: u16,
}

/// Where ffmpeg sends the composite for the WebRTC audience: the relay's loopback sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AudiencePorts {
    /// Opus, payload type [`AUDIO_PT`].
    pub audio: u16,
    /// VP8, payload type [`VIDEO_PT`].
    pub video: u16,
}

/// Everything one encoder is started for: another plan starts another encoder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncoderPlan {
    /// The stage's members, in the stage's order (the picture's, left to right, top to
    /// bottom), each on the ports of the same index.
    pub inputs: Vec<StageInput>,
    /// RTMP and HLS (may be empty when the encoder only makes the audience's composite).
    pub outputs: LiveOutputs,
    /// The loopback ports of the RTMP addresses' pushes ([`super::rtmp_push`]), one per
    /// address: the encoder sends each the stream as MPEG-TS, and never an address itself.
    pub pushes: Vec<u16>,
    /// Where the composite for the WebRTC audience goes, for a stage of several.
    pub audience: Option<AudiencePorts>,
}

/// The SDP ffmpeg reads: each member's forwarded Opus and video on its `ports`, video with
/// feedback (`AVPF`) so ffmpeg asks for a key frame (RTCP PLI) when it has none to start
/// from. Members' streams come in the stage's order, sound before picture.
pub fn stage_sdp(inputs: &[StageInput], ports: &[EncoderPorts]) -> String {
    let mut sdp = String::from(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=meshmeet live\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n",
    );
    for (input, ports) in inputs.iter().zip(ports) {
        if input.audio {
            sdp.push_str(&format!(
                "m=audio {} RTP/AVP {AUDIO_PT}\r\na=rtpmap:{AUDIO_PT} opus/48000/2\r\n",
                ports.audio
            ));
        }
        let codec = match input.video {
            None => continue,
            Some(StageVideo::Vp8) => format!("a=rtpmap:{VIDEO_PT} VP8/90000\r\n"),
            Some(StageVideo::H264) => format!(
                "a=rtpmap:{VIDEO_PT} H264/90000\r\na=fmtp:{VIDEO_PT} packetization-mode=1\r\n"
            ),
        };
        sdp.push_str(&format!(
            "m=video {} RTP/AVPF {VIDEO_PT}\r\n{codec}a=rtcp-fb:{VIDEO_PT} nack pli\r\n",
            ports.video
        ));
    }
    sdp
}

/// Columns and rows of the picture for `tiles` members with a camera: one fills it, two
/// stand side by side, three and four share a two-by-two grid.
fn grid(tiles: usize) -> (u32, u32) {
    match tiles {
        0 | 1 => (1, 1),
        2 => (2, 1),
        _ => (2, 2),
    }
}

/// ffmpeg's arguments for run number `attempt`: read `sdp`, composite, encode once per kind
/// of output. Each run names its HLS segments apart and appends to the playlist, marking
/// the break, so players go on across a restart.
pub fn ffmpeg_args(sdp: &Path, dir: &Path, plan: &EncoderPlan, attempt: u32) -> Vec<String> {
    let mut args = strings(&[
        "-hide_banner",
        "-loglevel",
        "warning",
        "-protocol_whitelist",
        "file,udp,rtp",
        // RTCP (the key frame requests) goes back to where Janus's RTCP comes from.
        "-sdp_flags",
        "rtcp_to_source",
        // Its sockets on loopback only: nobody else can send it media.
        "-localaddr",
        "127.0.0.1",
        "-i",
    ]);
    args.push(sdp.display().to_string());
    let (graph, extra_inputs) = filter_graph(plan);
    args.extend(extra_inputs);
    args.push("-filter_complex".into());
    args.push(graph);
    if !plan.outputs.is_empty() {
        args.extend(broadcast_output(dir, plan, attempt));
    }
    if let Some(ports) = plan.audience {
        args.extend(audience_output(ports));
    }
    args
}

/// The filter graph (`[hls_v]`/`[hls_a]` for RTMP and HLS, `[web_v]`/`[web_a]` for the
/// audience's composite) and the inputs it needs besides the SDP (a black picture for a
/// stage without cameras, silence for one without microphones).
fn filter_graph(plan: &EncoderPlan) -> (String, Vec<String>) {
    let mut extra = Vec::new();
    let mut next_input = 1;
    let mut graph = Vec::new();
    let several = plan.inputs.len() > 1;
    // Several members start at different moments: each picture and sound is counted from
    // its own start, so none holds the others back.
    let (vpts, apts) = if several {
        (",setpts=PTS-STARTPTS", "asetpts=PTS-STARTPTS,")
    } else {
        ("", "")
    };

    let cameras = plan.inputs.iter().filter(|i| i.video.is_some()).count();
    let pictures: Vec<String> = if cameras == 0 {
        extra.extend(strings(&["-f", "lavfi", "-i"]));
        extra.push(format!("color=c=black:s={WIDTH}x{HEIGHT}:r={FPS}"));
        next_input += 1;
        vec![format!("{}:v", next_input - 1)]
    } else {
        (0..cameras).map(|k| format!("0:v:{k}")).collect()
    };
    let (cols, rows) = grid(pictures.len());
    let (cell_w, cell_h) = (WIDTH / cols, HEIGHT / rows);
    for (k, picture) in pictures.iter().enumerate() {
        graph.push(format!(
            "[{picture}]scale={cell_w}:{cell_h}:force_original_aspect_ratio=decrease,\
             pad={cell_w}:{cell_h}:(ow-iw)/2:(oh-ih)/2,fps={FPS}{vpts}[v{k}]"
        ));
    }
    if pictures.len() == 1 {
        graph.push("[v0]format=yuv420p[picture]".into());
    } else {
        let tiles: String = (0..pictures.len()).map(|k| format!("[v{k}]")).collect();
        let layout: Vec<String> = (0..pictures.len() as u32)
            .map(|k| format!("{}_{}", (k % cols) * cell_w, (k / cols) * cell_h))
            .collect();
        graph.push(format!(
            "{tiles}xstack=inputs={}:layout={}:fill=black,format=yuv420p[picture]",
            pictures.len(),
            layout.join("|")
        ));
    }

    let microphones = plan.inputs.iter().filter(|i| i.audio).count();
    if microphones == 0 {
        // RTMP and HLS players expect a sound track: silence.
        extra.extend(strings(&[
            "-f",
            "lavfi",
            "-i",
            "anullsrc=r=48000:cl=stereo",
        ]));
        graph.push(format!("[{next_input}:a]anull[sound]"));
    } else if microphones == 1 {
        graph.push(format!("[0:a:0]{apts}anull[sound]"));
    } else {
        let sounds: String = (0..microphones)
            .map(|k| {
                graph.push(format!("[0:a:{k}]{apts}anull[a{k}]"));
                format!("[a{k}]")
            })
            .collect();
        // Not normalised: a voice is as loud mixed with silent members as alone.
        graph.push(format!(
            "{sounds}amix=inputs={microphones}:normalize=0[sound]"
        ));
    }

    match (!plan.outputs.is_empty(), plan.audience.is_some()) {
        (true, true) => {
            graph.push("[picture]split=2[hls_v][web_v]".into());
            graph.push("[sound]asplit=2[hls_a][web_a]".into());
        }
        (true, false) => {
            graph.push("[picture]null[hls_v]".into());
            graph.push("[sound]anull[hls_a]".into());
        }
        (false, _) => {
            graph.push("[picture]null[web_v]".into());
            graph.push("[sound]anull[web_a]".into());
        }
    }
    (graph.join(";"), extra)
}

/// H.264 and AAC once, written with `tee` to every RTMP address's push and to HLS.
fn broadcast_output(dir: &Path, plan: &EncoderPlan, attempt: u32) -> Vec<String> {
    let gop = (FPS * HLS_SEGMENT_SECS).to_string();
    let mut slaves: Vec<String> = plan
        .pushes
        .iter()
        // Unconnected UDP: a push being started again loses packets, never the encoder.
        .map(|port| format!("[f=mpegts:onfail=ignore]udp://127.0.0.1:{port}?pkt_size=1316"))
        .collect();
    if plan.outputs.hls {
        let segments = dir.join(format!("r{attempt}-%05d.ts"));
        slaves.push(format!(
            "[f=hls:hls_time={HLS_SEGMENT_SECS}:hls_list_size={HLS_LIST_SIZE}:\
             hls_flags=delete_segments+append_list+discont_start:\
             hls_segment_filename={}]{}",
            segments.display(),
            dir.join(PLAYLIST).display()
        ));
    }
    let mut args = strings(&[
        "-map",
        "[hls_v]",
        "-map",
        "[hls_a]",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "zerolatency",
        "-b:v",
        "2500k",
        "-maxrate",
        "2500k",
        "-bufsize",
        "5000k",
        "-g",
        &gop,
        "-keyint_min",
        &gop,
        "-sc_threshold",
        "0",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-ar",
        "48000",
        "-ac",
        "2",
        "-f",
        "tee",
    ]);
    args.push(slaves.join("|"));
    args
}

/// VP8 and Opus RTP to the relay's `ports`, for the WebRTC audience: real-time settings
/// (no frames held back), a key frame every second (a new viewer waits at most that: ffmpeg
/// takes no key frame requests).
fn audience_output(ports: AudiencePorts) -> Vec<String> {
    let fps = FPS.to_string();
    let mut args = strings(&[
        "-map",
        "[web_v]",
        "-c:v",
        "libvpx",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-lag-in-frames",
        "0",
        "-error-resilient",
        "1",
        "-b:v",
        "1500k",
        "-g",
        &fps,
        "-f",
        "rtp",
        "-payload_type",
    ]);
    args.push(VIDEO_PT.to_string());
    args.push(format!(
        "rtp://127.0.0.1:{}?pkt_size={AUDIENCE_PACKET}",
        ports.video
    ));
    args.extend(strings(&[
        "-map", "[web_a]", "-c:a", "libopus", "-b:a", "96k", "-ar", "48000", "-ac", "2", "-f",
        "rtp",
    ]));
    args.push("-payload_type".into());
    args.push(AUDIO_PT.to_string());
    args.push(format!(
        "rtp://127.0.0.1:{}?pkt_size={AUDIENCE_PACKET}",
        ports.audio
    ));
    args
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAMERA_AND_MIC: StageInput = StageInput {
        video: Some(StageVideo::Vp8),
        audio: true,
    };

    fn ports(n: u16) -> Vec<EncoderPorts> {
        (0..n)
            .map(|k| EncoderPorts {
                audio: 40000 + 4 * k,
                video: 40002 + 4 * k,
            })
            .collect()
    }

    fn plan(inputs: Vec<StageInput>, hls: bool, audience: bool) -> EncoderPlan {
        EncoderPlan {
            inputs,
            outputs: LiveOutputs {
                rtmp: Vec::new(),
                hls,
            },
            audience: audience.then_some(AudiencePorts {
                audio: 42000,
                video: 42002,
            }),
            pushes: Vec::new(),
        }
    }

    fn joined(plan: &EncoderPlan) -> String {
        ffmpeg_args(Path::new("/x/s.sdp"), Path::new("/x"), plan, 1).join(" ")
    }

    #[test]
    fn the_sdp_asks_for_feedback_on_video_and_names_each_member_s_codec() {
        let h264 = StageInput {
            video: Some(StageVideo::H264),
            audio: true,
        };
        let sdp = stage_sdp(&[CAMERA_AND_MIC, h264], &ports(2));
        assert!(sdp.contains("m=audio 40000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2"));
        assert!(sdp.contains("m=video 40002 RTP/AVPF 96\r\na=rtpmap:96 VP8/90000"));
        assert!(sdp.contains(
            "m=video 40006 RTP/AVPF 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1"
        ));
        // Sound before picture, member after member: ffmpeg numbers them in this order.
        let order: Vec<&str> = sdp.lines().filter(|l| l.starts_with("m=")).collect();
        assert_eq!(order.len(), 4, "{sdp}");
        assert!(order[0].starts_with("m=audio 40000") && order[3].starts_with("m=video 40006"));
    }

    #[test]
    fn a_stage_without_a_microphone_is_heard_as_silence_made_by_ffmpeg() {
        let camera = StageInput {
            video: Some(StageVideo::Vp8),
            audio: false,
        };
        let sdp = stage_sdp(&[camera], &ports(1));
        assert!(!sdp.contains("m=audio"), "{sdp}");
        assert!(sdp.contains("m=video 40002"), "{sdp}");
        let silent = joined(&plan(vec![camera], true, false));
        assert!(
            silent.contains("-f lavfi -i anullsrc=r=48000:cl=stereo"),
            "{silent}"
        );
        assert!(silent.contains("[1:a]anull[sound]"), "{silent}");
        let heard = joined(&plan(vec![CAMERA_AND_MIC], true, false));
        assert!(
            heard.contains("[0:a:0]anull[sound]") && !heard.contains("lavfi"),
            "{heard}"
        );
    }

    #[test]
    fn two_members_stand_side_by_side_and_are_both_heard() {
        let two = joined(&plan(vec![CAMERA_AND_MIC, CAMERA_AND_MIC], true, true));
        // Each in a half of the 1280x720 picture, its own aspect kept.
        assert!(
            two.contains("[0:v:1]scale=640:720:force_original_aspect_ratio=decrease"),
            "{two}"
        );
        assert!(
            two.contains("[v0][v1]xstack=inputs=2:layout=0_0|640_0:fill=black"),
            "{two}"
        );
        assert!(
            two.contains("[a0][a1]amix=inputs=2:normalize=0[sound]"),
            "{two}"
        );
        // Once for RTMP/HLS, once for the WebRTC audience.
        assert!(two.contains("split=2[hls_v][web_v]"), "{two}");
        assert!(
            two.contains("-map [hls_v] -map [hls_a] -c:v libx264"),
            "{two}"
        );
        assert!(
            two.contains("-payload_type 96 rtp://127.0.0.1:42002?pkt_size=1200"),
            "{two}"
        );
        assert!(
            two.contains("-payload_type 111 rtp://127.0.0.1:42000?pkt_size=1200"),
            "{two}"
        );
        assert!(two.contains("-lag-in-frames 0"), "{two}");
    }

    #[test]
    fn three_or_four_members_share_a_grid_and_a_camera_less_member_only_sounds() {
        let voice = StageInput {
            video: None,
            audio: true,
        };
        let four = joined(&plan(vec![CAMERA_AND_MIC; 4], false, true));
        assert!(
            four.contains("xstack=inputs=4:layout=0_0|640_0|0_360|640_360"),
            "{four}"
        );
        // Without RTMP or HLS, only the audience's composite is encoded.
        assert!(
            !four.contains("libx264") && four.contains("libvpx"),
            "{four}"
        );
        let three = joined(&plan(
            vec![CAMERA_AND_MIC, voice, CAMERA_AND_MIC],
            false,
            true,
        ));
        assert!(three.contains("xstack=inputs=2:"), "{three}");
        assert!(three.contains("amix=inputs=3"), "{three}");
        let voices = joined(&plan(vec![voice, voice], true, false));
        assert!(
            voices.contains("-f lavfi -i color=c=black:s=1280x720:r=25"),
            "{voices}"
        );
        assert!(voices.contains("[1:v]scale=1280:720"), "{voices}");
    }

    #[test]
    fn every_output_is_one_tee_slave_rtmp_through_its_push_and_hls_segments_named_per_run() {
        let outputs = LiveOutputs {
            rtmp: vec!["rtmp://a/app/k1".into(), "rtmps://b/app/k2".into()],
            hls: true,
        };
        let with = EncoderPlan {
            inputs: vec![CAMERA_AND_MIC],
            outputs,
            audience: None,
            pushes: vec![43000, 43002],
        };
        let args = ffmpeg_args(Path::new("/x/stage.sdp"), Path::new("/x"), &with, 3);
        let tee = args.last().expect("the tee outputs");
        let slaves: Vec<&str> = tee.split('|').collect();
        assert_eq!(slaves.len(), 3, "{tee}");
        assert_eq!(
            slaves[0],
            "[f=mpegts:onfail=ignore]udp://127.0.0.1:43000?pkt_size=1316"
        );
        assert!(
            !tee.contains("rtmp://"),
            "no stream key on ffmpeg's command line"
        );
        assert!(
            slaves[2].contains("hls_segment_filename=/x/r3-%05d.ts"),
            "{tee}"
        );
        assert!(slaves[2].ends_with("]/x/index.m3u8"), "{tee}");
        let rtmp_only = EncoderPlan {
            outputs: LiveOutputs {
                rtmp: vec!["rtmp://a/app/k1".into()],
                hls: false,
            },
            pushes: vec![43000],
            ..with
        };
        let args = ffmpeg_args(Path::new("/x/s.sdp"), Path::new("/x"), &rtmp_only, 1);
        assert!(!args.last().expect("tee").contains("hls"));
    }
}
