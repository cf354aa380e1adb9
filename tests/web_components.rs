//! Components rendered in a real browser: props in, DOM and callbacks out.
#![cfg(target_arch = "wasm32")]

mod support;

use meshmeet::components::{
    Controls, ControlsProps, PeerTile, PeerTileProps, StatsPanel, StatsPanelProps,
};
use meshmeet::pages::{Home, HomeProps};
use meshmeet::rtc::{Candidate, ConnectionStatus, PeerStats, Quality};
use meshmeet::state::{PeerFigures, Point, RemotePeer, Route};
use meshmeet_protocol::{MediaState, PeerId, PeerInfo, Reaction};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use yew::{Callback, Renderer};

wasm_bindgen_test_configure!(run_in_browser);

fn peer(mic: bool, camera: bool, connection: ConnectionStatus) -> RemotePeer {
    RemotePeer {
        info: PeerInfo {
            id: PeerId::from("p-1"),
            name: "Ana <b>bold</b>".into(),
            media: MediaState {
                mic,
                camera,
                screen: false,
            },
        },
        connection,
    }
}

#[wasm_bindgen_test]
async fn peer_tile_exposes_name_marks_and_connection_for_automation() {
    let root = support::fresh_root();
    let props = PeerTileProps {
        peer: peer(false, true, ConnectionStatus::Reconnecting),
        stream: None,
        sink_id: None,
        quality: None,
        on_stats: Callback::noop(),
        on_visible: Callback::noop(),
        audio_only: false,
        pinned: false,
        on_pin: Callback::noop(),
        reaction: None,
    };
    let app = Renderer::<PeerTile>::with_root_and_props(root.clone(), props).render();
    let tile = support::wait_for(&root, "[data-testid=peer-tile]").await;
    assert_eq!(tile.get_attribute("data-peer-id").as_deref(), Some("p-1"));
    assert_eq!(
        tile.get_attribute("data-peer-name").as_deref(),
        Some("Ana <b>bold</b>")
    );
    assert_eq!(tile.get_attribute("data-mic").as_deref(), Some("off"));
    assert_eq!(tile.get_attribute("data-camera").as_deref(), Some("on"));
    assert_eq!(
        tile.get_attribute("data-connection").as_deref(),
        Some("reconnecting")
    );
    assert!(
        tile.query_selector("video").ok().flatten().is_some(),
        "no <video> in the tile"
    );
    // Names are text, never markup.
    assert!(
        tile.query_selector("b").ok().flatten().is_none(),
        "a name was rendered as HTML"
    );
    assert!(tile
        .text_content()
        .unwrap_or_default()
        .contains("Ana <b>bold</b>"));
    assert!(tile
        .query_selector("[aria-label='Microphone off']")
        .ok()
        .flatten()
        .is_some());
    app.destroy();
    root.remove();
}

#[wasm_bindgen_test]
async fn camera_off_tile_shows_an_avatar_instead_of_video() {
    let root = support::fresh_root();
    let props = PeerTileProps {
        peer: peer(true, false, ConnectionStatus::Connected),
        stream: None,
        sink_id: None,
        quality: Some(Quality::Fair),
        on_stats: Callback::noop(),
        on_visible: Callback::noop(),
        audio_only: false,
        pinned: false,
        on_pin: Callback::noop(),
        reaction: None,
    };
    let app = Renderer::<PeerTile>::with_root_and_props(root.clone(), props).render();
    let tile = support::wait_for(&root, "[data-testid=peer-tile]").await;
    assert_eq!(tile.get_attribute("data-camera").as_deref(), Some("off"));
    let avatar = tile
        .query_selector(".avatar")
        .ok()
        .flatten()
        .expect("avatar");
    assert_eq!(avatar.text_content().as_deref(), Some("A"));
    assert!(
        tile.query_selector(".conn").ok().flatten().is_none(),
        "a connected tile shows no state badge"
    );
    app.destroy();
    root.remove();
}

