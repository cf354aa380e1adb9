//! Finding the tools the tasks need and installing the missing ones: every check is a quick
//! `--version` or a file lookup, and nothing is installed twice.

use crate::cmd::{self, heading, query};
use crate::Result;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Trunk release series: 0.22 needs a newer rustc than we pin.
const TRUNK_SERIES: &str = "0.21";
/// binaryen from npm; must match `wasm_opt = "version_…"` in Trunk.toml.
pub const BINARYEN_VERSION: &str = "132";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// axe-core from npm: the accessibility check the end-to-end tests run in the page.
pub const AXE_CORE_VERSION: &str = "4.14.1";
/// aiortc version the live test's WHEP viewers run on.
const AIORTC_VERSION: &str = "1.16.0";
/// A small Debian font with Simplified Chinese, so screenshots show text, not boxes.
const CJK_FONT_PACKAGE: &str = "fonts-wqy-microhei";

/// What a client build needs on `PATH` before anything else (binaryen's `wasm-opt`, and the
/// cargo bin directory where trunk and wasm-bindgen live).
pub struct ClientTools {
    pub trunk: PathBuf,
    pub path: std::ffi::OsString,
}

/// The WebDriver servers for the browser tests.
pub struct Browsers {
    pub chromedriver: PathBuf,
    pub geckodriver: PathBuf,
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
}

/// Where `cargo install` puts binaries.
fn cargo_bin_dir() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cargo"))
        .join("bin")
}

/// Per-user tool directory, shared by every clone on the machine.
fn tools_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cache"))
        .join("meshmeet")
        .join("tools")
}

/// Looks `name` up on `PATH`, then in the cargo bin directory.
pub fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(std::iter::once(cargo_bin_dir()))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn is_root() -> bool {
    query("id", &["-u"]).is_some_and(|out| out.trim() == "0")
}

/// The second word of `tool --version` (`trunk 0.21.14` → `0.21.14`).
fn version_of(path: &Path) -> Option<String> {
    let out = query(path, &["--version"])?;
    out.split_whitespace().nth(1).map(str::to_owned)
}

/// Runs an installer with a heading and its own progress output, and says how long it took.
fn install(what: &str, command: &mut std::process::Command) -> Result {
    heading(&format!("installing {what}"));
    let started = Instant::now();
    cmd::run(command)?;
    println!("installed {what} in {:.0?}", started.elapsed());
    Ok(())
}

/// The `wasm-bindgen` version in Cargo.lock: wasm-bindgen-cli must be exactly this version.
pub fn wasm_bindgen_version() -> Result<String> {
    let lock_path = cmd::root().join("Cargo.lock");
    let lock = std::fs::read_to_string(&lock_path)
        .map_err(|e| format!("reading {}: {e}", lock_path.display()))?;
    lock_version(&lock, "wasm-bindgen").ok_or_else(|| {
        "Cargo.lock has no wasm-bindgen package; run `cargo generate-lockfile`".into()
    })
}

fn lock_version(lock: &str, package: &str) -> Option<String> {
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock.find(&needle)? + needle.len();
    let end = lock[start..].find('"')?;
    Some(lock[start..start + end].to_owned())
}

/// Adds the wasm target through rustup unless the toolchain already has it.
pub fn ensure_wasm_target() -> Result {
    let sysroot = cmd::cmd("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| {
            format!("could not run rustc: {e}; install Rust with rustup (https://rustup.rs)")
        })?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_owned();
    if Path::new(&sysroot)
        .join("lib/rustlib")
        .join(WASM_TARGET)
        .join("lib")
        .is_dir()
    {
        return Ok(());
    }
    if find("rustup").is_none() {
        return Err(format!(
            "the Rust target {WASM_TARGET} is missing and rustup is not installed; \
             install Rust with rustup (https://rustup.rs) or add the target to your toolchain"
        ));
    }
    install(
        &format!("the Rust target {WASM_TARGET}"),
        cmd::cmd("rustup").args(["target", "add", WASM_TARGET]),
    )
}

