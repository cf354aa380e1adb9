//! The frame of every end-to-end test: a relay, the browsers the test opens, artifacts when it
//! fails, and cleanup of every process whatever happens.

use crate::browser::Browser;
use crate::driver::BrowserKind;
use crate::relay::Relay;
use crate::{workspace_root, Result};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// A whole test may take this long before it fails with a timeout (artifacts are saved).
pub const TEST_TIMEOUT: Duration = Duration::from_secs(300);
/// How long closing a session may take during cleanup.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one page may take to give a screenshot or its console log for the artifacts.
const ARTIFACT_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything one test started. Created by [`run_test`]; dropping it kills every process.
#[derive(Debug)]
pub struct TestCtx {
    name: String,
    relay: Relay,
    browsers: Mutex<Vec<Browser>>,
    /// What the relay's log must not hold, besides the secrets on its command line.
    secrets: Mutex<Vec<String>>,
}

/// Flags whose value is a secret: the relay must never log it.
const SECRET_FLAGS: [&str; 4] = [
    "--turn-secret",
    "--turn-password",
    "--token-secret",
    "--janus-admin-key",
];

impl TestCtx {
    /// The test's name (its artifact directory).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Fails the test if the relay ever logs `secret` (a room password typed in a page, a
    /// secret the relay made): checked when the test body has passed.
    pub fn keep_out_of_logs(&self, secret: &str) {
        self.secrets.lock().unwrap().push(secret.to_owned());
    }

    /// The relay serving the release client.
    pub fn relay(&self) -> &Relay {
        &self.relay
    }

    /// The relay's base URL, like `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        self.relay.url()
    }

    /// `tests/e2e/artifacts/<test-name>/<file>` (the directory is created).
    pub fn artifact(&self, file: &str) -> PathBuf {
        let dir = artifacts_dir(&self.name);
        let _ = std::fs::create_dir_all(&dir);
        dir.join(file)
    }

    /// A new headless Chromium session pointed at the relay.
    pub async fn chromium(&self) -> Result<Browser> {
        self.browser(BrowserKind::Chromium).await
    }

    /// A new headless Firefox session pointed at the relay.
    pub async fn firefox(&self) -> Result<Browser> {
        self.browser(BrowserKind::Firefox).await
    }

    /// A new session of `kind` pointed at the relay; it is screenshotted if the test fails.
    pub async fn browser(&self, kind: BrowserKind) -> Result<Browser> {
        self.browser_with_args(kind, &[]).await
    }

    /// A new headless Chromium session with extra flags (`--ignore-certificate-errors`).
    pub async fn chromium_with_args(&self, args: &[&str]) -> Result<Browser> {
        self.browser_with_args(BrowserKind::Chromium, args).await
    }

    async fn browser_with_args(&self, kind: BrowserKind, args: &[&str]) -> Result<Browser> {
        let browser = Browser::launch_with_args(kind, Some(self.relay.url()), args).await?;
        self.browsers.lock().unwrap().push(browser.clone());
        Ok(browser)
    }

    /// The relay's log, then screenshots, console logs and driver logs of every browser. A
    /// page that does not answer within [`ARTIFACT_TIMEOUT`] is noted and skipped: a hung
    /// renderer keeps WebDriver waiting 300 s per command.
    async fn save_artifacts(&self) {
        write(self.artifact("relay.log"), self.relay.log().join("\n"));
        let browsers = self.browsers.lock().unwrap().clone();
        for browser in &browsers {
            let label = browser.label();
            let screenshot = browser.screenshot(self.artifact(&format!("{label}.png")));
            match tokio::time::timeout(ARTIFACT_TIMEOUT, screenshot).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => eprintln!("[e2e] could not screenshot {label}: {e}"),
                Err(_) => eprintln!("[e2e] {label} gave no screenshot within {ARTIFACT_TIMEOUT:?}"),
            }
            match tokio::time::timeout(ARTIFACT_TIMEOUT, browser.console_logs()).await {
                Ok(Ok(lines)) => write(
                    self.artifact(&format!("{label}-console.log")),
                    lines.join("\n"),
                ),
                Ok(Err(e)) => eprintln!("[e2e] could not read the console of {label}: {e}"),
                Err(_) => {
                    eprintln!("[e2e] {label} gave no console log within {ARTIFACT_TIMEOUT:?}")
                }
            }
            write(
                self.artifact(&format!("{label}-driver.log")),
                browser.driver_log(),
            );
        }
        eprintln!(
            "[e2e] artifacts of failed test `{}` are in {}",
            self.name,
            artifacts_dir(&self.name).display()
        );
    }

    /// Ends every session politely; the processes are killed when the context drops.
    async fn close_browsers(&self) {
        let browsers = std::mem::take(&mut *self.browsers.lock().unwrap());
        for browser in browsers {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, browser.close()).await;
        }
    }
}

