//! `cargo xtask test`: every check CI runs, in order, stopping after the first red step (a
//! test step still runs all its test binaries: `--no-fail-fast`), and a closing
//! `N passed, N failed` line summed over the libtest summaries of every test step.

use crate::cmd::{self, heading};
use crate::{bench, bench_relay, build, size, tools, Result};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// Seconds a wasm-bindgen-test binary may run in a browser (the runner's default is 20).
const WASM_TEST_TIMEOUT_SECS: &str = "180";
/// Seconds the runner waits for chromedriver / geckodriver to listen (its default is 5,
/// tight on a busy two-core machine).
const WASM_DRIVER_TIMEOUT_SECS: &str = "30";

/// The WebDriver variables wasm-bindgen-test-runner looks at; we set exactly one.
const DRIVER_VARS: [&str; 8] = [
    "GECKODRIVER",
    "SAFARIDRIVER",
    "CHROMEDRIVER",
    "MSEDGEDRIVER",
    "GECKODRIVER_REMOTE",
    "SAFARIDRIVER_REMOTE",
    "CHROMEDRIVER_REMOTE",
    "MSEDGEDRIVER_REMOTE",
];

/// Counts and timings collected while the steps run.
#[derive(Default)]
struct Report {
    passed: u64,
    failed: u64,
    timings: Vec<(String, Duration)>,
}

impl Report {
    /// Runs `body` as a named, timed step.
    fn timed<T>(&mut self, name: &str, body: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let started = Instant::now();
        let result = body(self);
        self.timings.push((name.to_owned(), started.elapsed()));
        result
    }

    /// A step that is not a test run (fmt, clippy): it passes or it fails.
    fn check(&mut self, name: &str, command: &mut Command) -> Result {
        self.timed(name, |_| {
            heading(name);
            cmd::run(command)
        })
    }

    /// A test step: counts the libtest summaries it prints and fails when it fails or when it
    /// ran no test at all.
    fn tests(&mut self, name: &str, command: &mut Command) -> Result {
        self.timed(name, |report| {
            heading(name);
            let (mut passed, mut failed) = (0, 0);
            let ok = cmd::run_teed(command, |line| {
                if let Some((p, f)) = parse_summary(line) {
                    passed += p;
                    failed += f;
                }
            })?;
            // A crashed or timed-out test binary prints no summary; count it as one failure.
            if !ok && failed == 0 {
                failed = 1;
            }
            report.passed += passed;
            report.failed += failed;
            if !ok {
                return Err(format!("{name}: failed"));
            }
            if passed + failed == 0 {
                return Err(format!("{name}: ran 0 tests, expected some"));
            }
            println!("{name}: {passed} passed, {failed} failed");
            Ok(())
        })
    }
}

/// Runs every step and prints the closing line; the exit code says whether all was green.
pub fn run() -> ExitCode {
    let started = Instant::now();
    let mut report = Report::default();
    let result = steps(&mut report);
    heading("timings");
    for (name, took) in &report.timings {
        println!("{:>8.1}s  {name}", took.as_secs_f64());
    }
    println!("{:>8.1}s  total", started.elapsed().as_secs_f64());
    let code = match &result {
        Ok(()) if report.failed == 0 => ExitCode::SUCCESS,
        Ok(()) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    };
    println!("{} passed, {} failed", report.passed, report.failed);
    code
}

