//! What the browser tab says: the room, and whether the microphone is muted, in the title and
//! in the favicon. Pure, tested natively; `use_page_title` applies it.

/// The product name, last in every title.
pub const APP_NAME: &str = "meshmeet";

/// The tab title for `room` (`None` outside a room).
pub fn page_title(room: Option<&str>, muted: bool, muted_word: &str) -> String {
    match (room, muted) {
        (None, _) => APP_NAME.to_owned(),
        (Some(room), false) => format!("{room} · {APP_NAME}"),
        (Some(room), true) => format!("{muted_word} · {room} · {APP_NAME}"),
    }
}

/// The favicon as an SVG data URL: a camera, with a red slashed dot when muted.
pub fn favicon_url(muted: bool) -> String {
    let camera = "<rect x='3' y='16' width='38' height='32' rx='6' fill='%232563eb'/>\
                  <path d='M41 28l18-10v28L41 36z' fill='%232563eb'/>";
    let mark = if muted {
        "<circle cx='46' cy='46' r='16' fill='%23dc2626'/>\
         <path d='M37 37l18 18' stroke='white' stroke-width='5' stroke-linecap='round'/>"
    } else {
        ""
    };
    format!("data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'>{camera}{mark}</svg>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_names_the_room_and_says_muted_first() {
        assert_eq!(page_title(None, true, "Muted"), "meshmeet");
        assert_eq!(
            page_title(Some("standup"), false, "Muted"),
            "standup · meshmeet"
        );
        assert_eq!(
            page_title(Some("周会"), true, "已静音"),
            "已静音 · 周会 · meshmeet"
        );
    }

    #[test]
    fn the_favicon_changes_when_muted_and_is_a_usable_data_url() {
        let (on, off) = (favicon_url(false), favicon_url(true));
        assert_ne!(on, off);
        for url in [on, off] {
            assert!(url.starts_with("data:image/svg+xml,<svg"));
            // `#` would end the URL early: colours are escaped.
            assert!(!url.contains('#'), "{url}");
        }
    }
}