/// rustfmt and clippy (a minimal rustup profile lacks them).
pub fn ensure_components() -> Result {
    let works = |sub: &str| {
        cmd::cargo()
            .args([sub, "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works("fmt") && works("clippy") {
        return Ok(());
    }
    if find("rustup").is_none() {
        return Err("cargo fmt or cargo clippy is missing: install the rustfmt and clippy components of your toolchain".into());
    }
    install(
        "the rustfmt and clippy components",
        cmd::cmd("rustup").args(["component", "add", "rustfmt", "clippy"]),
    )
}

/// wasm-bindgen and wasm-bindgen-test-runner, at exactly the version in Cargo.lock.
pub fn ensure_wasm_bindgen() -> Result {
    let want = wasm_bindgen_version()?;
    let have = |name: &str| find(name).and_then(|p| version_of(&p));
    if have("wasm-bindgen").as_deref() == Some(want.as_str())
        && have("wasm-bindgen-test-runner").as_deref() == Some(want.as_str())
    {
        return Ok(());
    }
    install(
        &format!("wasm-bindgen-cli {want} (cargo install, several minutes)"),
        cmd::cargo().args(["install", "wasm-bindgen-cli", "--version", &want]),
    )
}

/// Trunk 0.21.x, found on PATH or in the cargo bin directory.
fn ensure_trunk() -> Result<PathBuf> {
    let wanted =
        |p: &PathBuf| version_of(p).is_some_and(|v| v.starts_with(&format!("{TRUNK_SERIES}.")));
    if let Some(path) = find("trunk").filter(wanted) {
        return Ok(path);
    }
    install(
        &format!("trunk {TRUNK_SERIES} (cargo install, about 10 minutes on 2 cores)"),
        cmd::cargo().args([
            "install",
            "--locked",
            "trunk",
            "--version",
            &format!("~{TRUNK_SERIES}"),
        ]),
    )?;
    let path = cargo_bin_dir().join("trunk");
    if wanted(&path) {
        Ok(path)
    } else {
        Err(format!(
            "{} is not trunk {TRUNK_SERIES} after installing it",
            path.display()
        ))
    }
}

/// binaryen from npm in the per-user tool directory; returns the directory holding `wasm-opt`.
fn ensure_binaryen() -> Result<PathBuf> {
    let prefix = tools_dir().join(format!("binaryen-{BINARYEN_VERSION}"));
    let bin = prefix.join("node_modules").join(".bin");
    let ok = || {
        query(bin.join("wasm-opt"), &["--version"])
            .is_some_and(|v| v.contains(&format!("version {BINARYEN_VERSION}")))
    };
    if ok() {
        return Ok(bin);
    }
    npm_install("binaryen", BINARYEN_VERSION, &prefix)?;
    if ok() {
        Ok(bin)
    } else {
        Err(format!(
            "{}/wasm-opt does not report version {BINARYEN_VERSION}",
            bin.display()
        ))
    }
}

/// npm (with Node.js), for binaryen and axe-core.
fn ensure_npm() -> Result {
    ensure_packages(
        find("npm").is_some(),
        &["nodejs", "npm"],
        "npm is missing: install Node.js 18 or newer with npm (for example `sudo apt-get install nodejs npm`)",
    )
}

/// Installs `package@version` from npm into its own `prefix` (installing npm if needed).
fn npm_install(package: &str, version: &str, prefix: &Path) -> Result {
    ensure_npm()?;
    std::fs::create_dir_all(prefix).map_err(|e| format!("creating {}: {e}", prefix.display()))?;
    install(
        &format!("{package} {version} (npm) into {}", prefix.display()),
        cmd::cmd("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(prefix)
            .arg(format!("{package}@{version}")),
    )
}

/// axe-core from npm in the per-user tool directory; returns its `axe.min.js`.
pub fn ensure_axe_core() -> Result<PathBuf> {
    let prefix = tools_dir().join(format!("axe-core-{AXE_CORE_VERSION}"));
    let package = prefix.join("node_modules").join("axe-core");
    let script = package.join("axe.min.js");
    let ok = || {
        std::fs::read_to_string(package.join("package.json"))
            .is_ok_and(|json| json.contains(&format!("\"version\": \"{AXE_CORE_VERSION}\"")))
            && script.is_file()
    };
    if ok() {
        return Ok(script);
    }
    npm_install("axe-core", AXE_CORE_VERSION, &prefix)?;
    if ok() {
        Ok(script)
    } else {
        Err(format!(
            "{} is not axe-core {AXE_CORE_VERSION}",
            script.display()
        ))
    }
}

/// A font with Simplified Chinese for the browsers (screenshots in Chinese).
pub fn ensure_cjk_font() -> Result {
    let has_font =
        || query("fc-list", &[":lang=zh", "family"]).is_some_and(|out| !out.trim().is_empty());
    if has_font() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!("no font with Chinese characters: install one (for example `sudo apt-get install {CJK_FONT_PACKAGE}`), then run this again"));
    }
    apt_install(&[CJK_FONT_PACKAGE])?;
    if has_font() {
        Ok(())
    } else {
        Err(format!(
            "{CJK_FONT_PACKAGE} is installed but fc-list finds no Chinese font"
        ))
    }
}

/// Everything `trunk build` needs; returns trunk and the PATH to run it with.
pub fn ensure_client_tools() -> Result<ClientTools> {
    ensure_wasm_target()?;
    ensure_wasm_bindgen()?;
    let trunk = ensure_trunk()?;
    let binaryen = ensure_binaryen()?;
    let mut dirs = vec![binaryen, cargo_bin_dir()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(dirs).map_err(|e| format!("building PATH: {e}"))?;
    Ok(ClientTools { trunk, path })
}

/// Nothing if `present`; else installs `packages` as root, or fails with `missing` (what to
/// install by hand) for anyone else.
fn ensure_packages(present: bool, packages: &[&str], missing: &str) -> Result {
    if present {
        Ok(())
    } else if is_root() {
        apt_install(packages)
    } else {
        Err(format!("{missing}, then run this again"))
    }
}

/// Installs Debian packages (root only): `apt-get update` once per run, then `install`.
fn apt_install(packages: &[&str]) -> Result {
    apt_get_install(packages, &[])
}

/// [`apt_install`] with extra `apt-get install` options.
fn apt_get_install(packages: &[&str], options: &[&str]) -> Result {
    static UPDATED: std::sync::Once = std::sync::Once::new();
    let mut update = Ok(());
    UPDATED.call_once(|| {
        update = install("the apt package lists", cmd::cmd("apt-get").arg("update"));
    });
    update?;
    install(
        &packages.join(" "),
        cmd::cmd("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y"])
            .args(options)
            .args(packages),
    )
}

/// `redis-server`, which the Redis registry tests start on free ports of their own.
pub fn ensure_redis() -> Result {
    ensure_packages(
        find("redis-server").is_some(),
        &["redis-server"],
        "the Redis registry tests need redis-server: install it with `sudo apt-get install redis-server`",
    )
}

/// coturn's `turnserver`, which the relay-only end-to-end tests start on free ports of their
/// own (a real TURN server, not a stand-in).
pub fn ensure_coturn() -> Result {
    ensure_packages(
        find("turnserver").is_some() || Path::new("/usr/bin/turnserver").is_file(),
        &["coturn"],
        "the relay-only end-to-end tests need coturn: install it with `sudo apt-get install coturn`",
    )
}

/// `tc` (iproute2), with which an SFU end-to-end test congests one browser's downlink on
/// loopback (the kernel's traffic control; DevTools' throttling does not reach WebRTC).
pub fn ensure_tc() -> Result {
    ensure_packages(
        find("tc").is_some() || Path::new("/sbin/tc").is_file(),
        &["iproute2"],
        "the downlink end-to-end test needs tc: install it with `sudo apt-get install iproute2`",
    )
}

/// ffmpeg (the relay's encoder for a live's RTMP and HLS, and ffprobe that checks them) and
/// nginx with its RTMP module (the RTMP server the live end-to-end test pushes to). Without
/// recommends: the servers need none of the desktop libraries they pull in.
pub fn ensure_live_media() -> Result {
    let rtmp_module = Path::new("/usr/lib/nginx/modules/ngx_rtmp_module.so");
    let nginx = find("nginx").is_some() || Path::new("/usr/sbin/nginx").is_file();
    // The mock RTSP camera: Debian's python3 with GStreamer's RTSP server, x264 and the
    // RTP payloaders.
    let camera = Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import gi; gi.require_version('GstRtspServer', '1.0'); \
             from gi.repository import Gst, GstRtspServer; Gst.init(None); \
             assert Gst.ElementFactory.find('x264enc') and Gst.ElementFactory.find('rtph264pay')",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if find("ffmpeg").is_some()
        && find("ffprobe").is_some()
        && nginx
        && rtmp_module.is_file()
        && camera
    {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "the live tests need ffmpeg, nginx's RTMP module and GStreamer's RTSP server: \
             install them with `sudo apt-get install --no-install-recommends {}`, then run \
             this again",
            LIVE_MEDIA_PACKAGES.join(" ")
        ));
    }
    apt_get_install(LIVE_MEDIA_PACKAGES, &["--no-install-recommends"])
}