#[wasm_bindgen_test]
async fn control_buttons_emit_their_callbacks_and_say_what_they_do() {
    let root = support::fresh_root();
    let clicks = Rc::new(RefCell::new(Vec::new()));
    let record = |name: &'static str| {
        let clicks = clicks.clone();
        Callback::from(move |()| clicks.borrow_mut().push(name))
    };
    let props = ControlsProps {
        mic_on: false,
        camera_on: true,
        screen_on: false,
        can_share: true,
        chat_open: false,
        unread: 2,
        participants_open: false,
        settings_open: false,
        count: 3,
        on_toggle_mic: record("mic"),
        on_toggle_camera: record("camera"),
        on_toggle_screen: record("screen"),
        on_toggle_chat: record("chat"),
        on_toggle_participants: record("participants"),
        on_toggle_settings: record("settings"),
        on_react: {
            let clicks = clicks.clone();
            Callback::from(move |reaction: Reaction| {
                clicks.borrow_mut().push(match reaction {
                    Reaction::Clap => "clap",
                    _ => "another reaction",
                })
            })
        },
        on_leave: record("leave"),
    };
    let app = Renderer::<Controls>::with_root_and_props(root.clone(), props).render();
    let mic = support::wait_for(&root, "[data-testid=mic-toggle]").await;
    assert_eq!(
        mic.get_attribute("aria-label").as_deref(),
        Some("Unmute microphone")
    );
    assert_eq!(mic.get_attribute("aria-pressed").as_deref(), Some("true"));
    for id in [
        "mic-toggle",
        "camera-toggle",
        "screen-toggle",
        "chat-toggle",
        "participants-toggle",
        "settings-toggle",
        "leave-button",
    ] {
        let button = root
            .query_selector(&format!("[data-testid={id}]"))
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("{id} missing"));
        assert!(
            button
                .get_attribute("aria-label")
                .is_some_and(|l| !l.is_empty()),
            "{id} has no accessible name"
        );
        support::click(&root, &format!("[data-testid={id}]"));
    }
    // The reactions open in a row, each named, and one click sends one.
    support::click(&root, "[data-testid=reactions-toggle]");
    support::wait_for(&root, "[data-testid=reaction-clap]").await;
    for reaction in Reaction::ALL {
        let button = root
            .query_selector(&format!("[data-testid=reaction-{}]", reaction.name()))
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("{} missing", reaction.name()));
        assert!(button
            .get_attribute("aria-label")
            .is_some_and(|l| !l.is_empty()));
    }
    support::click(&root, "[data-testid=reaction-clap]");
    assert_eq!(
        *clicks.borrow(),
        [
            "mic",
            "camera",
            "screen",
            "chat",
            "participants",
            "settings",
            "leave",
            "clap"
        ]
    );
    app.destroy();
    root.remove();
}

#[wasm_bindgen_test]
async fn start_button_navigates_to_a_fresh_valid_room() {
    let root = support::fresh_root();
    let routes = Rc::new(RefCell::new(Vec::new()));
    let on_navigate = {
        let routes = routes.clone();
        Callback::from(move |route: Route| routes.borrow_mut().push(route))
    };
    let props = HomeProps {
        on_navigate,
        bad_link: false,
    };
    let app = Renderer::<Home>::with_root_and_props(root.clone(), props).render();
    support::wait_for(&root, "[data-testid=start-meeting]").await;
    support::click(&root, "[data-testid=start-meeting]");
    support::click(&root, "[data-testid=start-meeting]");
    let routes = routes.borrow();
    assert_eq!(routes.len(), 2);
    match (&routes[0], &routes[1]) {
        (Route::Room(a), Route::Room(b)) => {
            assert_ne!(a, b, "two new meetings got the same name");
            assert_eq!(Route::from_path(&routes[0].path()), routes[0]);
        }
        other => panic!("expected rooms, got {other:?}"),
    }
    app.destroy();
    root.remove();
}

