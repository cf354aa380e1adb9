//! Validation of room names, display names and chat text, shared so the client refuses what
//! the relay would.

use std::fmt;

/// Why a room name, display name or chat text was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextError {
    /// Empty, or only white space.
    Empty,
    /// Longer than allowed (in characters).
    TooLong {
        /// The limit in characters.
        max_chars: usize,
    },
    /// Holds a control, invisible or text-direction character, or (for rooms) a character
    /// that does not belong in a link.
    BadCharacter(char),
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::Empty => f.write_str("is empty"),
            TextError::TooLong { max_chars } => write!(f, "is longer than {max_chars} characters"),
            TextError::BadCharacter(c) => write!(f, "contains the character U+{:04X}", *c as u32),
        }
    }
}

/// Characters that change how text around them is shown without being visible themselves:
/// bidirectional overrides (used to disguise names) and zero-width characters (used to make
/// two names look alike).
fn is_invisible_trick(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{061C}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// Checks a display name: 1 to `max_chars` characters once trimmed, with no control or
/// invisible characters. Returns the trimmed name.
pub fn validate_display_name(name: &str, max_chars: usize) -> Result<&str, TextError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(TextError::Empty);
    }
    if let Some(c) = name
        .chars()
        .find(|&c| c.is_control() || is_invisible_trick(c))
    {
        return Err(TextError::BadCharacter(c));
    }
    if name.chars().count() > max_chars {
        return Err(TextError::TooLong { max_chars });
    }
    Ok(name)
}

/// Checks a chat text: not blank, at most `max_chars` characters, and no control characters
/// but line breaks and tabs (which are text; the others only hide or garble it).
pub fn validate_chat_text(text: &str, max_chars: usize) -> Result<(), TextError> {
    if text.trim().is_empty() {
        return Err(TextError::Empty);
    }
    if text.chars().count() > max_chars {
        return Err(TextError::TooLong { max_chars });
    }
    match text
        .chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t')
    {
        Some(c) => Err(TextError::BadCharacter(c)),
        None => Ok(()),
    }
}

/// Checks a room name: 1 to `max_chars` letters or digits (any script) and `-`, `_`, `.`,
/// so that it can stand in a link as `/r/<room>` without escaping surprises.
pub fn validate_room_name(room: &str, max_chars: usize) -> Result<&str, TextError> {
    if room.is_empty() {
        return Err(TextError::Empty);
    }
    if let Some(c) = room
        .chars()
        .find(|&c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')) || is_invisible_trick(c))
    {
        return Err(TextError::BadCharacter(c));
    }
    if room.chars().all(|c| c == '.') {
        // "." and ".." would be path segments, not rooms.
        return Err(TextError::BadCharacter('.'));
    }
    if room.chars().count() > max_chars {
        return Err(TextError::TooLong { max_chars });
    }
    Ok(room)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_name_is_trimmed_and_accepts_any_script() {
        assert_eq!(validate_display_name("  王小明 ", 40), Ok("王小明"));
        assert_eq!(validate_display_name("Ana María", 40), Ok("Ana María"));
    }

    #[test]
    fn display_name_refuses_empty_control_and_direction_tricks() {
        assert_eq!(validate_display_name("   ", 40), Err(TextError::Empty));
        assert_eq!(
            validate_display_name("a\u{7}b", 40),
            Err(TextError::BadCharacter('\u{7}'))
        );
        assert_eq!(
            validate_display_name("admin\u{202E}gpj", 40),
            Err(TextError::BadCharacter('\u{202E}'))
        );
        assert_eq!(
            validate_display_name("bo\u{200B}b", 40),
            Err(TextError::BadCharacter('\u{200B}'))
        );
    }

    #[test]
    fn display_name_length_counts_characters_not_bytes() {
        assert!(validate_display_name(&"字".repeat(40), 40).is_ok());
        assert_eq!(
            validate_display_name(&"字".repeat(41), 40),
            Err(TextError::TooLong { max_chars: 40 })
        );
    }

    #[test]
    fn room_name_allows_link_safe_characters_only() {
        assert_eq!(
            validate_room_name("weekly-sync_2.0", 64),
            Ok("weekly-sync_2.0")
        );
        assert_eq!(validate_room_name("周会", 64), Ok("周会"));
        assert_eq!(
            validate_room_name("a/b", 64),
            Err(TextError::BadCharacter('/'))
        );
        assert_eq!(
            validate_room_name("a b", 64),
            Err(TextError::BadCharacter(' '))
        );
        assert_eq!(
            validate_room_name("..", 64),
            Err(TextError::BadCharacter('.'))
        );
        assert_eq!(validate_room_name("", 64), Err(TextError::Empty));
        assert_eq!(
            validate_room_name(&"r".repeat(65), 64),
            Err(TextError::TooLong { max_chars: 64 })
        );
    }

    #[test]
    fn chat_text_keeps_line_breaks_and_refuses_other_control_characters() {
        assert_eq!(validate_chat_text("one\n\ttwo", 2000), Ok(()));
        assert_eq!(validate_chat_text(" \n ", 2000), Err(TextError::Empty));
        assert_eq!(
            validate_chat_text("a\u{1b}[31mb", 2000),
            Err(TextError::BadCharacter('\u{1b}'))
        );
        assert_eq!(validate_chat_text(&"字".repeat(10), 10), Ok(()));
        assert_eq!(
            validate_chat_text(&"字".repeat(11), 10),
            Err(TextError::TooLong { max_chars: 10 })
        );
    }
}
