//! What the relay's SFU and live tests share: a relay on a real Janus, waiting for what
//! the relay owes a participant, and publishing or subscribing over a real connection.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::time::Duration;

use meshmeet_protocol::{
    ClientMsg, MediaMode, PeerId, ServerMsg, SfuLeg, SfuStream, StreamKind, Topology,
};
use meshmeet_server::Config;

use super::janus_server::JanusServer;
use super::support::{http_get, test_config, Client, TestRelay};
use super::webrtc_peer;

/// Longest wait for what Janus and the relay owe a participant (a bound on a hang, not a
/// speed check: Janus takes a second or two to bring a connection up on a loaded machine).
pub const SFU_WAIT: Duration = Duration::from_secs(20);

/// A relay whose rooms move to the SFU past `mesh_max` people, ready once Janus is.
pub async fn relay_with_janus(janus: &JanusServer, mesh_max: u32) -> TestRelay {
    let config = Config {
        janus_urls: vec![janus.url()],
        janus_admin_key: Some(janus.admin_key()),
        mesh_max,
        mesh_return_delay: Duration::from_secs(1),
        ..test_config()
    };
    let relay = TestRelay::start(config).await;
    wait_ready(&relay).await;
    relay
}

/// Waits (bounded) until `/readyz` says the relay reaches Janus.
pub async fn wait_ready(relay: &TestRelay) {
    let mut last = String::new();
    for _ in 0..200 {
        let ready = http_get(relay.addr, "/readyz", &[]).await;
        if ready.status == 200 {
            return;
        }
        last = ready.text();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the relay never reached Janus; /readyz: {last}");
}

/// The next message `wanted` picks within [`SFU_WAIT`], failing on any error or on other
/// messages than those `skip` allows.
pub async fn wait_for<T>(
    client: &mut Client,
    what: &str,
    wanted: impl Fn(&ServerMsg) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + SFU_WAIT;
    let mut seen = Vec::new();
    while tokio::time::Instant::now() < deadline {
        let msg = match tokio::time::timeout_at(deadline, client.recv()).await {
            Ok(msg) => msg,
            Err(_) => break,
        };
        if let Some(found) = wanted(&msg) {
            return found;
        }
        if let ServerMsg::Error { .. } = msg {
            panic!("{what}: got {msg:?}; before it {seen:?}");
        }
        seen.push(msg);
    }
    panic!("{what}: not within {SFU_WAIT:?}; saw {seen:?}");
}

pub fn sfu(epoch: u64) -> Topology {
    Topology {
        mode: MediaMode::Sfu,
        epoch,
    }
}

pub fn welcome_topology(msg: &ServerMsg) -> Topology {
    match msg {
        ServerMsg::Welcome { topology, .. } => *topology,
        other => panic!("expected welcome, got {other:?}"),
    }
}

/// Publishes through the relay over a real connection and trickles its candidate: the
/// running peer (dropping it hangs up).
pub async fn publish(client: &mut Client, epoch: u64, who: &str) -> webrtc_peer::Running {
    let (offering, offer) = webrtc_peer::publisher_offer();
    client
        .send(&ClientMsg::SfuPublish { epoch, sdp: offer })
        .await;
    let answer = wait_for(client, &format!("{who}'s sfu_published"), |msg| match msg {
        ServerMsg::SfuPublished { epoch: e, sdp } if *e == epoch => Some(sdp.clone()),
        _ => None,
    })
    .await;
    let running = offering.connect(&answer);
    trickle(client, epoch, SfuLeg::Publish, &running).await;
    running
}

pub async fn trickle(client: &mut Client, epoch: u64, leg: SfuLeg, running: &webrtc_peer::Running) {
    for candidate in [running.candidate.clone(), String::new()] {
        client
            .send(&ClientMsg::SfuCandidate {
                epoch,
                leg,
                candidate,
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
            })
            .await;
    }
}

/// Waits for a subscription offer, answers it over a real connection: its streams.
pub async fn subscribe(
    client: &mut Client,
    epoch: u64,
    who: &str,
) -> (Vec<SfuStream>, webrtc_peer::Running) {
    let (offer, streams) = wait_for(
        client,
        &format!("{who}'s sfu_subscription"),
        |msg| match msg {
            ServerMsg::SfuSubscription {
                epoch: e,
                sdp,
                streams,
            } if *e == epoch => Some((sdp.clone(), streams.clone())),
            _ => None,
        },
    )
    .await;
    let (running, answer) = webrtc_peer::answer_and_connect(&offer);
    client
        .send(&ClientMsg::SfuSubscribeAnswer { epoch, sdp: answer })
        .await;
    trickle(client, epoch, SfuLeg::Subscribe, &running).await;
    (streams, running)
}

/// The streams a subscriber gets from `peer`: (kind, index in its layout).
pub fn from(streams: &[SfuStream], peer: &PeerId) -> Vec<(StreamKind, u32)> {
    streams
        .iter()
        .filter(|s| &s.peer_id == peer)
        .map(|s| (s.kind, s.index))
        .collect()
}

/// Ana and Bo in `room` of a relay with a mesh of one, so on the SFU at epoch 1, each
/// publishing; Ana has read Bo's arrival and the switch.
pub async fn two_publishing(
    relay: &TestRelay,
    room: &str,
) -> (Client, Client, [webrtc_peer::Running; 2]) {
    let (mut ana, _) = relay.join(room, "Ana").await;
    let (mut bo, _) = relay.join(room, "Bo").await;
    ana.recv().await;
    ana.recv().await;
    let ana_up = publish(&mut ana, 1, "Ana").await;
    let bo_up = publish(&mut bo, 1, "Bo").await;
    (ana, bo, [ana_up, bo_up])
}
