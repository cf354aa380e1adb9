//! Keyboard shortcuts of the call: which key does what. Pure, tested natively; the hook
//! `use_shortcuts` feeds it key presses.

/// Something a key press can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shortcut {
    /// Mute or unmute.
    ToggleMic,
    /// Camera on or off.
    ToggleCamera,
    /// Start or stop sharing the screen.
    ToggleScreen,
    /// Open or close the chat.
    ToggleChat,
    /// Grid or speaker view.
    ToggleView,
    /// Show or hide the list of shortcuts.
    Help,
    /// Leave the meeting.
    Leave,
}

/// Every shortcut with the key shown for it, in the order the help lists them.
pub const SHORTCUTS: [(Shortcut, &str); 7] = [
    (Shortcut::ToggleMic, "M"),
    (Shortcut::ToggleCamera, "V"),
    (Shortcut::ToggleScreen, "S"),
    (Shortcut::ToggleChat, "C"),
    (Shortcut::ToggleView, "G"),
    (Shortcut::Help, "?"),
    (Shortcut::Leave, "Shift + L"),
];

/// A key press, as the browser reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyPress<'a> {
    /// `KeyboardEvent.key`.
    pub key: &'a str,
    /// Shift held.
    pub shift: bool,
    /// Ctrl, Alt or Meta (Cmd) held: the browser's and the system's own shortcuts.
    pub modifier: bool,
    /// Focus is in a text field, where letters are text.
    pub typing: bool,
    /// The key is held down and repeating.
    pub repeat: bool,
}

/// The shortcut a key press means, if any.
pub fn shortcut_for(press: KeyPress<'_>) -> Option<Shortcut> {
    if press.typing || press.modifier || press.repeat {
        return None;
    }
    let key = press.key.to_ascii_lowercase();
    match (key.as_str(), press.shift) {
        ("m", false) => Some(Shortcut::ToggleMic),
        ("v", false) => Some(Shortcut::ToggleCamera),
        ("s", false) => Some(Shortcut::ToggleScreen),
        ("c", false) => Some(Shortcut::ToggleChat),
        ("g", false) => Some(Shortcut::ToggleView),
        // `?` is Shift + / on most layouts; accept it however it was typed.
        ("?", _) => Some(Shortcut::Help),
        ("l", true) => Some(Shortcut::Leave),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(key: &str) -> KeyPress<'_> {
        KeyPress {
            key,
            ..KeyPress::default()
        }
    }

    #[test]
    fn every_listed_shortcut_is_reachable_by_its_shown_key() {
        for (shortcut, shown) in SHORTCUTS {
            let press = match shown.strip_prefix("Shift + ") {
                Some(k) => KeyPress {
                    key: k,
                    shift: true,
                    ..KeyPress::default()
                },
                None => key(shown),
            };
            assert_eq!(shortcut_for(press), Some(shortcut), "{shown}");
        }
    }

    #[test]
    fn letters_work_in_either_case_but_leaving_needs_shift() {
        assert_eq!(shortcut_for(key("M")), Some(Shortcut::ToggleMic));
        assert_eq!(shortcut_for(key("l")), None);
        assert_eq!(
            shortcut_for(KeyPress {
                key: "M",
                shift: true,
                ..KeyPress::default()
            }),
            None
        );
    }

    #[test]
    fn typing_modifiers_and_held_keys_do_nothing() {
        for press in [
            KeyPress {
                typing: true,
                ..key("m")
            },
            KeyPress {
                modifier: true,
                ..key("c")
            },
            KeyPress {
                repeat: true,
                ..key("m")
            },
            key("x"),
            key("Enter"),
        ] {
            assert_eq!(shortcut_for(press), None, "{press:?}");
        }
    }
}
