//! A congested downlink for one browser: the kernel's traffic control on loopback limits the
//! UDP packets sent to one port (the browser's end of a WebRTC connection) to a bit rate, and
//! drops what overflows a short queue, as a busy home link or a mobile cell does. DevTools'
//! network throttling would be simpler but does not reach WebRTC's UDP in Chromium.
//!
//! Needs `tc` (iproute2, installed by `cargo xtask test`) and root. Only one at a time: it
//! owns the loopback device's root queue while it lives.

use crate::{Error, Result};
use std::path::Path;
use std::process::Command;

/// The limit, lifted when dropped.
#[derive(Debug)]
pub struct DownlinkThrottle {
    port: u16,
}

impl DownlinkThrottle {
    /// Limits UDP packets to `port` on loopback (IPv4 and IPv6) to `kbps` kbit/s; packets
    /// beyond a 20-packet queue are dropped. Everything else on loopback is unlimited.
    pub fn start(port: u16, kbps: u32) -> Result<DownlinkThrottle> {
        // Whatever a crashed run left behind goes first.
        let _ = tc(&["qdisc", "del", "dev", "lo", "root"]);
        let throttle = DownlinkThrottle { port };
        let rate = format!("{kbps}kbit");
        let dport = port.to_string();
        let steps: [&[&str]; 6] = [
            &[
                "qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "10",
            ],
            &[
                "class", "add", "dev", "lo", "parent", "1:", "classid", "1:10", "htb", "rate",
                "20gbit",
            ],
            &[
                "class", "add", "dev", "lo", "parent", "1:", "classid", "1:20", "htb", "rate",
                &rate, "ceil", &rate,
            ],
            &[
                "qdisc", "add", "dev", "lo", "parent", "1:20", "handle", "20:", "pfifo", "limit",
                "20",
            ],
            &[
                "filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip", "prio", "1", "u32",
                "match", "ip", "protocol", "17", "0xff", "match", "ip", "dport", &dport, "0xffff",
                "flowid", "1:20",
            ],
            &[
                "filter", "add", "dev", "lo", "parent", "1:", "protocol", "ipv6", "prio", "2",
                "u32", "match", "ip6", "protocol", "17", "0xff", "match", "ip6", "dport", &dport,
                "0xffff", "flowid", "1:20",
            ],
        ];
        for step in steps {
            tc(step)?;
        }
        Ok(throttle)
    }

    /// Packets sent and dropped under the limit so far.
    pub fn counters(&self) -> Result<(u64, u64)> {
        let out = tc(&["-s", "class", "show", "dev", "lo", "classid", "1:20"])?;
        // " Sent 12345 bytes 67 pkt (dropped 8, overlimits ..."
        let number_after = |word: &str| {
            out.split_once(word)
                .and_then(|(_, rest)| rest.split([' ', ',']).find(|s| !s.is_empty()))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        Ok((number_after("bytes "), number_after("(dropped ")))
    }

    /// The port it limits.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for DownlinkThrottle {
    fn drop(&mut self) {
        if let Err(e) = tc(&["qdisc", "del", "dev", "lo", "root"]) {
            eprintln!("lifting the downlink throttle: {e}");
        }
    }
}

/// Runs `tc` with `args`; its output.
fn tc(args: &[&str]) -> Result<String> {
    let program = ["/usr/sbin/tc", "/sbin/tc"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .unwrap_or("tc");
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| Error::new(format!("running tc (install iproute2): {e}")))?;
    if !out.status.success() {
        return Err(Error::new(format!(
            "tc {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