fn write(path: PathBuf, text: String) {
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("[e2e] could not write {}: {e}", path.display());
    }
}

/// `tests/e2e/artifacts/<test-name>`.
pub fn artifacts_dir(test_name: &str) -> PathBuf {
    workspace_root()
        .join("tests/e2e/artifacts")
        .join(test_name.replace("::", "-"))
}

/// Runs one end-to-end test: starts the relay, runs `body` with a [`TestCtx`], and if `body`
/// fails, panics or times out saves screenshots and logs to `tests/e2e/artifacts/<name>/`
/// before failing the test. Every process started is killed in all cases.
///
/// ```no_run
/// # async fn example() {
/// meshmeet_e2e::run_test("app_loads", async |t| {
///     let alice = t.chromium().await?;
///     alice.goto("/r/some-room").await?;
///     alice.wait_for("[data-testid=app]", meshmeet_e2e::DEFAULT_WAIT).await?;
///     Ok(())
/// })
/// .await;
/// # }
/// ```
pub async fn run_test(name: &str, body: impl AsyncFnOnce(&TestCtx) -> Result) {
    run_test_with(name, &[], body).await
}

/// [`run_test`] with extra relay flags (after `--listen 127.0.0.1:0 --dist <dist>`).
pub async fn run_test_with(
    name: &str,
    relay_args: &[&str],
    body: impl AsyncFnOnce(&TestCtx) -> Result,
) {
    run_test_within(name, relay_args, TEST_TIMEOUT, body).await
}

/// [`run_test_with`] with a time limit other than [`TEST_TIMEOUT`], for the few tests that
/// drive six browsers.
pub async fn run_test_within(
    name: &str,
    relay_args: &[&str],
    limit: Duration,
    body: impl AsyncFnOnce(&TestCtx) -> Result,
) {
    // One test at a time per test binary, even without `--test-threads=1`: several
    // browsers per test already saturate two cores. (tokio's Mutex works across the
    // runtimes of separate #[tokio::test]s and is not poisoned by a failed test.)
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _serial = SERIAL.lock().await;
    // Stale artifacts from an earlier run would mislead whoever reads them.
    let _ = std::fs::remove_dir_all(artifacts_dir(name));
    let relay = match Relay::start(relay_args).await {
        Ok(relay) => relay,
        Err(e) => panic!("{name}: starting the relay: {e}"),
    };
    let ctx = TestCtx {
        name: name.to_owned(),
        relay,
        browsers: Mutex::new(Vec::new()),
        secrets: Mutex::new(Vec::new()),
    };
    let outcome = AssertUnwindSafe(tokio::time::timeout(limit, body(&ctx)))
        .catch_unwind()
        .await;
    let failure = match outcome {
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(error))) => Some(Failure::Error(format!("{name}: {error}"))),
        Ok(Err(_elapsed)) => Some(Failure::Error(format!(
            "{name}: did not finish within {limit:?}"
        ))),
        Err(payload) => Some(Failure::Panic(payload)),
    };
    let failure = failure.or_else(|| {
        leaked_secret(&ctx, relay_args)
            .map(|what| Failure::Error(format!("{name}: the relay's log holds {what}")))
    });
    if failure.is_some() {
        ctx.save_artifacts().await;
    }
    ctx.close_browsers().await;
    drop(ctx);
    match failure {
        None => {}
        // The panic hook printed the message already; carry on unwinding.
        Some(Failure::Panic(payload)) => std::panic::resume_unwind(payload),
        Some(Failure::Error(message)) => panic!("{message}"),
    }
}

/// Which secret, if any, the relay's log holds (at the debug level the tests run it at):
/// the values of its secret flags, and what the test asked to keep out.
fn leaked_secret(ctx: &TestCtx, relay_args: &[&str]) -> Option<String> {
    let log = ctx.relay.log().join("\n");
    let flags = relay_args
        .windows(2)
        .filter(|pair| SECRET_FLAGS.contains(&pair[0]))
        .map(|pair| (pair[1].to_owned(), format!("the value of {}", pair[0])));
    let declared = ctx
        .secrets
        .lock()
        .unwrap()
        .iter()
        .map(|secret| (secret.clone(), "a secret the test named".to_owned()))
        .collect::<Vec<_>>();
    flags
        .chain(declared)
        .find(|(secret, _)| !secret.is_empty() && log.contains(secret.as_str()))
        .map(|(_, what)| what)
}

/// Why a test body failed.
enum Failure {
    Panic(Box<dyn std::any::Any + Send>),
    Error(String),
}
