//! Going live through the relay on a real Janus: only the host may, and only with
//! participants of the room on the stage; the room moves to the SFU though it is small;
//! a WHEP viewer (a str0m peer, not a browser) posts its offer with the viewer token and its
//! connection comes up through the relay's bridge; bad WHEP requests get the statuses the
//! standard gives, and leave the live serving; stopping the live voids the token.

mod janus_server;
mod rtsp_camera;
mod sfu_support;
mod support;
mod webrtc_peer;

use std::net::SocketAddr;
use std::time::Duration;

use janus_server::JanusServer;
use meshmeet_protocol::{
    ClientMsg, ErrorCode, LeaveReason, LiveInfo, LiveOutputs, MediaState, PeerId, RoomName,
    ServerMsg, MAX_STAGE, PROTOCOL_VERSION,
};
use meshmeet_server::config::{RoomPassword, Secret};
use meshmeet_server::janus::{JanusClient, JanusOptions};
use meshmeet_server::Config;
use serde_json::Value;
use sfu_support::*;
use support::{
    go_live_msg, http_get, http_raw, test_config, Client, HttpResponse, TestRelay, Welcome,
};

/// The hearing's password: the meeting is closed, its live is public.
const HEARING_PASSWORD: &str = "court-7";

/// A join of the hearing as `name`, with `password` and `token` as given.
fn join_hearing(name: &str, password: Option<&str>, token: Option<&str>) -> ClientMsg {
    ClientMsg::Join {
        version: PROTOCOL_VERSION,
        room: RoomName("hearing".into()),
        name: name.into(),
        password: password.map(str::to_owned),
        media: MediaState::default(),
        token: token.map(str::to_owned),
        client_key: None,
        e2ee: false,
    }
}

/// A participant of the hearing, admitted with its password.
async fn enter_hearing(relay: &TestRelay, name: &str) -> (Client, Welcome) {
    let mut client = relay.connect().await;
    client
        .send(&join_hearing(name, Some(HEARING_PASSWORD), None))
        .await;
    let welcome = client.expect_welcome().await;
    (client, welcome)
}

/// A `POST` of `offer` to `path`, with `token` as the bearer token (if any) and
/// `content_type`.
async fn sdp_post(
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    offer: &str,
) -> HttpResponse {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{offer}",
        offer.len()
    );
    http_raw(addr, &request).await
}

/// A WHEP `POST` (see [`sdp_post`]) to `/whep/<room>`.
async fn whep_post(
    addr: SocketAddr,
    room: &str,
    token: Option<&str>,
    content_type: &str,
    offer: &str,
) -> HttpResponse {
    sdp_post(addr, &format!("/whep/{room}"), token, content_type, offer).await
}

/// A WHIP `POST` (see [`sdp_post`]) to `/whip/<room>`.
async fn whip_post(
    addr: SocketAddr,
    room: &str,
    token: Option<&str>,
    content_type: &str,
    offer: &str,
) -> HttpResponse {
    sdp_post(addr, &format!("/whip/{room}"), token, content_type, offer).await
}

/// Checks each response's status against the one expected of it.
fn assert_statuses(responses: &[(HttpResponse, u16)]) {
    for (i, (response, expected)) in responses.iter().enumerate() {
        assert_eq!(
            response.status,
            *expected,
            "refusal {i}: {}",
            response.text()
        );
    }
}

