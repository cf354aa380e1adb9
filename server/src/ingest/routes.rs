//! WHIP (RFC 9725) for encoders: `POST /whip/<room>` with the ingest token as a bearer token
//! and an SDP offer (`application/sdp`) answers 201 with the SDP answer and the session's
//! resource in `Location`; `DELETE` on the resource (with the same token) ends it; `PATCH`
//! (trickle, ICE restart) is 405, since the offer and answer carry every candidate; a
//! preflight `OPTIONS` allows browser-based encoders on other sites.

use std::sync::Arc;

use meshmeet_protocol::{validate_room_name, RoomName};
use percent_encoding::percent_decode_str;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::grants::IngestGrant;
use super::{encoders, IngestError};
use crate::registry::RoomRegistry;
use crate::routes::plain_text;
use crate::sdp_http::{
    created, fixed_answers, is_sdp, open_to_all, posted_offer, refusal, session_end, Hint,
    PostedOffer, MAX_OFFER_BYTES,
};
use crate::AppState;

/// Every WHIP route.
pub fn routes<R: RoomRegistry>(
    state: Arc<AppState<R>>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static {
    let with_state = warp::any().map(move || Arc::clone(&state));
    let offer =
        posted_offer("whip").and(with_state.clone()).then(
            |posted: PostedOffer, state: Arc<AppState<R>>| async move {
                reply(offer(&state, posted).await)
            },
        );
    let end = session_end("whip").and(with_state).map(
        |room: String, id: String, auth: Option<String>, state: Arc<AppState<R>>| {
            reply(
                grant(&state, &room, auth.as_deref())
                    .and_then(|grant| state.ingest.encoders.end(&grant.room, &id, &grant.token))
                    .map(|()| plain_text(StatusCode::OK, "ended\n")),
            )
        },
    );
    let fixed = fixed_answers("whip").map(|response| reply(Ok(response)));
    offer.or(end).unify().or(fixed).unify()
}

/// An encoder's offer: checked in the order WHIP clients expect the refusals.
async fn offer<R: RoomRegistry>(
    state: &Arc<AppState<R>>,
    posted: PostedOffer,
) -> Result<Response, IngestError> {
    let PostedOffer {
        room,
        auth,
        kind,
        body,
    } = posted;
    let room = room.as_str();
    let grant = grant(state, room, auth.as_deref())?;
    if !is_sdp(kind.as_deref()) {
        return Err(IngestError::NotSdp);
    }
    let body = body.ok_or(IngestError::TooLarge(MAX_OFFER_BYTES))?;
    let offer = std::str::from_utf8(&body)
        .map_err(|_| IngestError::BadOffer("the offer is not UTF-8".into()))?;
    let (id, answer) = encoders::publish(state, grant, offer).await?;
    // The room's segment as the client sent it: still a valid path.
    Ok(created(answer, &format!("/whip/{room}/{id}")))
}

/// The grant `auth` carries for `room` (as it stands in the path): `BadToken` (401) for no
/// token, a wrong one, or a room that is not one.
fn grant<R: RoomRegistry>(
    state: &AppState<R>,
    room: &str,
    auth: Option<&str>,
) -> Result<IngestGrant, IngestError> {
    let token = auth
        .map(|a| a.strip_prefix("Bearer ").unwrap_or(a).trim())
        .filter(|t| !t.is_empty())
        .ok_or(IngestError::BadToken)?;
    let decoded = percent_decode_str(room)
        .decode_utf8()
        .map_err(|_| IngestError::BadToken)?;
    let name = validate_room_name(&decoded, state.config.max_room_name_chars)
        .map_err(|_| IngestError::BadToken)?;
    state
        .ingest
        .grants
        .find(&RoomName(name.to_owned()), token)
        .ok_or(IngestError::BadToken)
}

fn reply(result: Result<Response, IngestError>) -> Response {
    open_to_all(match result {
        Ok(response) => response,
        Err(err) => {
            let hint = match err {
                IngestError::BadToken => Hint::Bearer,
                IngestError::Full | IngestError::NoMediaServer | IngestError::MediaServer => {
                    Hint::RetryLater
                }
                IngestError::NotSdp => Hint::AcceptSdp,
                _ => Hint::Nothing,
            };
            refusal(err.status(), format!("{err}\n"), hint)
        }
    })
}
