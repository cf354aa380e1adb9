//! `cargo xtask serve`: build everything in release, then run the relay serving `dist/`;
//! with `--janus`, also a Janus for large rooms, started and stopped with the relay.

use crate::cmd::{self, heading};
use crate::janus::Janus;
use crate::{build, Result};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

/// What the relay prints once it accepts connections.
const LISTENING: &str = "meshmeet relay listening on ";

/// Builds the client and the relay, then runs the relay in the foreground with `relay_args`;
/// with `janus`, a Janus first (installed if missing), which the relay is pointed at.
pub fn run(janus: bool, relay_args: &[String]) -> Result {
    if janus && relay_args.iter().any(|a| a.starts_with("--janus-url")) {
        return Err(
            "`--janus` starts its own Janus: drop `--janus-url` from the relay flags \
                    (or drop `--janus` to use yours)"
                .into(),
        );
    }
    let (dist, relay) = build::all()?;
    let janus = if janus {
        heading("starting Janus (deploy/janus, a fresh admin key, loopback)");
        let janus = Janus::start()?;
        println!(
            "Janus's API is on {} (its log: {}); rooms of more than --mesh-max \
             (default 4) people move to it",
            janus.url(),
            janus.log().display()
        );
        Some(janus)
    } else {
        None
    };
    heading("starting the relay (Ctrl-C stops it)");
    let mut command = cmd::cmd(&relay);
    if !relay_args
        .iter()
        .any(|a| a == "--dist" || a.starts_with("--dist="))
    {
        command.arg("--dist").arg(&dist);
    }
    if let Some(janus) = &janus {
        command.arg("--janus-url").arg(janus.url());
    }
    command.args(relay_args).stdout(Stdio::piped());
    println!("$ {}", cmd::display(&command));
    if let Some(janus) = &janus {
        // The key goes by the environment (a flag's value shows in `ps`), set after the
        // command is printed so it does not show on the terminal either.
        command.env("MESHMEET_JANUS_ADMIN_KEY", janus.admin_key());
    }
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
