//! One headless browser session (Chromium or Firefox) over WebDriver, with fake camera and
//! microphone, and the helpers tests use to drive and inspect the meshmeet page.

use crate::driver::{BrowserKind, Driver};
use crate::process::TempDir;
use crate::{Context, Error, Result};
use fantoccini::elements::Element;
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value as Json};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A script prefix defining `frameCallbacks(video)`: how many `requestVideoFrameCallback`s
/// the video has fired since it was first asked (counting starts then).
macro_rules! count_frame_callbacks_js {
    () => {
        r#"
            const frameCallbacks = v => {
                if (!v.__meshmeetFrames) {
                    v.__meshmeetFrames = { n: 0 };
                    if (v.requestVideoFrameCallback) {
                        const tick = () => { v.__meshmeetFrames.n += 1; v.requestVideoFrameCallback(tick); };
                        v.requestVideoFrameCallback(tick);
                    }
                }
                return v.__meshmeetFrames.n;
            };
        "#
    };
}

/// The Chromium flag of the cheap camera for calls of many browsers on two cores: the fake
/// device at 5 fps (pages ask for 160x90 with `?video=tiny`). At 15 fps, eight pages left
/// WebDriver no time (pages stopped answering for ten seconds at a time).
pub const CHEAP_CAMERA_ARG: &str = "--use-fake-device-for-media-stream=fps=5";
/// [`CHEAP_CAMERA_ARG`] with `?video=tiny`, described for test output and reports.
pub const CHEAP_CAMERA: &str = "160x90 (?video=tiny) at 5 fps (Chromium's fake device)";

/// Poll interval of every `wait_*` helper.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Default for waits on things that appear without network or media work.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(15);
/// Window size of every session, so screenshots are comparable.
const WINDOW_SIZE: (u32, u32) = (1280, 800);

/// A headless browser session. Cheap to clone (clones share the session); the WebDriver
/// server and the browser are killed when the last clone drops.
#[derive(Clone, Debug)]
pub struct Browser {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    kind: BrowserKind,
    label: String,
    client: Client,
    base_url: Option<String>,
    /// Chromium's browser log is drained by each read; everything read is kept here.
    console: Mutex<Vec<String>>,
    // Field order is drop order: kill the driver (and browser) before removing the profile.
    driver: Driver,
    _profile: TempDir,
}

/// The room page in the profile multi-party tests use: `?video=low` asks the client for
/// 320x180 at 15 fps, so several browsers fit on two cores.
pub fn room_url(room: &str) -> String {
    format!("/r/{room}?video=low")
}

/// Waits until every one of `people` (name, browser) decodes the video of every other and
/// shows exactly their tiles; returns how many directed streams were decoded.
pub async fn wait_until_everyone_decodes_everyone(
    people: &[(&str, Browser)],
    timeout: Duration,
) -> Result<usize> {
    let mut streams = 0;
    for (name, browser) in people {
        for (other, _) in people {
            if other != name {
                browser.wait_until_peer_tile_decodes(other, timeout).await?;
                streams += 1;
            }
        }
        let tiles = browser.count("[data-testid=peer-tile]").await?;
        if tiles != people.len() - 1 {
            return Err(Error::new(format!(
                "{}: {tiles} peer tiles, not {}",
                browser.label(),
                people.len() - 1
            )));
        }
    }
    Ok(streams)
}

const RECORD_PEER_CONNECTIONS: &str = r#"
    if (!window.__pcs) {
        window.__pcs = [];
        const Original = window.RTCPeerConnection;
        function Recorded(...args) { const pc = new Original(...args); window.__pcs.push(pc); return pc; }
        Recorded.prototype = Original.prototype;
        Object.setPrototypeOf(Recorded, Original);
        window.RTCPeerConnection = Recorded;
    }
    return true;
"#;

