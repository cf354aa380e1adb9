//! Running commands from the workspace root: echo them, check their status, tee their output.

use crate::Result;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root (the parent of this crate's directory).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// A command that runs in the workspace root.
pub fn cmd(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    command.current_dir(root());
    command
}

/// `cargo` as invoked by `cargo xtask` (the same toolchain), in the workspace root.
pub fn cargo() -> Command {
    cmd(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Prints a section heading so long logs stay readable.
pub fn heading(text: &str) {
    println!("\n==> {text}");
    let _ = std::io::stdout().flush();
}

/// The command line as a person would type it: `KEY=value program args…`.
pub fn display(command: &Command) -> String {
    let mut parts: Vec<String> = command
        .get_envs()
        .filter_map(|(key, value)| {
            value.map(|v| format!("{}={}", key.to_string_lossy(), v.to_string_lossy()))
        })
        .filter(|kv| !kv.starts_with("PATH="))
        .collect();
    let program = Path::new(command.get_program());
    let short = program.file_name().map(Path::new).unwrap_or(program);
    parts.push(short.to_string_lossy().into_owned());
    parts.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Runs the command with inherited stdio and fails unless it exits successfully.
pub fn run(command: &mut Command) -> Result {
    let shown = display(command);
    println!("$ {shown}");
    let status = command
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// Runs the command, printing its stdout line by line and handing every line to `on_line`.
/// Stderr is inherited. Returns whether the command succeeded.
pub fn run_teed(command: &mut Command, mut on_line: impl FnMut(&str)) -> Result<bool> {
    let shown = display(command);
    println!("$ {shown}");
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut reader = BufReader::new(stdout);
    let mut buf = Vec::new();
    let out = std::io::stdout();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buf);
                let mut lock = out.lock();
                let _ = lock.write_all(line.as_bytes());
                let _ = lock.flush();
                on_line(line.trim_end());
            }
            Err(e) => return Err(format!("reading output of `{shown}`: {e}")),
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for `{shown}`: {e}"))?;
    Ok(status.success())
}

/// Runs a quick query (`tool --version`) and returns its stdout and stderr, or `None` when
/// the program cannot be started or fails.
pub fn query(program: impl AsRef<OsStr>, args: &[&str]) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Some(text)
}
