//! `cargo xtask serve`: build everything in release, then run the relay serving `dist/`.

use crate::cmd::{self, heading};
use crate::{build, Result};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

/// What the relay prints once it accepts connections.
const LISTENING: &str = "meshmeet relay listening on ";

/// Builds the client and the relay, then runs the relay in the foreground with `relay_args`.
pub fn run(relay_args: &[String]) -> Result {
    let (dist, relay) = build::all()?;
    heading("starting the relay (Ctrl-C stops it)");
    let mut command = cmd::cmd(&relay);
    if !relay_args
        .iter()
        .any(|a| a == "--dist" || a.starts_with("--dist="))
    {
        command.arg("--dist").arg(&dist);
    }
    command.args(relay_args).stdout(Stdio::piped());
    println!("$ {}", cmd::display(&command));
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", relay.display()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading the relay's output: {e}"))?;
        println!("{line}");
        if let Some(url) = line.split(LISTENING).nth(1) {
            let url = url.trim();
            println!(
                "\n    meshmeet is running at {url}  (open it in a browser; Ctrl-C stops it)\n"
            );
            if url.contains("0.0.0.0") || url.contains("[::]") {
                println!("    Cameras need HTTPS outside localhost: see README.md, Deployment.\n");
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for the relay: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the relay exited with {status}"))
    }
}
