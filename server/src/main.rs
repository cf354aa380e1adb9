//! The relay binary: reads the configuration, sets up logging, loads or makes the TLS
//! certificate, binds, prints the address the e2e harness waits for (and a generated
//! certificate's fingerprint), and serves until SIGINT or SIGTERM.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use meshmeet_server::{Config, LogFormat, TlsSetup};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let mut config = Config::parse();
    init_logging(config.log_format);
    limit_pending_to_descriptors(&mut config);
    if let Err(err) = config.validate() {
        tracing::error!(%err, "not starting");
        return ExitCode::FAILURE;
    }
    let tls = match TlsSetup::from_config(&config) {
        Ok(tls) => tls,
        Err(err) => {
            tracing::error!(%err, "not starting");
            return ExitCode::FAILURE;
        }
    };

    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!(address = %config.listen, %err, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    let address = match listener.local_addr() {
        Ok(address) => address,
        Err(err) => {
            tracing::error!(%err, "cannot read the bound address");
            return ExitCode::FAILURE;
        }
    };
    // Harnesses start the relay on port 0 and read the real port from the listening line.
    // A generated certificate's fingerprint comes first, so people can compare it with what
    // their browser shows before trusting it.
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut stdout = std::io::stdout().lock();
    let fingerprint = match tls.as_ref().filter(|tls| tls.is_self_signed()) {
        Some(tls) => writeln!(
            stdout,
            "meshmeet relay self-signed certificate SHA-256 fingerprint: {}",
            tls.fingerprint()
        ),
        None => Ok(()),
    };
    let announced = fingerprint
        .and_then(|()| writeln!(stdout, "meshmeet relay listening on {scheme}://{address}"))
        .and_then(|()| stdout.flush());
    drop(stdout);
    if let Err(err) = announced {
        tracing::warn!(%err, "could not print the listening address on stdout");
    }

    match meshmeet_server::serve_with_tls(config, listener, tls, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "relay failed");
            ExitCode::FAILURE
        }
    }
}

/// Raises the descriptor limit and keeps pending HTTP connections within half of it, so idle
/// connections cannot leave none for new WebSockets, `/healthz` or Redis.
fn limit_pending_to_descriptors(config: &mut Config) {
    use meshmeet_server::fd_limit;
    let limit = match fd_limit::raise() {
        Ok(limit) => limit,
        Err(err) => {
            tracing::warn!(%err, "cannot read or raise the file-descriptor limit");
            return;
        }
    };
    if limit < fd_limit::LOW_FD_LIMIT {
        tracing::warn!(
            limit,
            "the file-descriptor limit is low: every connection takes one; raise it (ulimit -n, LimitNOFILE=) for more than a few hundred participants"
        );
    }
    let capped = fd_limit::cap_pending(config.max_pending_connections, limit);
    if capped != config.max_pending_connections {
        tracing::info!(
            configured = config.max_pending_connections,
            capped,
            "pending HTTP connections limited to half the file-descriptor limit"
        );
        config.max_pending_connections = capped;
    }
}

/// Libraries that log the messages they carry, word for word, at trace level.
const WIRE_LOGGERS: [&str; 2] = ["tungstenite", "tokio_tungstenite"];

/// Logs to stderr (stdout carries only the address line), filtered by `MESHMEET_LOG`, else
/// `RUST_LOG`, else `info`, as readable lines or one JSON object per line.
fn init_logging(format: LogFormat) {
    let mut filter = EnvFilter::try_from_env("MESHMEET_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // The WebSocket library logs every message it carries at trace level: join passwords and
    // tokens from browsers, room secrets to Janus. Whatever the filter asks, it stops at
    // info, so no secret reaches a log line (and the default level stays as it was).
    for quiet in WIRE_LOGGERS {
        if let Ok(directive) = format!("{quiet}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        // The event's fields at the top level, beside time, level and target: what log
        // collectors index.
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
}

/// Resolves on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}
