//! `cargo xtask serve` itself: it prints the URL of meshmeet, and that page loads.

use meshmeet_e2e::process::ProcessGuard;
use meshmeet_e2e::{run_test, workspace_root, Context, Error, DEFAULT_WAIT};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// Building is already done by the time this runs under `cargo xtask test`; on a cold tree it
/// includes a release build of both parts.
const SERVE_START_TIMEOUT: Duration = Duration::from_secs(600);
const PRINTED: &str = "meshmeet is running at ";

#[tokio::test]
async fn cargo_xtask_serve_prints_its_url_and_the_page_loads() {
    run_test(
        "cargo_xtask_serve_prints_its_url_and_the_page_loads",
        async |t| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut child = tokio::process::Command::new(cargo)
                .args(["xtask", "serve", "--", "--listen", "127.0.0.1:0"])
                .current_dir(workspace_root())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .process_group(0)
                .kill_on_drop(true)
                .spawn()
                .context("starting `cargo xtask serve`")?;
            let stdout = child.stdout.take().ok_or_else(|| Error::new("no stdout"))?;
            let _guard = ProcessGuard::new("cargo xtask serve", child);

            let mut lines = BufReader::new(stdout).lines();
            let url = tokio::time::timeout(SERVE_START_TIMEOUT, async {
                while let Some(line) = lines.next_line().await? {
                    if let Some(rest) = line.split(PRINTED).nth(1) {
                        let url = rest
                            .split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_owned();
                        return Ok::<_, std::io::Error>(Some(url));
                    }
                }
                Ok(None)
            })
            .await
            .context("waiting for `cargo xtask serve` to print its URL")??
            .ok_or_else(|| Error::new("`cargo xtask serve` ended without printing its URL"))?;
            assert!(url.starts_with("http://127.0.0.1:"), "printed URL: {url}");

            let browser = t.chromium().await?;
            browser.goto(&url).await?;
            browser
                .wait_for("[data-testid=start-meeting]", DEFAULT_WAIT)
                .await?;
            browser.screenshot(t.artifact("serve.png")).await?;
            Ok(())
        },
    )
    .await;
}
