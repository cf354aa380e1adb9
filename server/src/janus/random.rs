//! Unguessable values the relay makes up for Janus: transaction ids, room ids and secrets.

/// `bytes` random bytes as lowercase hex. Falls back to nothing guessable: if the system's
/// random source fails, the caller gets an error instead of a weak value.
pub fn hex(bytes: usize) -> Result<String, String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|err| format!("no random numbers: {err}"))?;
    Ok(::hex::encode(buffer))
}

/// A random room id from 1 to 2^53 − 1: integers Janus and any JSON reader keep exactly.
pub fn room_id() -> Result<u64, String> {
    let mut buffer = [0u8; 8];
    getrandom::fill(&mut buffer).map_err(|err| format!("no random numbers: {err}"))?;
    Ok((u64::from_le_bytes(buffer) & ((1 << 53) - 1)).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_fresh_and_in_range() {
        let a = hex(16).expect("random");
        assert_eq!(a.len(), 32);
        assert_ne!(a, hex(16).expect("random"));
        for _ in 0..100 {
            let id = room_id().expect("random");
            assert!((1..1 << 53).contains(&id));
        }
    }
}
