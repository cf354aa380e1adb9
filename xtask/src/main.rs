//! Project tasks run as `cargo xtask <task>`: `serve`, `test`, `size` and `bench`.

mod bench;
mod bench_relay;
mod build;
mod cmd;
mod janus;
mod serve;
mod size;
mod test;
mod tools;

use std::process::ExitCode;

/// Errors in xtask are sentences for a person: what failed and what to do about it.
pub type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  serve [--janus] [-- relay flags]
                           build the client (release) and the relay, then run meshmeet
                           (http://127.0.0.1:8080 unless --listen says otherwise);
                           --janus also runs a Janus (installed if missing) for rooms
                           past --mesh-max people, stopped with the relay
  test                     everything CI runs: fmt, clippy, native tests, wasm tests in
                           headless Chromium and Firefox, the client's size budget, then
                           the end-to-end suite
  size [--dist <dir>]      release build of the client (or the one in <dir>), then raw
                           and gzipped sizes; fails over the budget (xtask/src/size.rs)
  bench [--call-setup] [--uplink] [--relay] [--load] [--sfu] [--e2ee] [--live]
                           benchmarks, printed as tables and written to
                           target/bench/bench.json: call setup and uplink (2/4/6 people)
                           in headless Chromium,
                           the relay against a bare WebSocket floor at 100/1,000/5,000
                           clients, and a 2,000-client 60 s load run (no flag: all of
                           these); --sfu: mesh against Janus for 2 to 8 people; --e2ee:
                           encrypted against plain calls (2 and 4 people, mesh and SFU);
                           --live: a live's glass-to-glass delays and what its audience
                           costs

Missing tools (wasm target, trunk, wasm-bindgen-cli, binaryen, browsers and drivers)
are installed on first use.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("", &[][..]),
    };
    let result = match task {
        "serve" => {
            let (janus, rest) = match rest.split_first() {
                Some((flag, rest)) if flag == "--janus" => (true, rest),
                _ => (false, rest),
            };
            serve::run(janus, strip_separator(rest))
        }
        "test" if rest.is_empty() => return test::run(),
        "size" => size::run(rest),
        "bench" => bench::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask serve -- --listen …` passes the `--` through to us; the relay does not want it.
fn strip_separator(args: &[String]) -> &[String] {
    match args.first() {
        Some(first) if first == "--" => &args[1..],
        _ => args,
    }
}