/// Debian's packages of the live tests: the encoder, the RTMP server, the mock camera.
const LIVE_MEDIA_PACKAGES: &[&str] = &[
    "ffmpeg",
    "nginx-light",
    "libnginx-mod-rtmp",
    "python3-gi",
    "gir1.2-gst-rtsp-server-1.0",
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    "gstreamer1.0-plugins-ugly",
];

/// aiortc from PyPI, a WebRTC peer in Python: the live end-to-end test's non-browser WHEP
/// viewers. In a virtual environment of Debian's Python in the per-user tool directory;
/// returns its `python`.
pub fn ensure_aiortc() -> Result<PathBuf> {
    let venv = tools_dir().join(format!("aiortc-{AIORTC_VERSION}"));
    let python = venv.join("bin").join("python");
    let check = format!(
        "import importlib.metadata as m, sys; \
         sys.exit(0 if m.version('aiortc') == '{AIORTC_VERSION}' else 1)"
    );
    let ok = || {
        python.is_file()
            && std::process::Command::new(&python)
                .args(["-c", &check])
                .status()
                .is_ok_and(|s| s.success())
    };
    if ok() {
        return Ok(python);
    }
    let system = Path::new("/usr/bin/python3");
    let has_venv = || {
        std::process::Command::new(system)
            .args(["-c", "import ensurepip, venv"])
            .status()
            .is_ok_and(|s| s.success())
    };
    ensure_packages(
        has_venv(),
        &["python3-venv"],
        "the live end-to-end test needs Python's venv: install it with `sudo apt-get install python3-venv`",
    )?;
    install(
        &format!("a Python environment in {}", venv.display()),
        cmd::cmd(system).args(["-m", "venv", "--clear"]).arg(&venv),
    )?;
    install(
        &format!("aiortc {AIORTC_VERSION} (PyPI)"),
        cmd::cmd(venv.join("bin").join("pip"))
            .args(["install", "--disable-pip-version-check", "--no-input", "-q"])
            .arg(format!("aiortc=={AIORTC_VERSION}")),
    )?;
    if ok() {
        Ok(python)
    } else {
        Err(format!(
            "{} has no aiortc {AIORTC_VERSION}",
            python.display()
        ))
    }
}