/// What `wait_until_peer_tile_decodes` samples from a `<video>`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VideoSample {
    /// `getVideoPlaybackQuality().totalVideoFrames`.
    pub total_frames: u64,
    /// Frames seen through `requestVideoFrameCallback` since the helper first looked.
    pub frame_callbacks: u64,
    /// `videoWidth` × `videoHeight`.
    pub size: (u64, u64),
    /// `readyState` (4 = enough data).
    pub ready_state: u64,
    /// Whether the element is paused (autoplay blocked, or never played).
    pub paused: bool,
}

impl Browser {
    /// Starts headless Chromium with a fresh profile, fake camera and microphone.
    pub async fn chromium() -> Result<Browser> {
        Self::launch(BrowserKind::Chromium, None).await
    }

    /// Starts headless Firefox with a fresh profile, fake camera and microphone.
    pub async fn firefox() -> Result<Browser> {
        Self::launch(BrowserKind::Firefox, None).await
    }

    /// Starts a browser whose relative URLs (`goto("/r/x")`, `open_room`) resolve against
    /// `base_url` (the relay, like `http://127.0.0.1:41234`).
    pub async fn launch(kind: BrowserKind, base_url: Option<&str>) -> Result<Browser> {
        Self::launch_with_args(kind, base_url, &[]).await
    }

    /// [`launch`](Self::launch) with extra command-line flags for Chromium (such as
    /// `--ignore-certificate-errors` for a relay with a self-signed certificate).
    pub async fn launch_with_args(
        kind: BrowserKind,
        base_url: Option<&str>,
        extra_args: &[&str],
    ) -> Result<Browser> {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let label = format!("{}-{}", kind.name(), NEXT.fetch_add(1, Ordering::Relaxed));
        let profile = TempDir::new(&label)?;
        let driver = Driver::start(kind, profile.path()).await?;
        let capabilities = capabilities(kind, profile.path(), extra_args);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(driver.url())
            .await
            .map_err(|e| {
                Error::new(format!(
                    "starting a {} session failed: {e}; driver log:\n{}",
                    kind.name(),
                    driver.log()
                ))
            })?;
        client
            .set_window_size(WINDOW_SIZE.0, WINDOW_SIZE.1)
            .await
            .context("setting the window size")?;
        Ok(Browser {
            inner: Arc::new(Inner {
                kind,
                label,
                client,
                base_url: base_url.map(|u| u.trim_end_matches('/').to_owned()),
                console: Mutex::new(Vec::new()),
                driver,
                _profile: profile,
            }),
        })
    }

    /// Chromium or Firefox.
    pub fn kind(&self) -> BrowserKind {
        self.inner.kind
    }

    /// A unique name like `chromium-2`, used in messages and artifact file names.
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    /// The fantoccini client, for anything the helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The pid of this session's WebDriver server (its process group holds the browser).
    pub fn driver_pid(&self) -> u32 {
        self.inner.driver.pid()
    }

    /// `url` if absolute, else the base URL joined with `url` (`/r/room`).
    pub fn url_for(&self, url: &str) -> Result<String> {
        if url.starts_with("http://") || url.starts_with("https://") || url.starts_with("about:") {
            return Ok(url.to_owned());
        }
        let base = self.inner.base_url.as_deref().ok_or_else(|| {
            Error::new(format!(
                "{}: relative URL {url:?} but the browser has no base URL (use TestCtx::chromium/firefox)",
                self.label()
            ))
        })?;
        Ok(format!("{base}/{}", url.trim_start_matches('/')))
    }

    /// Navigates to `url` (absolute, or relative to the relay) and waits for the load event.
    pub async fn goto(&self, url: &str) -> Result {
        let url = self.url_for(url)?;
        self.inner
            .client
            .goto(&url)
            .await
            .with_context(|| format!("{}: loading {url}", self.label()))
    }

    /// The page's current URL.
    pub async fn current_url(&self) -> Result<String> {
        Ok(self.inner.client.current_url().await?.to_string())
    }

