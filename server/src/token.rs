//! Signed join tokens: a JWT (RFC 7519) signed with HMAC-SHA256 (`HS256`) under
//! `--token-secret`, with the claims `room`, `name` and `exp`. Another system (an intranet,
//! a calendar) mints one per person and puts it in the meeting link (`/r/<room>?token=…`);
//! any JWT library can, since the format is the standard one.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Longest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// What a token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The room it admits to.
    pub room: String,
    /// The display name its holder appears under.
    pub name: String,
    /// Expiry, in Unix seconds (JWT `exp`).
    pub exp: u64,
}

/// Why a token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of JSON, too long, or a header other than HS256.
    #[error("the join token is malformed: {0}")]
    Malformed(&'static str),
    /// The signature does not match: forged, altered, or signed with another secret.
    #[error("the join token's signature is not valid")]
    BadSignature,
    /// Signed for another room.
    #[error("the join token is for another room")]
    WrongRoom,
    /// Past its `exp`.
    #[error("the join token expired")]
    Expired,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    }
}

/// A token for `claims` under `secret` (what another system does; the relay's tests and the
/// documentation's example use it).
pub fn mint(secret: &[u8], claims: &Claims) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    // Serialising a struct of strings and an integer cannot fail.
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let mut mac = mac(secret);
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Checks `token` under `secret` for `room` at `now` and returns its claims. The signature is
/// checked (in constant time) before anything in the payload is believed.
pub fn verify(
    secret: &[u8],
    token: &str,
    room: &str,
    now: SystemTime,
) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed("longer than 4096 bytes"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed("not three dot-separated parts"));
    };
    let header: Header = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(TokenError::Malformed("unreadable header"))?;
    // Only HS256: never `none`, never an algorithm the token itself picks.
    if header.alg != "HS256" {
        return Err(TokenError::Malformed("the algorithm is not HS256"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed("unreadable signature"))?;
    let signed_len = token.len() - token.rsplit('.').next().map_or(0, str::len) - 1;
    let mut mac = mac(secret);
    mac.update(&token.as_bytes()[..signed_len]);
    mac.verify_slice(&signature)
        .map_err(|_| TokenError::BadSignature)?;
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or(TokenError::Malformed(
            "the payload needs room, name and exp",
        ))?;
    if claims.room != room {
        return Err(TokenError::WrongRoom);
    }
    let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if claims.exp <= now_secs {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn claims(exp: u64) -> Claims {
        Claims {
            room: "board".into(),
            name: "Ana".into(),
            exp,
        }
    }

    #[test]
    fn a_minted_token_verifies_until_it_expires() {
        let token = mint(b"k", &claims(2_000));
        assert_eq!(verify(b"k", &token, "board", at(1_999)), Ok(claims(2_000)));
        assert_eq!(
            verify(b"k", &token, "board", at(2_000)),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify(b"k", &token, "other", at(1_000)),
            Err(TokenError::WrongRoom)
        );
        assert_eq!(
            verify(b"x", &token, "board", at(1_000)),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn matches_a_token_from_another_jwt_implementation() {
        // Made with Python's standard library (base64url of the JSON parts, HMAC-SHA256 over
        // "header.payload"), as the README shows:
        let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb29tIjoiYm9hcmQiLCJuYW1lIjoiQW5hIiwiZXhwIjo0MTAyNDQ0ODAwfQ.PHw0dGqSE3wVJw5FDAUMSFkcvfS492vPSR8r-d6JOT0";
        assert_eq!(
            verify(b"k", token, "board", at(1_700_000_000)),
            Ok(claims(4_102_444_800))
        );
    }

    #[test]
    fn altered_or_unsigned_tokens_are_refused() {
        let token = mint(b"k", &claims(2_000));
        let parts: Vec<&str> = token.split('.').collect();
        // Someone else's payload under the original signature.
        let other = URL_SAFE_NO_PAD.encode(br#"{"room":"board","name":"Boss","exp":9999999999}"#);
        let forged = format!("{}.{other}.{}", parts[0], parts[2]);
        assert_eq!(
            verify(b"k", &forged, "board", at(1)),
            Err(TokenError::BadSignature)
        );
        // alg none, no signature.
        let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let unsigned = format!("{none}.{}.", parts[1]);
        assert!(matches!(
            verify(b"k", &unsigned, "board", at(1)),
            Err(TokenError::Malformed(_))
        ));
        for garbage in ["", "a.b", "a.b.c.d", "!!.??.**", &"a".repeat(5000)] {
            assert!(matches!(
                verify(b"k", garbage, "board", at(1)),
                Err(TokenError::Malformed(_))
            ));
        }
    }
}
