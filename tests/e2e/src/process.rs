//! Child processes that cannot outlive a test: process-group kill guards (also on Ctrl-C and
//! SIGTERM), temporary directories and free ports.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};

/// Owns a child process started in its own process group (`process_group(0)`). Dropping it
/// kills the whole group and every descendant, so browsers started by a WebDriver server
/// die with it even when they re-parent or change group. Its own group keeps it out of the
/// terminal's Ctrl-C, so the group is also registered with a SIGINT/SIGTERM/SIGHUP handler
/// that kills every live group before the test process dies.
#[derive(Debug)]
pub struct ProcessGuard {
    label: String,
    pid: u32,
    child: tokio::process::Child,
}

impl ProcessGuard {
    /// Wraps a child spawned with `process_group(0)` and `kill_on_drop(true)`.
    pub fn new(label: impl Into<String>, child: tokio::process::Child) -> Self {
        let pid = child.id().unwrap_or(0);
        register_group(pid);
        Self {
            label: label.into(),
            pid,
            child,
        }
    }

    /// The child's pid (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the child has exited already, with its status.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// What the guard is for, as used in messages (`chromedriver for chromium-1`).
    pub fn label(&self) -> &str {
        &self.label
    }
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        if self.pid != 0 {
            kill_tree(self.pid);
            unregister_group(self.pid);
        }
        // `kill_on_drop` reaps the direct child when `self.child` drops.
        let _ = self.child.start_kill();
    }
}

/// Process groups alive right now, for the signal handler (0 = free slot). A fixed array:
/// the handler may only touch async-signal-safe things.
static LIVE_GROUPS: [AtomicI32; 64] = [const { AtomicI32::new(0) }; 64];

fn register_group(pid: u32) {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: installs a handler that only calls async-signal-safe functions.
            unsafe {
                let handler: extern "C" fn(libc::c_int) = kill_live_groups_and_die;
                libc::signal(signal, handler as *const () as libc::sighandler_t);
            }
        }
    });
    let Ok(pid) = i32::try_from(pid) else { return };
    for slot in &LIVE_GROUPS {
        if slot
            .compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

fn unregister_group(pid: u32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    for slot in &LIVE_GROUPS {
        let _ = slot.compare_exchange(pid, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Signal handler: SIGKILL every registered group, then die of the same signal.
extern "C" fn kill_live_groups_and_die(signal: libc::c_int) {
    for slot in &LIVE_GROUPS {
        let pgid = slot.load(Ordering::SeqCst);
        if pgid > 0 {
            // SAFETY: kill(2), signal(2) and raise(3) are async-signal-safe.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
    // SAFETY: as above.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

/// SIGKILLs the process group `pid` and every descendant of `pid`.
pub fn kill_tree(pid: u32) {
    let descendants = descendants_of(pid);
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
    }
    for child in descendants {
        // SAFETY: as above, for one process.
        unsafe {
            libc::kill(child as libc::pid_t, libc::SIGKILL);
        }
    }
}

/// All processes below `root`, from the parent links in `/proc/<pid>/stat`.
fn descendants_of(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // The command name may contain spaces; the fields after its closing paren don't.
            let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                continue;
            };
            if let Some(ppid) = after.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut found = Vec::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        if let Some(kids) = children.get(&pid) {
            found.extend(kids);
            stack.extend(kids);
        }
    }
    found
}

/// A directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `$TMPDIR/meshmeet-e2e-<prefix>-<pid>-<n>`.
    pub fn new(prefix: &str) -> std::io::Result<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        static SWEEP: std::sync::Once = std::sync::Once::new();
        SWEEP.call_once(remove_stale_temp_dirs);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("meshmeet-e2e-{prefix}-{}-{n}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::create_dir_all(&path)?;
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Removes `meshmeet-e2e-*-<pid>-<n>` directories of test processes that no longer run (a
/// process killed by a signal cannot clean up after itself).
fn remove_stale_temp_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with("meshmeet-e2e-") {
            continue;
        }
        let owner = name
            .rsplit('-')
            .nth(1)
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = owner {
            if !Path::new("/proc").join(pid.to_string()).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for servers that cannot take port 0).
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Waits until `process` listens on TCP `port` of 127.0.0.1, at most `limit`. If it exits
/// first, or the time runs out, the error ends with `log()` (what it said).
pub async fn wait_until_listening(
    process: &mut ProcessGuard,
    port: u16,
    limit: std::time::Duration,
    log: impl Fn() -> String,
) -> crate::Result {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = process.exit_status() {
            return Err(crate::Error::new(format!(
                "{} exited ({status}) right after starting; its log:\n{}",
                process.label(),
                log()
            )));
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if started.elapsed() > limit {
            return Err(crate::Error::new(format!(
                "{} did not listen on port {port} within {limit:?}; its log:\n{}",
                process.label(),
                log()
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A helper script's stdout, read a line at a time.
pub type ScriptLines = tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>;

/// Starts a helper script (`program script args…`) that reports on stdout and stops when
/// its stdin closes: stdin and stdout piped, killed when dropped.
pub fn spawn_script(
    program: &Path,
    script: &Path,
    args: &[&str],
) -> crate::Result<(tokio::process::Child, ScriptLines)> {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(program)
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| crate::Error::new(format!("{} has no stdout", script.display())))?;
    Ok((child, tokio::io::BufReader::new(stdout).lines()))
}
