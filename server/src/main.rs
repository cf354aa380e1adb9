//! The relay binary: reads the configuration, sets up logging, binds, prints the address the
//! e2e harness waits for, and serves until SIGINT or SIGTERM.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use meshmeet_server::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    init_logging();
    if let Err(err) = config.validate() {
        tracing::error!(%err, "not starting");
        return ExitCode::FAILURE;
    }

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
    // The one line on stdout: harnesses start the relay on port 0 and read the real port here.
    let mut stdout = std::io::stdout().lock();
    let announced = writeln!(stdout, "meshmeet relay listening on http://{address}")
        .and_then(|()| stdout.flush());
    drop(stdout);
    if let Err(err) = announced {
        tracing::warn!(%err, "could not print the listening address on stdout");
    }

    match meshmeet_server::serve(config, listener, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "relay failed");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr (stdout carries only the address line), filtered by `MESHMEET_LOG`, else
/// `RUST_LOG`, else `info`.
fn init_logging() {
    let filter = EnvFilter::try_from_env("MESHMEET_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
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