/// The status of a `PATCH` (trickle) on a session's resource.
async fn patch_status(addr: SocketAddr, location: &str) -> u16 {
    let request = format!(
        "PATCH {location} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    http_raw(addr, &request).await.status
}

/// The status of a `DELETE` of a session's resource with `token`.
async fn delete_status(addr: SocketAddr, location: &str, token: &str) -> u16 {
    let request = format!(
        "DELETE {location} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    );
    http_raw(addr, &request).await.status
}

/// `/live/<room>/status` with `token`, as JSON.
async fn status(addr: SocketAddr, room: &str, token: &str) -> Value {
    let response = http_get(addr, &format!("/live/{room}/status?t={token}"), &[]).await;
    assert_eq!(response.status, 200, "{}", response.text());
    serde_json::from_slice(&response.body).expect("status is JSON")
}

/// Waits (bounded) until the status of `room` satisfies `ok`.
async fn wait_for_status(
    addr: SocketAddr,
    room: &str,
    token: &str,
    what: &str,
    ok: fn(&Value) -> bool,
) {
    let mut last = Value::Null;
    for _ in 0..200 {
        last = status(addr, room, token).await;
        if ok(&last) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: the status stayed {last}");
}

/// `offer` with its first video codec moved to payload type `pt` (as another kind of
/// player would number it).
fn renumber_video(offer: &str, pt: u8) -> String {
    let video = offer.split("m=video").nth(1).expect("a video section");
    let from = video
        .split_whitespace()
        .nth(2)
        .expect("a video payload type")
        .to_owned();
    offer
        .split("\r\n")
        .map(|line| {
            let after = |prefix: &str| {
                line.strip_prefix(&format!("{prefix}{from} "))
                    .map(|rest| format!("{prefix}{pt} {rest}"))
            };
            if line.starts_with("m=video") {
                line.replace(&format!(" {from}"), &format!(" {pt}"))
            } else {
                after("a=rtpmap:")
                    .or_else(|| after("a=fmtp:"))
                    .or_else(|| after("a=rtcp-fb:"))
                    .unwrap_or_else(|| line.replace(&format!("apt={from}"), &format!("apt={pt}")))
            }
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn live_of(msg: &ServerMsg) -> Option<Option<LiveInfo>> {
    match msg {
        ServerMsg::LiveChanged { live } => Some(live.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn the_host_goes_live_and_a_whep_viewer_watches_the_stage_through_the_bridge() {
    let janus = JanusServer::start().await;
    // A mesh of four: two people would stay a mesh, but a live room goes to the SFU.
    // A closed hearing (a password, and join tokens accepted) with a public live.
    let relay = TestRelay::start(Config {
        janus_urls: vec![janus.url()],
        janus_admin_key: Some(janus.admin_key()),
        mesh_max: 4,
        mesh_return_delay: Duration::from_secs(1),
        room_passwords: vec![RoomPassword {
            room: "hearing".into(),
            password: Secret::from(HEARING_PASSWORD),
        }],
        token_secret: Some(Secret::from("join token secret")),
        ..test_config()
    })
    .await;
    wait_ready(&relay).await;
    let addr = relay.addr;
    let (mut ana, ana_welcome) = enter_hearing(&relay, "Ana").await;
    let (mut bo, bo_welcome) = enter_hearing(&relay, "Bo").await;
    ana.recv().await; // Bo joined
    let ana_id = ana_welcome.peer_id.clone();

    // Only the host goes live, and only with people in the room on the stage.
    bo.send(&go_live_msg(vec![ana_id.clone()])).await;
    assert_eq!(bo.recv_error().await, ErrorCode::NotHost);
    let stranger = PeerId::from("0123456789abcdef0123456789abcdef");
    ana.send(&go_live_msg(vec![stranger])).await;
    assert_eq!(ana.recv_error().await, ErrorCode::UnknownPeer);
    // Someone twice, or more than four: not a stage.
    let bo_id = bo_welcome.peer_id.clone();
    for stage in [
        vec![ana_id.clone(), ana_id.clone()],
        vec![ana_id.clone(), bo_id.clone(), ana_id.clone()],
        vec![ana_id.clone(); MAX_STAGE + 1],
        Vec::new(),
    ] {
        ana.send(&go_live_msg(stage.clone())).await;
        assert_eq!(ana.recv_error().await, ErrorCode::BadMessage, "{stage:?}");
    }
    // Following the speaker starts from one.
    ana.send(&ClientMsg::GoLive {
        stage: vec![ana_id.clone(), bo_id.clone()],
        outputs: Default::default(),
        follow_speaker: true,
    })
    .await;
    assert_eq!(
        ana.recv_error().await,
        ErrorCode::BadMessage,
        "two to follow from"
    );
    // RTMP addresses an encoder must not be handed: refused before anything starts.
    for bad in [
        "file:///etc/passwd",
        "rtmp://host/app/key|file:/tmp/x",
        "rtmp://host",
    ] {
        ana.send(&ClientMsg::GoLive {
            stage: vec![ana_id.clone()],
            outputs: LiveOutputs {
                rtmp: vec![bad.into()],
                hls: false,
            },
            follow_speaker: false,
        })
        .await;
        assert_eq!(ana.recv_error().await, ErrorCode::BadMessage, "{bad}");
    }

    ana.send(&go_live_msg(vec![ana_id.clone()])).await;
    let live = wait_for(&mut bo, "Bo hears of the live", live_of)
        .await
        .expect("live");
    assert_eq!(live.stage, vec![ana_id.clone()]);
    let token = live.watch_token.clone();
    let heard = wait_for(&mut ana, "Ana hears of the live", live_of).await;
    assert_eq!(heard, Some(live.clone()));
    // The viewer token opens the live, never the meeting: neither as the room's password
    // nor as a join token.
    for (password, join_token, refusal) in [
        (Some(token.as_str()), None, ErrorCode::WrongPassword),
        (None, Some(token.as_str()), ErrorCode::InvalidToken),
        (
            Some(token.as_str()),
            Some(token.as_str()),
            ErrorCode::InvalidToken,
        ),
    ] {
        let mut gallery = relay.connect().await;
        gallery
            .send(&join_hearing("Gallery", password, join_token))
            .await;
        assert_eq!(
            gallery.recv_error().await,
            refusal,
            "password {password:?}, token {join_token:?}"
        );
    }
    // The room moved to the SFU for it: Ana publishes there.
    let _ana_up = publish(&mut ana, 1, "Ana").await;
    wait_for_status(addr, "hearing", &token, "the stage goes on air", |s| {
        s["on_air"] == true
    })
    .await;

    // Bad WHEP requests: statuses as the standard gives them.
    let (offering, offer) = webrtc_peer::viewer_offer();
    let refusals = [
        (
            whep_post(addr, "hearing", None, "application/sdp", &offer).await,
            401,
        ),
        // A wrong token is answered as a room that is not live.
        (
            whep_post(addr, "hearing", Some("nope"), "application/sdp", &offer).await,
            404,
        ),
        (
            whep_post(addr, "hearing", Some(&token), "text/plain", &offer).await,
            415,
        ),
        (
            whep_post(
                addr,
                "hearing",
                Some(&token),
                "application/sdp",
                "v=0\r\nhello",
            )
            .await,
            400,
        ),
        (
            whep_post(addr, "elsewhere", Some(&token), "application/sdp", &offer).await,
            404,
        ),
        (
            whep_post(addr, "..", Some(&token), "application/sdp", &offer).await,
            404,
        ),
        (
            whep_post(
                addr,
                "hearing",
                Some(&token),
                "application/sdp",
                &"a".repeat(70_000),
            )
            .await,
            413,
        ),
    ];
    assert_statuses(&refusals);
    assert_eq!(refusals[0].0.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        status(addr, "hearing", "nope").await,
        serde_json::json!({ "live": false }),
        "a wrong token learns nothing"
    );
    // Players on other sites: the preflight and every answer allow them.
    let preflight = http_raw(
        addr,
        &format!("OPTIONS /whep/hearing HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert!(preflight
        .header("access-control-allow-headers")
        .is_some_and(|h| h.contains("Authorization")));

    // A viewer: 201, the answer, its resource; its connection comes up through the bridge.
    let created = whep_post(addr, "hearing", Some(&token), "application/sdp", &offer).await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.header("content-type"), Some("application/sdp"));
    let location = created.header("location").expect("Location").to_owned();
    assert!(location.starts_with("/whep/hearing/"), "{location}");
    let _viewer = offering.connect(&created.text());
    wait_for_status(addr, "hearing", &token, "the viewer connects", |s| {
        s["viewers"] == 1
    })
    .await;
    // Each way of numbering the codecs costs a mountpoint: eight kinds at most
    // (the connected viewer's is one).
    for kind in 0..8u8 {
        let renumbered = renumber_video(&offer, 100 + kind);
        let response = whep_post(
            addr,
            "hearing",
            Some(&token),
            "application/sdp",
            &renumbered,
        )
        .await;
        let expected = if kind < 7 { 201 } else { 503 };
        assert_eq!(
            response.status,
            expected,
            "kind {kind}: {}",
            response.text()
        );
    }

    // This live writes no HLS: its playlist is not found, and nothing else in a live's
    // directory is ever served.
    for path in ["index.m3u8", "stage.sdp", "r1-00000.ts"] {
        let response = http_get(addr, &format!("/live/hearing/{path}?t={token}"), &[]).await;
        assert_eq!(response.status, 404, "{path}: {}", response.text());
    }
    let response = http_get(addr, "/live/hearing/index.m3u8?t=nope", &[]).await;
    assert_eq!(response.status, 404, "{}", response.text());

    assert_eq!(patch_status(addr, &location).await, 405);

    // DELETE ends it (with the token); twice is 404.
    assert_eq!(delete_status(addr, &location, "nope").await, 404);
    assert_eq!(delete_status(addr, &location, &token).await, 200);
    assert_eq!(delete_status(addr, &location, &token).await, 404);
    wait_for_status(addr, "hearing", &token, "the viewer is gone", |s| {
        s["viewers"] == 0
    })
    .await;

    // Stopping the live tells everyone, voids the token, and leaves no mountpoint in Janus.
    let janus_api = JanusClient::connect(&janus.url(), janus.admin_key(), JanusOptions::default())
        .await
        .expect("a client of Janus's API");
    assert_eq!(
        janus_api.mountpoint_ids().await.expect("list").len(),
        8,
        "one per kind of offer"
    );
    ana.send(&ClientMsg::StopLive).await;
    assert_eq!(
        wait_for(&mut bo, "Bo hears the live end", live_of).await,
        None
    );
    let mut left = Vec::new();
    for _ in 0..100 {
        left = janus_api.mountpoint_ids().await.expect("list");
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(left.is_empty(), "mountpoints left after the live: {left:?}");
    assert_eq!(
        status(addr, "hearing", &token).await,
        serde_json::json!({ "live": false })
    );
    let after = whep_post(addr, "hearing", Some(&token), "application/sdp", &offer).await;
    assert_eq!(after.status, 404, "{}", after.text());
}

/// How many processes mention `marker`, once `settled` says the count is what it should be
/// or after 10 s (whatever it is then).
async fn wait_for_processes(marker: &str, settled: impl Fn(usize) -> bool) -> usize {
    let mut count = 0;
    for _ in 0..100 {
        count = rtsp_camera::processes_mentioning(marker).len();
        if settled(count) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    count
}

fn joined_named(msg: &ServerMsg, name: &str) -> Option<PeerId> {
    match msg {
        ServerMsg::PeerJoined { peer } if peer.name == name => Some(peer.id.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn an_encoder_publishes_over_whip_appears_to_everyone_and_can_go_on_the_stage() {
    let janus = JanusServer::start().await;
    let relay = TestRelay::start(Config {
        janus_urls: vec![janus.url()],
        janus_admin_key: Some(janus.admin_key()),
        mesh_max: 4,
        mesh_return_delay: Duration::from_secs(1),
        ..test_config()
    })
    .await;
    wait_ready(&relay).await;
    let addr = relay.addr;
    let mut ana = relay.connect().await;
    ana.send(&support::join_msg("studio", "Ana")).await;
    let ana_id = ana.expect_welcome().await.peer_id;
    let mut bo = relay.connect().await;
    bo.send(&support::join_msg("studio", "Bo")).await;
    bo.expect_welcome().await;
    ana.recv().await; // Bo joined

    // Only the host lets an encoder in; the token goes to the host alone.
    bo.send(&ClientMsg::CreateIngest {
        name: "Bo's encoder".into(),
    })
    .await;
    assert_eq!(bo.recv_error().await, ErrorCode::NotHost);
    ana.send(&ClientMsg::CreateIngest {
        name: "Studio camera".into(),
    })
    .await;
    let token = wait_for(&mut ana, "Ana's ingest token", |msg| match msg {
        ServerMsg::IngestCreated { name, token } if name == "Studio camera" => Some(token.clone()),
        _ => None,
    })
    .await;
    assert_eq!(token.len(), 32);

    // A meeting of two is a mesh: no encoder there.
    let (_, offer) = webrtc_peer::complete_publisher_offer();
    let on_mesh = whip_post(addr, "studio", Some(&token), "application/sdp", &offer).await;
    assert_eq!(on_mesh.status, 409, "{}", on_mesh.text());

    // Live, the meeting is on the SFU: Ana and Bo publish, Bo receives Ana.
    ana.send(&go_live_msg(vec![ana_id.clone()])).await;
    wait_for(&mut bo, "Bo hears of the live", live_of).await;
    let _ana_up = publish(&mut ana, 1, "Ana").await;
    let _bo_up = publish(&mut bo, 1, "Bo").await;
    let (first, _bo_down) = subscribe(&mut bo, 1, "Bo").await;
    assert!(!from(&first, &ana_id).is_empty(), "Bo receives Ana");

    // Bad WHIP requests: statuses as RFC 9725 gives them, and nobody joins.
    let refusals = [
        (
            whip_post(addr, "studio", None, "application/sdp", &offer).await,
            401,
        ),
        (
            whip_post(addr, "studio", Some("nope"), "application/sdp", &offer).await,
            401,
        ),
        (
            whip_post(addr, "elsewhere", Some(&token), "application/sdp", &offer).await,
            401,
        ),
        (
            whip_post(addr, "studio", Some(&token), "text/plain", &offer).await,
            415,
        ),
        (
            whip_post(
                addr,
                "studio",
                Some(&token),
                "application/sdp",
                "v=0\r\nhello",
            )
            .await,
            400,
        ),
        (
            whip_post(addr, "studio", Some(&token), "application/sdp", "hello").await,
            400,
        ),
        (
            whip_post(
                addr,
                "studio",
                Some(&token),
                "application/sdp",
                &"a".repeat(70_000),
            )
            .await,
            413,
        ),
    ];
    assert_statuses(&refusals);
    assert_eq!(refusals[0].0.header("www-authenticate"), Some("Bearer"));

    // The encoder publishes: 201 with Janus's answer (its candidates in it) and a resource;
    // everyone sees a participant of the token's name, whose media Bo receives.
    let (encoder, offer) = webrtc_peer::complete_publisher_offer();
    let created = whip_post(addr, "studio", Some(&token), "application/sdp", &offer).await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.header("content-type"), Some("application/sdp"));
    assert!(
        created.text().contains("a=candidate:"),
        "{}",
        created.text()
    );
    let location = created.header("location").expect("Location").to_owned();
    assert!(location.starts_with("/whip/studio/"), "{location}");
    let _encoder_up = encoder.connect(&created.text());
    let encoder_id = wait_for(&mut bo, "Bo sees the encoder join", |m| {
        joined_named(m, "Studio camera")
    })
    .await;
    let streams = wait_for(
        &mut bo,
        "Bo's subscription carries the encoder",
        |m| match m {
            ServerMsg::SfuSubscription { streams, .. }
                if !from(streams, &encoder_id).is_empty() =>
            {
                Some(streams.clone())
            }
            _ => None,
        },
    )
    .await;
    assert_eq!(
        from(&streams, &encoder_id).len(),
        2,
        "its microphone and camera"
    );

    // The host puts it on the stage.
    ana.send(&go_live_msg(vec![encoder_id.clone()])).await;
    let live = wait_for(&mut bo, "Bo sees the encoder on stage", live_of)
        .await
        .expect("live");
    assert_eq!(live.stage, vec![encoder_id.clone()]);

    // Beside the host: a stage of two reaches the audience as the relay's composite, one
    // ffmpeg sending it back for the mountpoints (the only one with RTP out of that size),
    // gone when the stage is one again.
    let composite = "pkt_size=1200";
    ana.send(&go_live_msg(vec![encoder_id.clone(), ana_id.clone()]))
        .await;
    let live = wait_for(&mut bo, "Bo sees two on the stage", live_of)
        .await
        .expect("live");
    assert_eq!(live.stage, vec![encoder_id.clone(), ana_id.clone()]);
    let running = wait_for_processes(composite, |n| n == 1).await;
    assert_eq!(running, 1, "one ffmpeg makes the composite");
    ana.send(&go_live_msg(vec![encoder_id.clone()])).await;
    wait_for(&mut bo, "Bo sees one on the stage again", live_of).await;
    let running = wait_for_processes(composite, |n| n == 0).await;
    assert_eq!(
        running, 0,
        "the composite's ffmpeg stopped with the stage of two"
    );

    // PATCH is not supported; DELETE needs the token, ends the session, and the encoder
    // leaves the meeting; twice is 404.
    assert_eq!(patch_status(addr, &location).await, 405);
    assert_eq!(delete_status(addr, &location, "nope").await, 401);
    assert_eq!(delete_status(addr, &location, &token).await, 200);
    assert_eq!(delete_status(addr, &location, &token).await, 404);
    let gone = wait_for(&mut bo, "Bo sees the encoder leave", |m| match m {
        ServerMsg::PeerLeft { peer_id, .. } if peer_id == &encoder_id => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(gone, ());

    // It may publish again with its token; once the host removes it, its token is void.
    let (_, offer) = webrtc_peer::complete_publisher_offer();
    let again = whip_post(addr, "studio", Some(&token), "application/sdp", &offer).await;
    assert_eq!(again.status, 201, "{}", again.text());
    let encoder_id = wait_for(&mut bo, "Bo sees the encoder again", |m| {
        joined_named(m, "Studio camera")
    })
    .await;
    ana.send(&ClientMsg::RemovePeer {
        peer_id: encoder_id.clone(),
    })
    .await;
    let reason = wait_for(&mut bo, "Bo sees the encoder removed", |m| match m {
        ServerMsg::PeerLeft { peer_id, reason } if peer_id == &encoder_id => Some(*reason),
        _ => None,
    })
    .await;
    assert_eq!(reason, LeaveReason::Removed);
    let (_, offer) = webrtc_peer::complete_publisher_offer();
    let after = whip_post(addr, "studio", Some(&token), "application/sdp", &offer).await;
    let refused = after.status;
    assert_eq!(refused, 403, "a removed encoder's token is void");
}

#[tokio::test]
async fn the_host_adds_an_rtsp_camera_that_everyone_receives_and_removing_it_stops_its_ffmpeg() {
    let janus = JanusServer::start().await;
    let camera = rtsp_camera::RtspCamera::start();
    let relay = TestRelay::start(Config {
        janus_urls: vec![janus.url()],
        janus_admin_key: Some(janus.admin_key()),
        mesh_max: 4,
        ..test_config()
    })
    .await;
    wait_ready(&relay).await;
    let mut ana = relay.connect().await;
    ana.send(&support::join_msg("lobby", "Ana")).await;
    let ana_id = ana.expect_welcome().await.peer_id;
    let mut bo = relay.connect().await;
    bo.send(&support::join_msg("lobby", "Bo")).await;
    bo.expect_welcome().await;
    ana.recv().await; // Bo joined
    let add = |name: &str, url: &str| ClientMsg::AddCamera {
        name: name.into(),
        url: url.into(),
    };

    // Only the host, only RTSP addresses, only on the SFU.
    bo.send(&add("Bo's camera", &camera.url)).await;
    assert_eq!(bo.recv_error().await, ErrorCode::NotHost);
    ana.send(&add("Lobby camera", "http://127.0.0.1/cam")).await;
    assert_eq!(ana.recv_error().await, ErrorCode::BadMessage);
    ana.send(&add("Lobby camera", &camera.url)).await;
    assert_eq!(
        ana.recv_error().await,
        ErrorCode::CameraFailed,
        "on the mesh"
    );

    ana.send(&go_live_msg(vec![ana_id.clone()])).await;
    wait_for(&mut bo, "Bo hears of the live", live_of).await;
    let _ana_up = publish(&mut ana, 1, "Ana").await;

    // A camera that does not answer: the host is told, and it leaves again. (Before Bo
    // subscribes: the offers its coming and going bring him are not answered here.)
    ana.send(&add("Nowhere", "rtsp://127.0.0.1:9/none")).await;
    let refusal = wait_for(
        &mut ana,
        "Ana is told the camera did not answer",
        |m| match m {
            ServerMsg::Error { code, message } if *code == ErrorCode::CameraFailed => {
                Some(message.clone())
            }
            _ => None,
        },
    )
    .await;
    assert!(refusal.contains("rtsp://127.0.0.1:9/none"), "{refusal}");
    let nowhere = wait_for(&mut bo, "Bo sees the silent camera come", |m| {
        joined_named(m, "Nowhere")
    })
    .await;
    wait_for(&mut bo, "and go", |m| match m {
        ServerMsg::PeerLeft { peer_id, .. } if peer_id == &nowhere => Some(()),
        _ => None,
    })
    .await;
    let _bo_up = publish(&mut bo, 1, "Bo").await;
    let _bo_down = subscribe(&mut bo, 1, "Bo").await;

    // The mock camera: everyone gets it as a participant, its picture in Bo's subscription.
    ana.send(&add("Lobby camera", &camera.url)).await;
    let camera_id = wait_for(&mut bo, "Bo sees the camera join", |m| {
        joined_named(m, "Lobby camera")
    })
    .await;
    let streams = wait_for(
        &mut bo,
        "Bo's subscription carries the camera",
        |m| match m {
            ServerMsg::SfuSubscription { streams, .. } if !from(streams, &camera_id).is_empty() => {
                Some(streams.clone())
            }
            _ => None,
        },
    )
    .await;
    assert_eq!(from(&streams, &camera_id).len(), 1, "its picture");
    assert_eq!(
        rtsp_camera::processes_mentioning(&camera.url).len(),
        1,
        "the relay's ffmpeg pulling the camera"
    );

    // Removed by the host: it leaves, and its ffmpeg with it.
    ana.send(&ClientMsg::RemovePeer {
        peer_id: camera_id.clone(),
    })
    .await;
    wait_for(&mut bo, "Bo sees the camera leave", |m| match m {
        ServerMsg::PeerLeft { peer_id, .. } if peer_id == &camera_id => Some(()),
        _ => None,
    })
    .await;
    let pulling = wait_for_processes(&camera.url, |n| n == 0).await;
    assert_eq!(pulling, 0, "ffmpeg left pulling the camera");
}
