//! What a meeting URL carries besides the room: a join token (`?token=…`, minted by
//! another system; see PROTOCOL.md) and the name in it, shown in the lobby (the relay checks
//! the token; the page only reads it); and an encrypted meeting's passphrase in the
//! fragment (`#key=…`), which browsers never send to a server.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use percent_encoding::percent_decode_str;

/// JWT segments are base64url without padding; padding is tolerated.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The value of `key` in a query string like `?a=1&token=x`, percent-decoded.
pub fn query_value(query: &str, key: &str) -> Option<String> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| percent_decode(v))
        .filter(|v| !v.is_empty())
}

/// The name of an encrypted meeting's passphrase in its link's fragment.
const PASSPHRASE_KEY: &str = "key";

/// The passphrase in a link's fragment (`#key=…`), if any.
pub fn fragment_passphrase(hash: &str) -> Option<String> {
    query_value(hash.trim_start_matches('#'), PASSPHRASE_KEY)
}

/// The fragment that carries `passphrase` (`#key=…`, escaped).
pub fn passphrase_fragment(passphrase: &str) -> String {
    let escaped =
        percent_encoding::utf8_percent_encode(passphrase, percent_encoding::NON_ALPHANUMERIC);
    format!("#{PASSPHRASE_KEY}={escaped}")
}

/// A new random passphrase from 16 random `bytes` (128 bits), URL-safe as it is.
pub fn passphrase_from(bytes: &[u8; 16]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a query value (`+` is a space); `None` for a malformed escape or bytes that are
/// not UTF-8, which a link we made never has.
fn percent_decode(text: &str) -> Option<String> {
    // percent-encoding passes a malformed escape through as text; here it means a broken link.
    let well_formed = text.split('%').skip(1).all(|rest| {
        rest.as_bytes()
            .get(..2)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    let text = text.replace('+', " ");
    let decoded = percent_decode_str(&text).decode_utf8().ok()?;
    Some(decoded.into_owned())
}

/// The `name` claim of a join token (a JWT: its payload is base64url JSON), read without
/// checking the signature, only to show it before joining.
pub fn token_name(token: &str) -> Option<String> {
    /// The one claim read here; the others are the relay's business.
    #[derive(serde::Deserialize)]
    struct Claims {
        name: String,
    }
    let payload = BASE64URL.decode(token.split('.').nth(1)?).ok()?;
    let claims: Claims = serde_json::from_slice(&payload).ok()?;
    Some(claims.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_goes_into_a_fragment_and_comes_back_whatever_its_characters() {
        for passphrase in [
            "abc",
            "two words & more=#",
            "钥匙 key",
            &passphrase_from(&[7; 16]),
        ] {
            let fragment = passphrase_fragment(passphrase);
            assert_eq!(fragment_passphrase(&fragment).as_deref(), Some(passphrase));
        }
        assert_eq!(passphrase_from(&[0xff; 16]), "_____________________w");
        assert_eq!(fragment_passphrase(""), None);
        assert_eq!(fragment_passphrase("#key="), None);
        assert_eq!(fragment_passphrase("#other=1"), None);
    }

    #[test]
    fn query_values_are_found_and_decoded() {
        assert_eq!(
            query_value("?video=low&token=a.b.c", "token").as_deref(),
            Some("a.b.c")
        );
        assert_eq!(
            query_value("?name=Ana%20Mar%C3%ADa", "name").as_deref(),
            Some("Ana María")
        );
        assert_eq!(query_value("?token=", "token"), None);
        assert_eq!(query_value("", "token"), None);
        assert_eq!(query_value("?token=%zz", "token"), None);
    }

    #[test]
    fn the_name_of_a_token_is_read_from_its_payload() {
        // The example token of the relay's tests: {"room":"board","name":"Ana","exp":4102444800}.
        let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb29tIjoiYm9hcmQiLCJuYW1lIjoiQW5hIiwiZXhwIjo0MTAyNDQ0ODAwfQ.PHw0dGqSE3wVJw5FDAUMSFkcvfS492vPSR8r-d6JOT0";
        assert_eq!(token_name(token).as_deref(), Some("Ana"));
        // {"name":"Zoë"}: non-ASCII names survive.
        assert_eq!(
            token_name("x.eyJuYW1lIjoiWm_DqyJ9.y").as_deref(),
            Some("Zoë")
        );
        assert_eq!(token_name("garbage"), None);
        assert_eq!(token_name("a.!!!.b"), None);
    }
}
