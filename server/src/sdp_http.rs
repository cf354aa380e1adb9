//! What WHIP (encoders in, `ingest`) and WHEP (viewers out, `live`) share over HTTP: the
//! offer read up to a limit, the content type check, the CORS preflight, the refusal of
//! trickle, and the answer of a created session.

use std::convert::Infallible;

use bytes::Bytes;
use warp::http::header::{
    HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ALLOW, CONTENT_TYPE, LOCATION,
    RETRY_AFTER, WWW_AUTHENTICATE,
};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::routes::plain_text;

/// The largest offer read (a browser's is 3 to 8 KB, an encoder's less).
pub const MAX_OFFER_BYTES: u64 = 64 * 1024;

/// An offer posted to `/<prefix>/<room>`, as the handler takes it.
#[derive(Debug)]
pub struct PostedOffer {
    /// The room's path segment, as sent (percent-encoded).
    pub room: String,
    /// The `Authorization` header.
    pub auth: Option<String>,
    /// The `Content-Type` header.
    pub kind: Option<String>,
    /// The body (see [`offer_body`]).
    pub body: Option<Bytes>,
}

/// `POST /<prefix>/<room>`.
pub fn posted_offer(
    prefix: &'static str,
) -> impl Filter<Extract = (PostedOffer,), Error = Rejection> + Clone {
    warp::path(prefix)
        .and(warp::path::param::<String>())
        .and(warp::path::end())
        .and(warp::post())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::header::optional::<String>("content-type"))
        .and(offer_body())
        .map(|room, auth, kind, body| PostedOffer {
            room,
            auth,
            kind,
            body,
        })
}

/// `DELETE /<prefix>/<room>/<id>`: the room's segment, the session's id and the
/// `Authorization` header.
pub fn session_end(
    prefix: &'static str,
) -> impl Filter<Extract = (String, String, Option<String>), Error = Rejection> + Clone {
    warp::path(prefix)
        .and(warp::path::param::<String>())
        .and(warp::path::param::<String>())
        .and(warp::path::end())
        .and(warp::delete())
        .and(warp::header::optional::<String>("authorization"))
}

/// What is answered the same whatever the session: `PATCH` on one (405, see
/// [`no_trickle`]) and the CORS preflight (see [`preflight`]).
pub fn fixed_answers(
    prefix: &'static str,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let trickle = warp::path(prefix)
        .and(warp::path::param::<String>())
        .and(warp::path::param::<String>())
        .and(warp::path::end())
        .and(warp::patch())
        .map(|_: String, _: String| no_trickle());
    trickle.or(preflight(prefix)).unify()
}

/// The request's body if it has a `Content-Length` of at most [`MAX_OFFER_BYTES`]; `None`
/// otherwise (it is never read).
pub fn offer_body() -> impl Filter<Extract = (Option<Bytes>,), Error = Infallible> + Clone {
    warp::body::content_length_limit(MAX_OFFER_BYTES)
        .and(warp::body::bytes())
        .map(Some)
        .or(warp::any().map(|| None))
        .unify()
}

/// Whether a `Content-Type` is `application/sdp` (parameters allowed).
pub fn is_sdp(kind: Option<&str>) -> bool {
    kind.and_then(|k| k.split(';').next())
        .is_some_and(|k| k.trim().eq_ignore_ascii_case("application/sdp"))
}

/// The CORS preflight of `OPTIONS /<prefix>/…`: players and encoders on other sites may
/// post (the token, not a cookie, is the credential).
fn preflight(
    prefix: &'static str,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path(prefix).and(warp::options()).map(|| {
        let mut response = plain_text(StatusCode::NO_CONTENT, "");
        let headers = response.headers_mut();
        headers.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, DELETE, PATCH, OPTIONS"),
        );
        headers.insert(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type"),
        );
        headers.insert("accept-post", HeaderValue::from_static("application/sdp"));
        response
    })
}

/// `PATCH` on a session (trickle, ICE restart): 405, since offers and answers carry every
/// candidate.
fn no_trickle() -> Response {
    let mut response = plain_text(
        StatusCode::METHOD_NOT_ALLOWED,
        "trickle and ICE restarts are not supported: the offer must carry its candidates\n",
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("DELETE"));
    response
}

/// What a refusal tells the client beyond its status and text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hint {
    /// Nothing more.
    Nothing,
    /// A bearer token is needed (`WWW-Authenticate: Bearer`).
    Bearer,
    /// Worth trying again in a few seconds (`Retry-After`).
    RetryLater,
    /// Only `application/sdp` is taken (`Accept-Post`).
    AcceptSdp,
}

/// A refusal: `status`, `message` as text, and what `hint` adds.
pub fn refusal(status: StatusCode, message: String, hint: Hint) -> Response {
    let mut response = plain_text(status, message);
    let headers = response.headers_mut();
    match hint {
        Hint::Bearer => {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        Hint::RetryLater => {
            headers.insert(RETRY_AFTER, HeaderValue::from_static("5"));
        }
        Hint::AcceptSdp => {
            headers.insert("accept-post", HeaderValue::from_static("application/sdp"));
        }
        Hint::Nothing => {}
    }
    response
}

/// `response`, readable by pages on any site (the token, not a cookie, is the credential).
pub fn open_to_all(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// `201 Created` with the SDP `answer` and the session's resource at `location`.
pub fn created(answer: String, location: &str) -> Response {
    let mut response = Response::new(answer.into());
    *response.status_mut() = StatusCode::CREATED;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/sdp"));
    if let Ok(location) = HeaderValue::from_str(location) {
        headers.insert(LOCATION, location);
    }
    headers.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Location"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_application_sdp_is_an_offer() {
        for good in [
            "application/sdp",
            "Application/SDP",
            "application/sdp; charset=utf-8",
        ] {
            assert!(is_sdp(Some(good)), "{good}");
        }
        for bad in ["text/plain", "application/sdpx", "", "application/json"] {
            assert!(!is_sdp(Some(bad)), "{bad}");
        }
        assert!(!is_sdp(None));
    }
}
