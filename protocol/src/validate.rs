//! Validation of room names, display names, chat text and client keys, shared so the client
//! refuses (or normalises) what the relay would.

use std::borrow::Cow;
use std::fmt;

/// Why a room name, display name or chat text was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextError {
    /// Empty, or only white space.
    Empty,
    /// Longer than allowed (in characters; for chat, once its line breaks are normalised).
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
/// bidirectional controls (used to disguise names), zero-width and other invisible characters
/// (used to make two names look alike: the soft hyphen, the combining grapheme joiner, the
/// Hangul and halfwidth fillers, the Mongolian vowel separator), and the line and paragraph
/// separators (a name is one line). PROTOCOL.md lists the same set under "Names".
fn is_invisible_trick(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{034F}'
        | '\u{061C}'
        | '\u{115F}'..='\u{1160}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{3164}'
        | '\u{FEFF}'
        | '\u{FFA0}'
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

/// Checks a chat text and normalises its line breaks: `\r\n` and a lone `\r` become `\n`
/// (what a pasted Windows or old Mac text holds), so every receiver sees the same lines.
/// The result is 1 to `max_chars` characters, not only white space, with no control
/// characters but `\n` and `\t`.
pub fn normalize_chat_text(text: &str, max_chars: usize) -> Result<Cow<'_, str>, TextError> {
    let text = if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    };
    if text.trim().is_empty() {
        return Err(TextError::Empty);
    }
    // Line breaks and tabs are text; other control characters only hide or garble it.
    if let Some(c) = text
        .chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(TextError::BadCharacter(c));
    }
    if text.chars().count() > max_chars {
        return Err(TextError::TooLong { max_chars });
    }
    Ok(text)
}

/// Shortest and longest `client_key`, in characters.
pub const CLIENT_KEY_CHARS: std::ops::RangeInclusive<usize> = 16..=64;

/// Whether `key` is a well-formed `client_key`: 16 to 64 ASCII letters, digits, `-` or `_`
/// (the client makes 32 hex digits).
pub fn is_valid_client_key(key: &str) -> bool {
    CLIENT_KEY_CHARS.contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
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
    fn display_name_refuses_every_listed_invisible_character() {
        for c in [
            '\u{00AD}', '\u{200C}', '\u{2028}', '\u{2029}', '\u{3164}', '\u{FEFF}',
        ] {
            assert_eq!(
                validate_display_name(&format!("a{c}b"), 40),
                Err(TextError::BadCharacter(c)),
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn display_name_trims_next_line_at_the_ends_but_refuses_it_inside() {
        assert_eq!(validate_display_name("\u{0085}Bo\u{0085}", 40), Ok("Bo"));
        assert_eq!(
            validate_display_name("B\u{0085}o", 40),
            Err(TextError::BadCharacter('\u{0085}'))
        );
    }

    #[test]
    fn chat_line_breaks_of_every_kind_become_newlines() {
        assert_eq!(
            normalize_chat_text("line1\r\nline2\rline3\nline4\tend", 2000).as_deref(),
            Ok("line1\nline2\nline3\nline4\tend")
        );
        assert!(matches!(
            normalize_chat_text("plain", 2000),
            Ok(Cow::Borrowed("plain"))
        ));
    }

    #[test]
    fn chat_refuses_empty_long_and_control_text() {
        assert_eq!(normalize_chat_text(" \r\n\t", 2000), Err(TextError::Empty));
        assert_eq!(
            normalize_chat_text("a\u{1b}[31mb", 2000),
            Err(TextError::BadCharacter('\u{1b}'))
        );
        assert_eq!(
            normalize_chat_text(&"字".repeat(10), 10).as_deref(),
            Ok("字字字字字字字字字字")
        );
        assert_eq!(
            normalize_chat_text(&"字".repeat(11), 10),
            Err(TextError::TooLong { max_chars: 10 })
        );
        // A CRLF counts as one character once normalised.
        assert!(normalize_chat_text("a\r\nb", 3).is_ok());
    }

    #[test]
    fn client_key_must_be_16_to_64_link_safe_ascii_characters() {
        assert!(is_valid_client_key("0123456789abcdef0123456789abcdef"));
        assert!(is_valid_client_key(&"k".repeat(64)));
        for bad in [
            "x",
            "",
            "0123456789abcde/",
            "0123456789abcdéf",
            &"k".repeat(65),
        ] {
            assert!(!is_valid_client_key(bad), "{bad}");
        }
    }
}
