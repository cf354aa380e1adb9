//! The process's file-descriptor limit: raised to its hard maximum at start (every socket is
//! one), and used to keep pending HTTP connections from taking them all.

/// Below this many descriptors the relay warns at start.
pub const LOW_FD_LIMIT: u64 = 4096;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the limit now in force.
pub fn raise() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

/// The pending-connection limit to use with `fd_limit` descriptors: at most half of them,
/// so WebSockets, static files and Redis keep the rest (0, no limit, becomes that half too).
pub fn cap_pending(configured: usize, fd_limit: u64) -> usize {
    let half = usize::try_from(fd_limit / 2).unwrap_or(usize::MAX).max(1);
    if configured == 0 {
        half
    } else {
        configured.min(half)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_connections_never_take_more_than_half_the_descriptors() {
        assert_eq!(cap_pending(1024, 256), 128);
        assert_eq!(cap_pending(0, 256), 128);
        assert_eq!(cap_pending(100, 1 << 20), 100);
        assert_eq!(cap_pending(10, 1), 1);
    }

    #[test]
    fn raising_leaves_at_least_the_descriptors_already_open() {
        let limit = raise().expect("getrlimit/setrlimit");
        assert!(limit >= 3, "stdin, stdout and stderr are open: {limit}");
    }
}
