//! `floor-server [ADDRESS]`: the bare WebSocket forwarder the relay is measured against (see
//! `meshmeet_loadgen::floor`). Prints `floor server listening on http://<address>` on stdout
//! and serves until killed. Default address 127.0.0.1:0 (a free port).

use std::io::Write;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    if let Err(err) = meshmeet_loadgen::sys::raise_fd_limit() {
        eprintln!("floor-server: could not raise the file-descriptor limit: {err}");
    }
    let listener = match tokio::net::TcpListener::bind(&address).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("floor-server: cannot listen on {address}: {err}");
            return ExitCode::FAILURE;
        }
    };
    let Ok(bound) = listener.local_addr() else {
        eprintln!("floor-server: cannot read the bound address");
        return ExitCode::FAILURE;
    };
    let mut stdout = std::io::stdout().lock();
    let _ =
        writeln!(stdout, "floor server listening on http://{bound}").and_then(|()| stdout.flush());
    drop(stdout);
    meshmeet_loadgen::floor::serve(listener, std::future::pending()).await;
    ExitCode::SUCCESS
}
