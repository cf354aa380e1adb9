//! Going live through the relay on a real Janus: only the host may, and only with
//! participants of the room on the stage; the room moves to the SFU though it is small;
//! a WHEP viewer (a str0m peer, not a browser) posts its offer with the viewer token and its
//! connection comes up through the relay's bridge; bad WHEP requests get the statuses the
//! standard gives, and leave the live serving; stopping the live voids the token.

mod janus_server;
mod sfu_support;
mod support;
mod webrtc_peer;

use std::net::SocketAddr;
use std::time::Duration;

use janus_server::JanusServer;
use meshmeet_protocol::{
    ClientMsg, ErrorCode, LiveInfo, LiveOutputs, MediaState, PeerId, RoomName, ServerMsg,
    PROTOCOL_VERSION,
};
use meshmeet_server::config::{RoomPassword, Secret};
use meshmeet_server::janus::{JanusClient, JanusOptions};
use meshmeet_server::Config;
use serde_json::Value;
use sfu_support::*;
use support::{http_get, http_raw, test_config, Client, HttpResponse, TestRelay, Welcome};

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

/// A WHEP `POST` of `offer` to `/whep/<room>`, with `token` as the bearer token (if any)
/// and `content_type`.
async fn whep_post(
    addr: SocketAddr,
    room: &str,
    token: Option<&str>,
    content_type: &str,
    offer: &str,
) -> HttpResponse {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    let request = format!(
        "POST /whep/{room} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{offer}",
        offer.len()
    );
    http_raw(addr, &request).await
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
    let (mut bo, _) = enter_hearing(&relay, "Bo").await;
    ana.recv().await; // Bo joined
    let ana_id = ana_welcome.peer_id.clone();

    // Only the host goes live, and only with people in the room on the stage.
    bo.send(&ClientMsg::GoLive {
        stage: vec![ana_id.clone()],
        outputs: Default::default(),
    })
    .await;
    assert_eq!(bo.recv_error().await, ErrorCode::NotHost);
    let stranger = PeerId::from("0123456789abcdef0123456789abcdef");
    ana.send(&ClientMsg::GoLive {
        stage: vec![stranger],
        outputs: Default::default(),
    })
    .await;
    assert_eq!(ana.recv_error().await, ErrorCode::UnknownPeer);
    ana.send(&ClientMsg::GoLive {
        stage: vec![ana_id.clone(), ana_id.clone()],
        outputs: Default::default(),
    })
    .await;
    assert_eq!(ana.recv_error().await, ErrorCode::LiveUnavailable);
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
        })
        .await;
        assert_eq!(ana.recv_error().await, ErrorCode::BadMessage, "{bad}");
    }

    ana.send(&ClientMsg::GoLive {
        stage: vec![ana_id.clone()],
        outputs: Default::default(),
    })
    .await;
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
    for (i, (response, expected)) in refusals.iter().enumerate() {
        assert_eq!(
            response.status,
            *expected,
            "refusal {i}: {}",
            response.text()
        );
    }
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

    let patch = http_raw(
        addr,
        &format!("PATCH {location} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
    )
    .await;
    assert_eq!(patch.status, 405);

    // DELETE ends it (with the token); twice is 404.
    let delete = |token: &str| {
        format!(
            "DELETE {location} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Authorization: Bearer {token}\r\n\r\n"
        )
    };
    assert_eq!(http_raw(addr, &delete("nope")).await.status, 404);
    assert_eq!(http_raw(addr, &delete(&token)).await.status, 200);
    assert_eq!(http_raw(addr, &delete(&token)).await.status, 404);
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