    /// Goes to `/r/<room>`, types `name` into `[data-testid=name-input]` and clicks
    /// `[data-testid=join-button]` once it is enabled (the lobby disables it while the camera
    /// and microphone start).
    pub async fn open_room(&self, room: &str, name: &str) -> Result {
        self.goto(&format!("/r/{room}")).await?;
        let input = self
            .wait_for("[data-testid=name-input]", DEFAULT_WAIT)
            .await?;
        input.clear().await.context("clearing the name input")?;
        input.send_keys(name).await.context("typing the name")?;
        self.click("[data-testid=join-button]:not([disabled])")
            .await
    }

    /// Opens the room page at `url` (absolute, or a path such as `room_url("x")`), types
    /// `name`, and waits until the join button is enabled (the camera preview started).
    pub async fn ready_to_join(&self, url: &str, name: &str) -> Result {
        self.goto(url).await?;
        let input = self
            .wait_for("[data-testid=name-input]", DEFAULT_WAIT)
            .await?;
        input.clear().await.context("clearing the name input")?;
        input.send_keys(name).await.context("typing the name")?;
        self.wait_for("[data-testid=join-button]:not([disabled])", DEFAULT_WAIT)
            .await?;
        Ok(())
    }

    /// [`ready_to_join`](Self::ready_to_join), then joins and waits for the own tile.
    pub async fn join_call(&self, url: &str, name: &str) -> Result {
        self.ready_to_join(url, name).await?;
        self.join_from_lobby().await
    }

    /// Types `password` into the lobby's room password field (the first person in sets it,
    /// everyone after must give it).
    pub async fn type_password(&self, password: &str) -> Result {
        let input = self
            .wait_for("[data-testid=password-input]", DEFAULT_WAIT)
            .await?;
        input
            .send_keys(password)
            .await
            .context("typing the password")?;
        Ok(())
    }

    /// Clicks the lobby's join button once it is enabled and waits for the own tile.
    pub async fn join_from_lobby(&self) -> Result {
        self.click("[data-testid=join-button]:not([disabled])")
            .await?;
        self.wait_for("[data-testid=local-tile]", DEFAULT_WAIT)
            .await?;
        Ok(())
    }

    /// Records every `RTCPeerConnection` the page creates from now on in `window.__pcs`, so a
    /// test can read `getStats()` itself (the client creates its connections through the
    /// global constructor). Call it before joining.
    pub async fn record_peer_connections(&self) -> Result {
        self.eval(RECORD_PEER_CONNECTIONS).await.map(|_| ())
    }