fn steps(report: &mut Report) -> Result {
    report.timed("install: rustfmt and clippy", |_| {
        tools::ensure_components()
    })?;
    report.check("format", cmd::cargo().args(["fmt", "--all", "--check"]))?;
    report.check(
        "clippy (native)",
        cmd::cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    report.timed("install: wasm target", |_| tools::ensure_wasm_target())?;
    report.check(
        "clippy (wasm)",
        cmd::cargo().args([
            "clippy",
            "-p",
            "meshmeet",
            "-p",
            "meshmeet-protocol",
            "--target",
            "wasm32-unknown-unknown",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    report.timed("install: redis-server", |_| tools::ensure_redis())?;
    report.timed("install: janus", |_| tools::ensure_janus())?;
    // The relay's camera test pulls a mock RTSP camera through ffmpeg.
    report.timed("install: ffmpeg, nginx-rtmp and a mock RTSP camera", |_| {
        tools::ensure_live_media()
    })?;
    report.tests(
        "native tests",
        cmd::cargo().args([
            "test",
            "--workspace",
            "--exclude",
            "meshmeet-e2e",
            "--no-fail-fast",
        ]),
    )?;

    let browsers = report.timed("install: wasm-bindgen-cli, browsers and drivers", |_| {
        tools::ensure_wasm_bindgen()?;
        tools::ensure_browsers()
    })?;
    for (browser, var, driver) in [
        ("Chromium", "CHROMEDRIVER", &browsers.chromedriver),
        ("Firefox", "GECKODRIVER", &browsers.geckodriver),
    ] {
        let mut command = cmd::cargo();
        // `--tests`: lib, bins and tests/*.rs; doctests do not run on wasm.
        command.args([
            "test",
            "-p",
            "meshmeet",
            "--target",
            "wasm32-unknown-unknown",
            "--tests",
            "--no-fail-fast",
        ]);
        for name in DRIVER_VARS {
            command.env_remove(name);
        }
        command.env(var, driver);
        for (name, default) in [
            ("WASM_BINDGEN_TEST_TIMEOUT", WASM_TEST_TIMEOUT_SECS),
            ("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", WASM_DRIVER_TIMEOUT_SECS),
        ] {
            if std::env::var_os(name).is_none() {
                command.env(name, default);
            }
        }
        report.tests(&format!("wasm tests in headless {browser}"), &mut command)?;
    }

    let tools = report.timed("install: trunk and binaryen", |_| {
        tools::ensure_client_tools()
    })?;
    let dist = report.timed("build: client (release)", |_| build::client_release(&tools))?;
    report.timed("client size budget", |_| size::check_budget(&dist))?;
    let relay = report.timed("build: relay", |_| build::relay())?;
    let axe = report.timed("install: axe-core and a Chinese font", |_| {
        tools::ensure_cjk_font()?;
        tools::ensure_axe_core()
    })?;
    let aiortc = report.timed("install: coturn, tc, ffmpeg, nginx-rtmp and aiortc", |_| {
        tools::ensure_coturn()?;
        tools::ensure_tc()?;
        tools::ensure_live_media()?;
        tools::ensure_aiortc()
    })?;
    report.tests(
        "end-to-end tests",
        cmd::cargo()
            .args([
                "test",
                "-p",
                "meshmeet-e2e",
                "--no-fail-fast",
                "--",
                "--test-threads=1",
            ])
            .env("MESHMEET_SERVER_BIN", &relay)
            .env("MESHMEET_DIST", &dist)
            .env("MESHMEET_AXE_JS", &axe)
            .env("MESHMEET_AIORTC_PYTHON", &aiortc)
            .env("CHROMEDRIVER", &browsers.chromedriver)
            .env("GECKODRIVER", &browsers.geckodriver),
    )?;
    // Last: a short run of the call-setup benchmark (its floor page, the app, the lobby
    // mark) and a few seconds of the relay benchmark (loadgen against the relay binary and the
    // floor server), so the benchmark code cannot rot between `cargo xtask bench` runs.
    report.timed("call-setup benchmark smoke", |_| {
        bench::call_setup_smoke(&dist, &relay)
    })?;
    report.timed("mesh-and-SFU benchmark smoke", |_| {
        bench::sfu_smoke(&dist, &relay)
    })?;
    report.timed("benchmark smoke", |_| {
        heading("benchmark smoke: loadgen against the relay and the floor server");
        bench_relay::smoke(&relay)
    })
}

/// `(passed, failed)` from a libtest or wasm-bindgen-test-runner summary line:
/// `test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s`.
fn parse_summary(line: &str) -> Option<(u64, u64)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let (mut passed, mut failed) = (None, None);
    for part in rest.split(';') {
        let words: Vec<&str> = part.split_whitespace().collect();
        if let [.., count, label] = words[..] {
            match label {
                "passed" => passed = count.parse().ok(),
                "failed" => failed = count.parse().ok(),
                _ => {}
            }
        }
    }
    Some((passed?, failed?))
}

#[cfg(test)]
mod tests {
    use super::parse_summary;

    #[test]
    fn parses_libtest_summaries() {
        let ok = "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.31s";
        assert_eq!(parse_summary(ok), Some((12, 0)));
        let red = "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out";
        assert_eq!(parse_summary(red), Some((3, 2)));
    }

    #[test]
    fn parses_wasm_bindgen_test_runner_summaries() {
        let line =
            "test result: ok. 2 passed; 0 failed; 0 ignored; 0 filtered out; finished in 1.05s";
        assert_eq!(parse_summary(line), Some((2, 0)));
    }

    #[test]
    fn ignores_other_lines() {
        assert_eq!(parse_summary("test app_mounts ... ok"), None);
        assert_eq!(parse_summary("running 3 tests"), None);
        assert_eq!(parse_summary("test result: garbled"), None);
    }
}