#[wasm_bindgen_test]
async fn a_visible_tile_reports_it_and_its_stats_button_asks_for_details() {
    let root = support::fresh_root();
    let events = Rc::new(RefCell::new(Vec::new()));
    let (on_stats, on_visible) = {
        let (a, b) = (events.clone(), events.clone());
        (
            Callback::from(move |()| a.borrow_mut().push("stats".to_owned())),
            Callback::from(move |visible: bool| b.borrow_mut().push(format!("visible={visible}"))),
        )
    };
    let props = PeerTileProps {
        peer: peer(true, true, ConnectionStatus::Connected),
        stream: None,
        sink_id: None,
        quality: None,
        on_stats,
        on_visible,
        audio_only: false,
        pinned: false,
        on_pin: {
            let events = events.clone();
            Callback::from(move |()| events.borrow_mut().push("pin".to_owned()))
        },
        reaction: Some(Reaction::Party),
    };
    let app = Renderer::<PeerTile>::with_root_and_props(root.clone(), props).render();
    support::wait_for(&root, "[data-testid=stats-toggle]").await;
    // Their reaction floats over the tile, named for screen readers.
    let reaction = support::wait_for(&root, "[data-testid=tile-reaction]").await;
    assert_eq!(
        reaction.get_attribute("data-reaction").as_deref(),
        Some("party")
    );
    assert!(reaction
        .get_attribute("aria-label")
        .is_some_and(|l| !l.is_empty()));
    support::wait_until("the tile to report that it is visible", 5_000, || {
        events
            .borrow()
            .contains(&"visible=true".to_owned())
            .then_some(())
    })
    .await;
    support::click(&root, "[data-testid=stats-toggle]");
    assert!(events.borrow().contains(&"stats".to_owned()));
    support::click(&root, "[data-testid=pin-toggle]");
    assert!(events.borrow().contains(&"pin".to_owned()));
    let mark = root
        .query_selector("[data-testid=quality]")
        .ok()
        .flatten()
        .expect("mark");
    assert_eq!(
        mark.get_attribute("data-quality").as_deref(),
        Some("unknown")
    );
    app.destroy();
    root.remove();
}

#[wasm_bindgen_test]
async fn stats_panel_exposes_the_figures_as_data_attributes() {
    let root = support::fresh_root();
    let latest = PeerStats {
        out_video_bps: 412_345.0,
        in_video_bps: 300_000.0,
        rtt_ms: Some(1.5),
        in_loss: 0.0125,
        out_fps: Some(15.0),
        in_size: Some((320, 180)),
        pair: Some((
            Candidate {
                kind: "host".into(),
                address: "127.0.0.1".into(),
                port: 5000,
                protocol: "udp".into(),
            },
            Candidate {
                kind: "host".into(),
                address: "127.0.0.1".into(),
                port: 5001,
                protocol: "udp".into(),
            },
        )),
        quality: Quality::Good,
        ..PeerStats::default()
    };
    let figures = PeerFigures {
        latest,
        history: (0..10)
            .map(|i| Point {
                video_bps: f64::from(i) * 1000.0,
                rtt_ms: 2.0,
            })
            .collect(),
    };
    let props = StatsPanelProps {
        peer_id: "p-1".into(),
        name: "Ana".into(),
        figures: Some(figures),
    };
    let app = Renderer::<StatsPanel>::with_root_and_props(root.clone(), props).render();
    let panel = support::wait_for(&root, "[data-testid=stats-panel]").await;
    let attr = |name: &str| panel.get_attribute(name);
    assert_eq!(attr("data-peer-id").as_deref(), Some("p-1"));
    assert_eq!(attr("data-out-video-bps").as_deref(), Some("412345"));
    assert_eq!(attr("data-rtt-ms").as_deref(), Some("1.5"));
    assert_eq!(attr("data-in-loss").as_deref(), Some("0.0125"));
    assert_eq!(attr("data-in-resolution").as_deref(), Some("320×180"));
    assert_eq!(attr("data-local-candidate-type").as_deref(), Some("host"));
    let points = panel
        .query_selector("polyline.bitrate")
        .ok()
        .flatten()
        .and_then(|p| p.get_attribute("points"))
        .unwrap_or_default();
    assert_eq!(points.split(' ').count(), 10, "one graph point per sample");
    app.destroy();
    root.remove();
}
