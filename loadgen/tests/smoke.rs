//! The load generator against an in-process relay and floor server: small, a few seconds,
//! so the benchmark code keeps working and the relay keeps delivering everything under churn.

use std::time::Duration;

use meshmeet_loadgen::{LoadConfig, Phase, Target};
use tokio::net::TcpListener;

/// Every run here must end well inside this.
const RUN_TIMEOUT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_with_churn_lose_nothing_through_the_relay() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let config = meshmeet_server::Config {
        listen: address,
        dist: "/nonexistent/meshmeet-loadgen-test".into(),
        ..meshmeet_server::Config::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let relay = tokio::spawn(meshmeet_server::serve(config, listener, async move {
        let _ = stopped.await;
    }));

    let mut load = LoadConfig::new(vec![format!("ws://{address}/ws")], Target::Relay, 50);
    load.settle = Duration::from_millis(200);
    load.phases = vec![Phase {
        name: "steady".into(),
        duration: Duration::from_secs(3),
        // Under the default limit of 50 per second.
        rate_per_client: 10.0,
        window: 0,
    }];
    load.churn_per_second = 5.0;
    let report = tokio::time::timeout(RUN_TIMEOUT, meshmeet_loadgen::run(load))
        .await
        .expect("the run ends in time")
        .expect("the run completes");

    assert!(report.ok, "{}", report.summary());
    let m = &report.messages;
    assert_eq!(
        (m.lost, m.duplicated, m.misrouted, m.reordered),
        (0, 0, 0, 0)
    );
    assert!(m.delivered > 1_000, "{}", report.summary());
    assert_eq!(report.connections.peak, 50);
    assert!(report.connections.rejoins >= 10, "{}", report.summary());
    let json = serde_json::to_value(&report).expect("JSON");
    assert_eq!(json["messages"]["lost"], 0);
    assert!(json["phases"][0]["latency_us"]["p99"].as_u64().is_some());

    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_floor_server_carries_a_closed_loop_without_loss() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let floor = tokio::spawn(meshmeet_loadgen::floor::serve(listener, async move {
        let _ = stopped.await;
    }));

    let mut load = LoadConfig::new(vec![format!("ws://{address}/ws")], Target::Floor, 20);
    load.settle = Duration::from_millis(100);
    load.phases = vec![Phase {
        name: "throughput".into(),
        duration: Duration::from_secs(1),
        rate_per_client: 0.0,
        window: 4,
    }];
    let report = tokio::time::timeout(RUN_TIMEOUT, meshmeet_loadgen::run(load))
        .await
        .expect("the run ends in time")
        .expect("the run completes");

    assert!(report.ok, "{}", report.summary());
    assert!(report.messages.delivered > 1_000, "{}", report.summary());
    assert_eq!(report.messages.delivered, report.messages.sent);

    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), floor).await;
}

#[test]
fn churn_against_the_floor_is_refused() {
    let mut load = LoadConfig::new(vec!["ws://127.0.0.1:1/ws".into()], Target::Floor, 4);
    load.churn_per_second = 1.0;
    assert!(load.validate().is_err());
}
