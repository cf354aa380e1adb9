//! The live audience's HTTP surface. WHEP (draft-ietf-wish-whep): `POST /whep/<room>` with
//! the viewer token as a bearer token and an SDP offer (`application/sdp`) answers 201 with
//! the SDP answer and the viewer's resource in `Location`; `DELETE` on the resource ends
//! it; `PATCH` (trickle) is 405, since the offer and answer carry every candidate; a
//! preflight `OPTIONS` allows players on other sites (the token, not a cookie, is the
//! credential). `GET /live/<room>/status?t=<token>` tells the watch page whether the room
//! is live, whether the stage is on air, and how many watch. `GET /live/<room>/index.m3u8`
//! and its segments, with the token in `?t=`, serve the live's HLS.

use std::collections::HashMap;
use std::sync::Arc;

use meshmeet_protocol::{validate_room_name, LiveStatus, RoomName};
use percent_encoding::percent_decode_str;
use warp::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::{LiveError, LiveRoom};
use crate::registry::RoomRegistry;
use crate::routes::plain_text;
use crate::sdp_http::{
    created, fixed_answers, is_sdp, open_to_all, posted_offer, refusal, session_end, Hint,
    PostedOffer, MAX_OFFER_BYTES,
};
use crate::AppState;

/// Every live route.
pub fn routes<R: RoomRegistry>(
    state: Arc<AppState<R>>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static {
    let with_state = warp::any().map(move || Arc::clone(&state));
    let offer =
        posted_offer("whep").and(with_state.clone()).then(
            |posted: PostedOffer, state: Arc<AppState<R>>| async move {
                reply(offer(&state, posted).await)
            },
        );
    let end = session_end("whep").and(with_state.clone()).map(
        |room: String, id: String, auth: Option<String>, state: Arc<AppState<R>>| {
            reply(
                live_room(&state, &room, auth.as_deref())
                    .and_then(|live| live.remove_viewer(&id))
                    .map(|()| plain_text(StatusCode::OK, "ended\n")),
            )
        },
    );
    let fixed = fixed_answers("whep").map(|response| reply(Ok(response)));
    let status = warp::path!("live" / String / "status")
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state.clone())
        .then(
            |room: String, query: HashMap<String, String>, state: Arc<AppState<R>>| async move {
                reply(status(&state, &room, query.get("t").map(String::as_str)).await)
            },
        );
    let hls = warp::path!("live" / String / String)
        .and(warp::get())
        .and(warp::query::<HashMap<String, String>>())
        .and(with_state)
        .then(
            |room: String,
             file: String,
             query: HashMap<String, String>,
             state: Arc<AppState<R>>| async move {
                let token = query.get("t").map(String::as_str);
                reply(hls_file(&state, &room, &file, token).await)
            },
        );
    offer
        .or(end)
        .unify()
        .or(fixed)
        .unify()
        .or(status)
        .unify()
        .or(hls)
        .unify()
}

/// A file of the live's HLS: the playlist, its segment names given the token (players
/// fetch segments relative to the playlist, without its query), or a segment.
async fn hls_file<R: RoomRegistry>(
    state: &AppState<R>,
    room: &str,
    file: &str,
    token: Option<&str>,
) -> Result<Response, LiveError> {
    let live = live_room(state, room, token)?;
    let is_playlist = file == super::encoder_plan::PLAYLIST;
    if !is_playlist && !is_segment_name(file) {
        return Err(LiveError::NoHls);
    }
    let dir = live.hls_dir().ok_or(LiveError::NoHls)?;
    let bytes = tokio::fs::read(dir.join(file))
        .await
        .map_err(|_| LiveError::NoHls)?;
    let (body, kind, cache) = if is_playlist {
        let text = String::from_utf8_lossy(&bytes);
        let token = token.unwrap_or_default();
        (
            with_token(&text, token).into_bytes(),
            "application/vnd.apple.mpegurl",
            "no-cache",
        )
    } else {
        (bytes, "video/mp2t", "private, max-age=60")
    };
    let mut response = Response::new(body.into());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(response)
}

