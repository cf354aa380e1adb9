//! What a meeting link carries besides the room: a join token (`?token=…`, minted by
//! another system; see PROTOCOL.md) and the name in it, shown in the lobby. The relay checks
//! the token; the page only reads it.

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

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The `name` claim of a join token (a JWT: its payload is base64url JSON), read without
/// checking the signature, only to show it before joining.
pub fn token_name(token: &str) -> Option<String> {
    let payload = base64url_decode(token.split('.').nth(1)?)?;
    let value = meshmeet_protocol::json::parse(std::str::from_utf8(&payload).ok()?).ok()?;
    value.get("name")?.as_str().map(str::to_owned)
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