/// Janus (the SFU the relay drives for large rooms) and `janus-pp-rec`: the Janus tests start
/// their own `janus` on free loopback ports with `deploy/janus`. Without recommends: they pull
/// in a desktop's worth of libraries the server does not use.
pub fn ensure_janus() -> Result {
    if find("janus").is_some() || Path::new("/usr/bin/janus").is_file() {
        return Ok(());
    }
    if !is_root() {
        return Err(
            "the Janus tests need Janus: install it with \
             `sudo apt-get install --no-install-recommends janus janus-tools`, then run this again"
                .into(),
        );
    }
    apt_get_install(&["janus", "janus-tools"], &["--no-install-recommends"])
}

/// The leading number of the first version-looking word (`Chromium 156.0.1 built…` → 156).
fn major_version(text: &str) -> Option<u32> {
    text.split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .and_then(|w| w.split('.').next())
        .and_then(|m| m.parse().ok())
}

/// Chromium, chromedriver, Firefox and geckodriver.
pub fn ensure_browsers() -> Result<Browsers> {
    let mut missing: Vec<&str> = Vec::new();
    if find("chromium").is_none() {
        missing.push("chromium");
    }
    if find("chromedriver").is_none() {
        missing.push("chromium-driver");
    }
    if find("firefox").is_none() && find("firefox-esr").is_none() {
        missing.push("firefox-esr");
    }
    let geckodriver_missing = find("geckodriver").is_none();
    if !missing.is_empty() || geckodriver_missing {
        if !is_root() {
            let mut how = String::new();
            if !missing.is_empty() {
                how = format!("`sudo apt-get install {}`", missing.join(" "));
            }
            if geckodriver_missing {
                if !how.is_empty() {
                    how.push_str(" and ");
                }
                how.push_str("`cargo install geckodriver`");
            }
            return Err(format!(
                "the browser tests need headless Chromium and Firefox with their WebDriver servers: install them with {how}, then run this again"
            ));
        }
        if !missing.is_empty() {
            apt_install(&missing)?;
        }
        if geckodriver_missing {
            install(
                "geckodriver (cargo install, a few minutes)",
                cmd::cargo().args(["install", "geckodriver"]),
            )?;
        }
    }
    let chromedriver = find("chromedriver").ok_or("chromedriver is still missing")?;
    let geckodriver = find("geckodriver").ok_or("geckodriver is still missing")?;

    // Debian ships chromium and chromium-driver together; a mismatch means a half upgrade.
    let chromium = query("chromium", &["--version"]).and_then(|v| major_version(&v));
    let driver = query(&chromedriver, &["--version"]).and_then(|v| major_version(&v));
    if let (Some(c), Some(d)) = (chromium, driver) {
        if c != d {
            return Err(format!(
                "chromium {c} and chromedriver {d} differ: upgrade both (`apt-get install chromium chromium-driver`)"
            ));
        }
    }
    Ok(Browsers {
        chromedriver,
        geckodriver,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_package_version_from_lockfile() {
        let lock = "[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n\
                    [[package]]\nname = \"wasm-bindgen-futures\"\nversion = \"0.4.80\"\n";
        assert_eq!(
            lock_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            lock_version(lock, "wasm-bindgen-futures").as_deref(),
            Some("0.4.80")
        );
        assert_eq!(lock_version(lock, "yew"), None);
    }

    #[test]
    fn major_version_skips_the_product_name() {
        assert_eq!(
            major_version("Chromium 156.0.8078.79 built on Debian"),
            Some(156)
        );
        assert_eq!(
            major_version("ChromeDriver 156.0.8078.79 (a21ce)"),
            Some(156)
        );
        assert_eq!(major_version("no digits"), None);
    }
}