/// Whether `file` is a segment name the encoder writes (`r<run>-<number>.ts`): nothing
/// else in its directory is served.
fn is_segment_name(file: &str) -> bool {
    let Some(stem) = file.strip_suffix(".ts").and_then(|f| f.strip_prefix('r')) else {
        return false;
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    stem.split_once('-')
        .is_some_and(|(run, number)| digits(run) && digits(number))
}

/// `playlist` with `?t=<token>` on each segment's line (the token is hex: nothing to
/// escape).
fn with_token(playlist: &str, token: &str) -> String {
    playlist
        .lines()
        .map(|line| {
            if line.is_empty() || line.starts_with('#') {
                line.to_owned()
            } else {
                format!("{line}?t={token}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// A viewer's offer: checked in the order WHEP clients expect the refusals.
async fn offer<R: RoomRegistry>(
    state: &AppState<R>,
    posted: PostedOffer,
) -> Result<Response, LiveError> {
    let PostedOffer {
        room,
        auth,
        kind,
        body,
    } = posted;
    let room = room.as_str();
    let live = live_room(state, room, auth.as_deref())?;
    if !is_sdp(kind.as_deref()) {
        return Err(LiveError::NotSdp);
    }
    let body = body.ok_or(LiveError::TooLarge(MAX_OFFER_BYTES))?;
    let offer = std::str::from_utf8(&body)
        .map_err(|_| LiveError::Sdp(super::sdp::SdpError("the offer is not UTF-8".into())))?;
    let (id, answer) = live.add_viewer(offer).await?;
    // The room's segment as the client sent it: still a valid path.
    Ok(created(answer, &format!("/whep/{room}/{id}")))
}

/// What the watch page shows: live or not, the stage on air or not, and the audience.
async fn status<R: RoomRegistry>(
    state: &AppState<R>,
    room: &str,
    token: Option<&str>,
) -> Result<Response, LiveError> {
    let body = match live_room(state, room, token) {
        Ok(live) => LiveStatus {
            live: true,
            on_air: Some(live.on_air().await),
            viewers: Some(live.viewer_count() as u64),
        },
        // Not live (never, or any more): the same answer whatever the token, so a guess
        // learns nothing.
        Err(LiveError::NotLive) => LiveStatus::default(),
        Err(err) => return Err(err),
    };
    let body = serde_json::to_string(&body).map_err(|_| LiveError::NotReady)?;
    let mut response = Response::new(body.into());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The live room `room` (as it stands in the path) if `auth` carries its token. Without a
/// token: `BadToken` (401), before anything about the room is looked at.
fn live_room<R: RoomRegistry>(
    state: &AppState<R>,
    room: &str,
    auth: Option<&str>,
) -> Result<Arc<LiveRoom>, LiveError> {
    if auth.is_none() {
        return Err(LiveError::BadToken);
    }
    let decoded = percent_decode_str(room)
        .decode_utf8()
        .map_err(|_| LiveError::NotLive)?;
    let name = validate_room_name(&decoded, state.config.max_room_name_chars)
        .map_err(|_| LiveError::NotLive)?;
    let live = state
        .live
        .get(&RoomName(name.to_owned()))
        .ok_or(LiveError::NotLive)?;
    let token = auth.map(|a| a.strip_prefix("Bearer ").unwrap_or(a).trim());
    match token {
        Some(token) if live.admits(token) => Ok(live),
        // A wrong token is answered as a room that is not live: whoever guesses room names
        // cannot tell which ones are live.
        Some(_) => Err(LiveError::NotLive),
        None => Err(LiveError::BadToken),
    }
}

fn reply(result: Result<Response, LiveError>) -> Response {
    open_to_all(match result {
        Ok(response) => response,
        Err(err) => {
            let hint = match err {
                LiveError::BadToken => Hint::Bearer,
                LiveError::Full(_) | LiveError::NotReady => Hint::RetryLater,
                LiveError::NotSdp => Hint::AcceptSdp,
                _ => Hint::Nothing,
            };
            refusal(err.status(), format!("{err}\n"), hint)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_encoder_s_segment_names_are_served() {
        for good in ["r1-00000.ts", "r12-00042.ts"] {
            assert!(is_segment_name(good), "{good}");
        }
        for bad in [
            "stage.sdp",
            "../x.ts",
            "r1-.ts",
            "r-1.ts",
            "r1-0001.ts.bak",
            "index.m3u8",
            "r1-00/1.ts",
            "",
        ] {
            assert!(!is_segment_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_playlist_carries_the_token_on_each_segment() {
        let playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nr1-00000.ts\n#EXTINF:2.0,\nr1-00001.ts\n";
        let served = with_token(playlist, "ab12");
        assert_eq!(
            served,
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nr1-00000.ts?t=ab12\n#EXTINF:2.0,\nr1-00001.ts?t=ab12\n"
        );
    }
}