    /// Waits until an element matches `selector` and returns it.
    pub async fn wait_for(&self, selector: &str, timeout: Duration) -> Result<Element> {
        let started = Instant::now();
        loop {
            match self.inner.client.find(Locator::Css(selector)).await {
                Ok(element) => return Ok(element),
                Err(e) if e.is_no_such_element() => {}
                Err(e) => {
                    return Err(Error::new(format!(
                        "{}: finding `{selector}`: {e}",
                        self.label()
                    )))
                }
            }
            if started.elapsed() >= timeout {
                return Err(self
                    .timeout_error(&format!("an element matching `{selector}`"), timeout)
                    .await);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until no element matches `selector`.
    pub async fn wait_for_gone(&self, selector: &str, timeout: Duration) -> Result {
        let what = format!("no element matching `{selector}`");
        self.wait_until(
            &what,
            timeout,
            async || Ok(self.count(selector).await? == 0),
        )
        .await
    }

    /// Polls `condition` until it returns `true`; `what` names the awaited state in the error.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut condition: impl AsyncFnMut() -> Result<bool>,
    ) -> Result {
        let started = Instant::now();
        loop {
            if condition().await? {
                return Ok(());
            }
            if started.elapsed() >= timeout {
                return Err(self.timeout_error(what, timeout).await);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Polls the JavaScript expression `expression` until it is truthy. The expression only
    /// reads the page: a page too busy to answer is asked again (see [`eval_read`](Self::eval_read)).
    pub async fn wait_until_js(&self, expression: &str, timeout: Duration) -> Result {
        let script = format!("return !!({expression});");
        let what = format!("`{expression}` to be true");
        self.wait_until(&what, timeout, async || {
            Ok(self.eval_read(&script).await? == json!(true))
        })
        .await
    }

    /// Number of elements matching `selector`.
    pub async fn count(&self, selector: &str) -> Result<usize> {
        Ok(self
            .inner
            .client
            .find_all(Locator::Css(selector))
            .await
            .with_context(|| format!("{}: finding `{selector}`", self.label()))?
            .len())
    }

    /// Text content of the first element matching `selector` (waits up to `DEFAULT_WAIT`).
    pub async fn text(&self, selector: &str) -> Result<String> {
        let element = self.wait_for(selector, DEFAULT_WAIT).await?;
        Ok(element.text().await?)
    }

    /// Clicks the first element matching `selector` (waits up to `DEFAULT_WAIT`).
    ///
    /// A click another element intercepted is tried again on a freshly found element until
    /// [`DEFAULT_WAIT`]: on a starved page the layout can move between WebDriver scrolling the
    /// element into view and clicking its centre (a roster row that grows, a banner that
    /// appears), and a person would simply aim again. Any other error fails at once.
    pub async fn click(&self, selector: &str) -> Result {
        let started = Instant::now();
        loop {
            let element = self.wait_for(selector, DEFAULT_WAIT).await?;
            match element.click().await {
                Ok(()) => return Ok(()),
                Err(CmdError::Standard(e))
                    if e.error == ErrorStatus::ElementClickIntercepted
                        && started.elapsed() < DEFAULT_WAIT =>
                {
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("{}: clicking `{selector}`", self.label()))
                }
            }
        }
    }

    /// Runs a script body in the page and returns what it `return`s. The body runs inside an
    /// `async function`, so `await` works in every browser (Firefox rejects a bare top-level
    /// `await` in WebDriver scripts), and the result is awaited.
    pub async fn eval(&self, script: &str) -> Result<Json> {
        self.eval_with(script, Vec::new()).await
    }

    /// Like [`eval`](Self::eval), for a script that only reads the page: a page too busy to
    /// answer within WebDriver's script timeout (many pages on two cores) is asked again, up
    /// to three times in all, instead of failing the test. Any other error fails at once.
    pub async fn eval_read(&self, script: &str) -> Result<Json> {
        self.eval_read_with(script, Vec::new()).await
    }

    /// [`eval_read`](Self::eval_read) with `arguments[0..]`. The script may be run more than
    /// once, so it must not change the page (beyond idempotent bookkeeping such as starting
    /// a frame counter).
    pub async fn eval_read_with(&self, script: &str, args: Vec<Json>) -> Result<Json> {
        for _ in 1..3 {
            if let Some(value) = self.poll_read(script, args.clone()).await? {
                return Ok(value);
            }
        }
        // The third try: a timeout now fails the test.
        self.eval_with(script, args).await
    }

    /// Runs a read-only script for a wait loop: `None` when the page was too busy to answer
    /// within WebDriver's script timeout (the caller asks again until its own deadline).
    async fn poll_read(&self, script: &str, args: Vec<Json>) -> Result<Option<Json>> {
        let wrapped =
            format!("return (async function () {{\n{script}\n}}).apply(this, arguments);");
        match self.inner.client.execute(&wrapped, args).await {
            Ok(value) => Ok(Some(value)),
            Err(err) if err.is_script_timeout() => {
                eprintln!("[e2e] {}: the page was too busy to answer", self.label());
                Ok(None)
            }
            Err(err) => Err(err).with_context(|| {
                format!("{}: running script `{}`", self.label(), first_line(script))
            }),
        }
    }

    /// Like [`eval`](Self::eval), with `arguments[0..]`.
    pub async fn eval_with(&self, script: &str, args: Vec<Json>) -> Result<Json> {
        let wrapped =
            format!("return (async function () {{\n{script}\n}}).apply(this, arguments);");
        self.inner
            .client
            .execute(&wrapped, args)
            .await
            .with_context(|| format!("{}: running script `{}`", self.label(), first_line(script)))
    }

    /// Waits until the `<video>` in the tile of `peer_name`
    /// (`[data-testid=peer-tile][data-peer-name=NAME] video`) has a size and its decoded frame
    /// count rises between two samples. Returns the last sample.
    pub async fn wait_until_peer_tile_decodes(
        &self,
        peer_name: &str,
        timeout: Duration,
    ) -> Result<VideoSample> {
        let selector = format!(
            "[data-testid=peer-tile][data-peer-name=\"{}\"] video",
            css_string(peer_name)
        );
        self.wait_until_video_decodes(&selector, timeout).await
    }

    /// Waits until the `<video>` matching `selector` has a size and decodes new frames.
    pub async fn wait_until_video_decodes(
        &self,
        selector: &str,
        timeout: Duration,
    ) -> Result<VideoSample> {
        let started = Instant::now();
        let mut baseline: Option<VideoSample> = None;
        let mut last: Option<VideoSample> = None;
        loop {
            if let Some(sample) = self.sample_video(selector).await? {
                match &baseline {
                    Some(base)
                        if sample.size.0 > 0
                            && (sample.total_frames > base.total_frames
                                || sample.frame_callbacks > base.frame_callbacks) =>
                    {
                        return Ok(sample)
                    }
                    // A counter went backwards: the element was replaced. Start over.
                    Some(base)
                        if sample.total_frames < base.total_frames
                            || sample.frame_callbacks < base.frame_callbacks =>
                    {
                        baseline = Some(sample.clone())
                    }
                    Some(_) => {}
                    None => baseline = Some(sample.clone()),
                }
                last = Some(sample);
            }
            if started.elapsed() >= timeout {
                let state = match &last {
                    None => "no element matches".to_owned(),
                    Some(s) => format!("last sample {s:?}"),
                };
                return Err(self
                    .timeout_error(
                        &format!("`{selector}` to decode video frames ({state})"),
                        timeout,
                    )
                    .await);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until the tile of every one of `names` decodes new frames, reading them all in
    /// one script per try (each WebDriver call costs seconds on a loaded machine). A frame
    /// counts when `getVideoPlaybackQuality` or `requestVideoFrameCallback` moves while the
    /// video has a size.
    pub async fn wait_until_peer_tiles_decode(
        &self,
        names: &[String],
        timeout: Duration,
    ) -> Result {
        const SCRIPT: &str = concat!(
            count_frame_callbacks_js!(),
            r#"
            const [names, waitMs] = arguments;
            const read = () => Object.fromEntries(names.map(name => {
                const v = document.querySelector(
                    `[data-testid=peer-tile][data-peer-name="${name}"] video`);
                if (!v) return [name, null];
                const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
                return [name, { frames: q + frameCallbacks(v), width: v.videoWidth, video: v }];
            }));
            const before = read();
            await new Promise(resolve => setTimeout(resolve, waitMs));
            const after = read();
            return names.filter(name => {
                const [a, b] = [before[name], after[name]];
                return !(a && b && a.video === b.video && b.width > 0 && b.frames > a.frames);
            });
        "#
        );
        let started = Instant::now();
        let mut waiting = names.to_vec();
        loop {
            // A page too busy to answer has not shown the frames yet: asked again until the
            // wait's own deadline.
            if let Some(value) = self
                .poll_read(SCRIPT, vec![json!(names), json!(1500)])
                .await?
            {
                waiting = serde_json::from_value(value)?;
            }
            if waiting.is_empty() {
                return Ok(());
            }
            if started.elapsed() >= timeout {
                return Err(self
                    .timeout_error(
                        &format!("the tiles of {waiting:?} to decode video"),
                        timeout,
                    )
                    .await);
            }
        }
    }

    async fn sample_video(&self, selector: &str) -> Result<Option<VideoSample>> {
        const SCRIPT: &str = concat!(
            count_frame_callbacks_js!(),
            r#"
            const v = document.querySelector(arguments[0]);
            if (!v) return null;
            const callbacks = frameCallbacks(v);
            const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
            return { total: q, callbacks, width: v.videoWidth,
                     height: v.videoHeight, ready: v.readyState, paused: v.paused };
        "#
        );
        let value = self.eval_read_with(SCRIPT, vec![json!(selector)]).await?;
        if value.is_null() {
            return Ok(None);
        }
        let n = |key: &str| value.get(key).and_then(Json::as_u64).unwrap_or(0);
        Ok(Some(VideoSample {
            total_frames: n("total"),
            frame_callbacks: n("callbacks"),
            size: (n("width"), n("height")),
            ready_state: n("ready"),
            paused: value.get("paused").and_then(Json::as_bool).unwrap_or(true),
        }))
    }

    /// Resizes the window (CSS pixels), e.g. to a phone's size for a screenshot.
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result {
        self.inner
            .client
            .set_window_size(width, height)
            .await
            .with_context(|| format!("{}: resizing the window", self.label()))
    }

    /// Saves a PNG of the viewport to `path` (parent directories are created).
    pub async fn screenshot(&self, path: impl AsRef<Path>) -> Result {
        let path = path.as_ref();
        let png = self
            .inner
            .client
            .screenshot()
            .await
            .with_context(|| format!("{}: taking a screenshot", self.label()))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))
    }

    /// The page's console messages and errors so far. Chromium: the WebDriver browser log
    /// (`goog:loggingPrefs`). Firefox: console lines Firefox prints to geckodriver's output
    /// (`devtools.console.stdout.content`), together with JavaScript errors.
    pub async fn console_logs(&self) -> Result<Vec<String>> {
        match self.kind() {
            BrowserKind::Chromium => {
                let value = self.inner.client.issue_cmd(ChromiumBrowserLog).await?;
                let mut console = self.inner.console.lock().unwrap();
                for entry in value.as_array().into_iter().flatten() {
                    let level = entry.get("level").and_then(Json::as_str).unwrap_or("?");
                    let message = entry.get("message").and_then(Json::as_str).unwrap_or("");
                    console.push(format!("{level}: {message}"));
                }
                Ok(console.clone())
            }
            BrowserKind::Firefox => Ok(self
                .inner
                .driver
                .log()
                .lines()
                .filter(|l| l.starts_with("console.") || l.contains("JavaScript error"))
                .map(str::to_owned)
                .collect()),
        }
    }

    /// The WebDriver server's own log.
    pub fn driver_log(&self) -> String {
        self.inner.driver.log()
    }

    /// Ends the WebDriver session (closing the browser). The processes are killed on drop anyway.
    pub async fn close(&self) -> Result {
        self.inner.client.clone().close().await?;
        Ok(())
    }

    /// A timeout error naming the browser, the awaited state and the page URL.
    async fn timeout_error(&self, what: &str, timeout: Duration) -> Error {
        let url = self
            .current_url()
            .await
            .unwrap_or_else(|e| format!("<unknown: {e}>"));
        Error::new(format!(
            "{}: timed out after {timeout:?} waiting for {what} (page: {url})",
            self.label()
        ))
    }
}

/// chromedriver's `POST /session/{id}/se/log` with `{"type": "browser"}`.
#[derive(Debug)]
struct ChromiumBrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for ChromiumBrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> std::result::Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

/// The capabilities of a fresh, headless session with fake media devices.
fn capabilities(kind: BrowserKind, profile: &Path, extra_args: &[&str]) -> Capabilities {
    let value = match kind {
        BrowserKind::Chromium => {
            let mut args = vec![
                "--headless".to_owned(),
                // Root in a container: no setuid sandbox.
                "--no-sandbox".to_owned(),
                "--disable-gpu".to_owned(),
                "--disable-dev-shm-usage".to_owned(),
                format!(
                    "--user-data-dir={}",
                    profile.join("chromium-profile").display()
                ),
                // Quiet and offline: no updates, syncing, first-run UI or QUIC probing.
                "--disable-background-networking".to_owned(),
                "--disable-component-update".to_owned(),
                "--disable-sync".to_owned(),
                "--no-first-run".to_owned(),
                "--disable-quic".to_owned(),
                // Fake camera (a test pattern at 15 fps keeps CPU down) and microphone (a beep),
                // and no permission prompts.
                "--use-fake-device-for-media-stream=fps=15".to_owned(),
                "--use-fake-ui-for-media-stream".to_owned(),
                "--autoplay-policy=no-user-gesture-required".to_owned(),
                // Several sessions side by side: keep every page running at full speed.
                "--disable-background-timer-throttling".to_owned(),
                "--disable-renderer-backgrounding".to_owned(),
                "--disable-backgrounding-occluded-windows".to_owned(),
                // ICE host candidates as IP addresses, not mDNS names nobody here resolves.
                "--disable-features=WebRtcHideLocalIpsWithMdns".to_owned(),
                "--mute-audio".to_owned(),
            ];
            if let Ok(extra) = std::env::var("MESHMEET_CHROMIUM_ARGS") {
                args.extend(extra.split_whitespace().map(str::to_owned));
            }
            args.extend(extra_args.iter().map(|arg| (*arg).to_owned()));
            let mut options = json!({ "args": args });
            if let Some(binary) = std::env::var_os("MESHMEET_CHROMIUM_BIN") {
                options["binary"] = json!(binary.to_string_lossy());
            }
            json!({
                "browserName": "chrome",
                "goog:chromeOptions": options,
                "goog:loggingPrefs": { "browser": "ALL" },
            })
        }
        BrowserKind::Firefox => {
            let mut options = json!({
                "args": ["-headless"],
                "prefs": {
                    "media.navigator.streams.fake": true,
                    "media.navigator.permission.disabled": true,
                    "media.autoplay.default": 0,
                    "media.autoplay.blocking_policy": 0,
                    // ICE host candidates as IP addresses, not mDNS names.
                    "media.peerconnection.ice.obfuscate_host_addresses": false,
                    // Console messages to stdout, which the driver log captures.
                    "devtools.console.stdout.content": true,
                },
            });
            if let Some(binary) = std::env::var_os("MESHMEET_FIREFOX_BIN") {
                options["binary"] = json!(binary.to_string_lossy());
            }
            json!({ "browserName": "firefox", "moz:firefoxOptions": options })
        }
    };
    match value {
        Json::Object(map) => map,
        _ => unreachable!("capabilities are a JSON object"),
    }
}

/// `name` escaped for use inside a double-quoted CSS string.
fn css_string(name: &str) -> String {
    name.replace('\\', "\\\\").replace('"', "\\\"")
}

fn first_line(script: &str) -> &str {
    script.trim().lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_string_escapes_quotes_and_backslashes() {
        assert_eq!(css_string(r#"Ann "A\B""#), r#"Ann \"A\\B\""#);
        assert_eq!(css_string("Zoë"), "Zoë");
    }

    #[test]
    fn chromium_capabilities_use_the_given_profile_and_fake_media() {
        let caps = capabilities(
            BrowserKind::Chromium,
            Path::new("/tmp/p"),
            &["--ignore-certificate-errors"],
        );
        let args = caps["goog:chromeOptions"]["args"].as_array().unwrap();
        assert!(args.contains(&json!("--user-data-dir=/tmp/p/chromium-profile")));
        assert!(args.contains(&json!("--use-fake-ui-for-media-stream")));
        assert!(args.contains(&json!("--ignore-certificate-errors")));
        assert_eq!(caps["goog:loggingPrefs"]["browser"], "ALL");
    }

    #[test]
    fn firefox_capabilities_enable_fake_media() {
        let caps = capabilities(BrowserKind::Firefox, Path::new("/tmp/p"), &[]);
        let prefs = &caps["moz:firefoxOptions"]["prefs"];
        assert_eq!(prefs["media.navigator.streams.fake"], true);
        assert_eq!(prefs["media.navigator.permission.disabled"], true);
    }
}
