//! Readable random room names and the routes of the app.

use meshmeet_protocol::{validate_room_name, DEFAULT_MAX_ROOM_NAME_CHARS};
use percent_encoding::percent_decode_str;

const ADJECTIVES: [&str; 16] = [
    "amber", "brave", "calm", "clever", "cosy", "eager", "gentle", "golden", "happy", "lucky",
    "mellow", "quiet", "rapid", "silver", "sunny", "swift",
];
const NOUNS: [&str; 16] = [
    "badger", "cedar", "comet", "falcon", "harbor", "island", "lotus", "maple", "meadow", "otter",
    "panda", "river", "robin", "summit", "tiger", "willow",
];

/// The longest room name the app creates or accepts in a link (the relay's default).
pub const MAX_ROOM_CHARS: usize = DEFAULT_MAX_ROOM_NAME_CHARS;

/// A room name such as `calm-river-4821` from three random numbers: easy to read aloud,
/// and with 16·16·9000 ≈ 2.3 million choices hard to stumble into by accident.
pub fn room_name_from(random: [u32; 3]) -> String {
    let adjective = ADJECTIVES[random[0] as usize % ADJECTIVES.len()];
    let noun = NOUNS[random[1] as usize % NOUNS.len()];
    let number = 1000 + random[2] % 9000;
    format!("{adjective}-{noun}-{number}")
}

/// A page of the app, from the URL path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/`: start a meeting.
    Home,
    /// `/r/<room>`: a meeting.
    Room(String),
    /// `/live/<room>`: the watch page of a meeting that is live (its token in `?t=`).
    Live(String),
    /// Anything else, or a room name that is not valid.
    NotFound,
}

impl Route {
    /// Reads a URL path (percent-encoded, as `location.pathname` gives it).
    pub fn from_path(path: &str) -> Route {
        let path = path.trim_end_matches('/');
        if path.is_empty() {
            return Route::Home;
        }
        let (room, live) = match (path.strip_prefix("/r/"), path.strip_prefix("/live/")) {
            (Some(room), _) => (room, false),
            (_, Some(room)) => (room, true),
            _ => return Route::NotFound,
        };
        let room = percent_decode(room);
        match (validate_room_name(&room, MAX_ROOM_CHARS), live) {
            (Ok(_), false) => Route::Room(room),
            (Ok(_), true) => Route::Live(room),
            (Err(_), _) => Route::NotFound,
        }
    }

    /// The path of this route.
    pub fn path(&self) -> String {
        match self {
            Route::Room(room) => format!("/r/{room}"),
            Route::Live(room) => format!("/live/{room}"),
            Route::Home | Route::NotFound => "/".into(),
        }
    }
}

/// The watch link of a live meeting, from the meeting's link (`<origin>/r/<room>`) and the
/// live's viewer token.
pub fn watch_url(meeting_url: &str, token: &str) -> String {
    let meeting_url = without_fragment(meeting_url);
    match meeting_url.rsplit_once("/r/") {
        Some((origin, room)) => format!("{origin}/live/{room}?t={token}"),
        None => format!("{meeting_url}?t={token}"),
    }
}

/// Where an encoder of the meeting at `meeting_url` (`<origin>/r/<room>`) publishes over
/// WHIP: `<origin>/whip/<room>`.
pub fn whip_url(meeting_url: &str) -> String {
    let meeting_url = without_fragment(meeting_url);
    match meeting_url.rsplit_once("/r/") {
        Some((origin, room)) => format!("{origin}/whip/{room}"),
        None => meeting_url.to_owned(),
    }
}

/// The HLS playlist of the live whose watch link is `watch_url` (`…/live/<room>?t=<token>`):
/// `…/live/<room>/index.m3u8?t=<token>`.
pub fn hls_url(watch_url: &str) -> Option<String> {
    let (page, token) = watch_url.split_once("?t=")?;
    Some(format!("{page}/index.m3u8?t={token}"))
}

/// `url` without its `#fragment`: an encrypted meeting's passphrase stays in its own link.
fn without_fragment(url: &str) -> &str {
    url.split_once('#').map_or(url, |(before, _)| before)
}

/// Decodes `%XX` escapes (UTF-8); malformed escapes are kept as they are.
fn percent_decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encrypted_meeting_s_passphrase_never_reaches_its_watch_or_whip_link() {
        let meeting = "https://meet.example.org/r/board#key=s3cret";
        assert_eq!(
            watch_url(meeting, "tok"),
            "https://meet.example.org/live/board?t=tok"
        );
        assert_eq!(whip_url(meeting), "https://meet.example.org/whip/board");
    }

    #[test]
    fn generated_room_names_are_readable_and_valid() {
        for seed in [[0, 0, 0], [7, 99, 123_456], [u32::MAX, u32::MAX, u32::MAX]] {
            let name = room_name_from(seed);
            assert_eq!(name.split('-').count(), 3, "{name}");
            assert!(validate_room_name(&name, MAX_ROOM_CHARS).is_ok(), "{name}");
        }
        assert_eq!(room_name_from([2, 11, 0]), "calm-river-1000");
    }

    #[test]
    fn paths_map_to_routes() {
        assert_eq!(Route::from_path("/"), Route::Home);
        assert_eq!(Route::from_path(""), Route::Home);
        assert_eq!(
            Route::from_path("/r/calm-river-1000"),
            Route::Room("calm-river-1000".into())
        );
        assert_eq!(
            Route::from_path("/r/calm-river-1000/"),
            Route::Room("calm-river-1000".into())
        );
        assert_eq!(
            Route::from_path("/r/%E5%91%A8%E4%BC%9A"),
            Route::Room("周会".into())
        );
        assert_eq!(Route::from_path("/r/a%20b"), Route::NotFound);
        assert_eq!(Route::from_path("/r/"), Route::NotFound);
        assert_eq!(Route::from_path("/admin"), Route::NotFound);
        assert_eq!(
            Route::from_path("/live/%E5%91%A8%E4%BC%9A"),
            Route::Live("周会".into())
        );
        assert_eq!(Route::from_path("/live/a%20b"), Route::NotFound);
        assert_eq!(Route::Live("town-hall".into()).path(), "/live/town-hall");
    }

    #[test]
    fn the_watch_link_is_the_meeting_link_under_live_with_the_token() {
        assert_eq!(
            watch_url("https://meet.example.org/r/town-hall", "4f0c"),
            "https://meet.example.org/live/town-hall?t=4f0c"
        );
        assert_eq!(Route::Room("x".into()).path(), "/r/x");
    }

    #[test]
    fn encoders_publish_to_the_meeting_s_whip_address() {
        assert_eq!(
            whip_url("https://meet.example.org/r/town-hall"),
            "https://meet.example.org/whip/town-hall"
        );
    }

    #[test]
    fn the_hls_link_is_the_watch_link_s_playlist_with_the_same_token() {
        assert_eq!(
            hls_url("https://meet.example.org/live/town-hall?t=4f0c").as_deref(),
            Some("https://meet.example.org/live/town-hall/index.m3u8?t=4f0c")
        );
        assert_eq!(hls_url("https://meet.example.org/live/x"), None);
    }

    #[test]
    fn broken_escapes_are_kept_literally() {
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("a%zz"), "a%zz");
        assert_eq!(percent_decode("%41"), "A");
    }
}
