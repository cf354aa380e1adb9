//! The limits both sides must agree on, with their defaults. The relay may be configured
//! with others and tells each client its actual room limits in `welcome`
//! ([`crate::RoomLimits`]); these defaults are what a client assumes before that (the lobby
//! checks names before it has talked to any relay).

/// Longest room name, in characters.
pub const DEFAULT_MAX_ROOM_NAME_CHARS: usize = 64;

/// Longest display name, in characters.
pub const DEFAULT_MAX_DISPLAY_NAME_CHARS: usize = 40;

/// Longest chat text, in characters.
pub const DEFAULT_MAX_CHAT_CHARS: u32 = 2000;

/// The file size limit of a relay that does not say: 1 GiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1 << 30;
