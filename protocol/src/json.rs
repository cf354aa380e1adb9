//! A small JSON reader and writer for the messages the browser client exchanges, without
//! serde: a generic tree ([`Json`]) that `codec.rs` maps to and from the message types.
//!
//! Why: serde's derived readers and serde_json are monomorphised per message type, and in the
//! WebAssembly client they were the largest single part of the download after Yew (issue #11:
//! about 23 KB of the gzipped client). One tree reader shared by every type is a few KB.
//!
//! Numbers: the protocol has integers only, so an integer is kept exactly (`Int`) and any
//! other number (a fraction or exponent) is accepted as `Other` and refused where a field
//! needs an integer, as serde refuses `1.5` for a `u64`. Nothing here parses or formats
//! floating point, which keeps Rust's float code out of the client: fractional numbers reach
//! the client only in browser objects (`getStats()`), which it reads value by value into
//! `Num` without any text in between.

use std::fmt;

/// Nesting deeper than this is refused, like serde_json's recursion limit: a hostile message
/// of a million `[` cannot exhaust the stack.
const MAX_DEPTH: usize = 128;

/// A parsed JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in an `i128` (every `u64` and `i64` does).
    Int(i128),
    /// Any other number read from text (with a fraction or exponent, or too long): kept as
    /// its text, never converted.
    Other(String),
    /// A number that already is a float (taken from a browser value, never from text).
    Num(f64),
    /// A string, unescaped.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object's members in document order (the first of duplicate keys wins on lookup).
    Obj(Vec<(String, Json)>),
}

/// Why a text is not JSON, or not the message it should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError(pub String);

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JsonError {}

impl Json {
    /// The member `key` of an object; `None` for a missing key or a non-object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as a number: an integer or a float. A fractional number read from text
    /// (`Other`) gives `None`: see the module notes.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Int(n) => Some(*n as f64),
            Json::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// The value as a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The items of an array.
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Arr(items) => Some(items),
            _ => None,
        }
    }

    /// What kind of value this is, for error messages (serde's words).
    pub fn describe(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Int(_) | Json::Other(_) | Json::Num(_) => "a number",
            Json::Str(_) => "a string",
            Json::Arr(_) => "a sequence",
            Json::Obj(_) => "a map",
        }
    }
}

static NULL: Json = Json::Null;

/// `value["key"]`: the member, or `null` when absent (as serde_json's `Value` indexes).
impl std::ops::Index<&str> for Json {
    type Output = Json;

    fn index(&self, key: &str) -> &Json {
        self.get(key).unwrap_or(&NULL)
    }
}

impl PartialEq<&str> for Json {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

impl PartialEq<bool> for Json {
    fn eq(&self, other: &bool) -> bool {
        self.as_bool() == Some(*other)
    }
}

/// Parses one JSON text (surrounding whitespace allowed, nothing else after the value).
pub fn parse(text: &str) -> Result<Json, JsonError> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        pos: 0,
    };
    let value = parser.value(0)?;
    parser.skip_ws();
    if parser.pos != parser.bytes.len() {
        return Err(parser.error("trailing characters"));
    }
    Ok(value)
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> JsonError {
        JsonError(format!("{what} at byte {}", self.pos))
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, JsonError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error("recursion limit exceeded"));
        }
        self.skip_ws();
        match self.peek() {
            None => Err(self.error("EOF while parsing a value")),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::Str),
            Some(b'[') => self.array(depth),
            Some(b'{') => self.object(depth),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected value")),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Arr(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Arr(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Obj(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("key must be a string"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:`"));
            }
            self.pos += 1;
            let value = self.value(depth + 1)?;
            members.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Obj(members));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits = self.digits();
        if digits == 0 {
            return Err(self.error("invalid number"));
        }
        // A leading zero is only allowed alone ("0", "-0", "0.5").
        let first = usize::from(self.bytes[start] == b'-');
        if digits > 1 && self.bytes[start + first] == b'0' {
            return Err(self.error("invalid number"));
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
            integer = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
            integer = false;
        }
        // The bytes are ASCII digits and signs only, so this is valid UTF-8.
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or_default();
        Ok(match (integer, text.parse::<i128>()) {
            (true, Ok(n)) => Json::Int(n),
            _ => Json::Other(text.to_owned()),
        })
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error("EOF while parsing a string"));
            };
            self.pos += 1;
            match byte {
                b'"' => break,
                b'\\' => self.escape(&mut out)?,
                0x00..=0x1f => {
                    return Err(self.error("control character (\\u0000-\\u001F) found in a string"))
                }
                _ => out.push(byte),
            }
        }
        // The input was a &str and escapes are pushed as UTF-8, so this cannot fail.
        String::from_utf8(out).map_err(|_| self.error("invalid UTF-8 in a string"))
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), JsonError> {
        let Some(byte) = self.peek() else {
            return Err(self.error("EOF while parsing a string"));
        };
        self.pos += 1;
        let simple = match byte {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let c = self.unicode_escape()?;
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                return Ok(());
            }
            _ => return Err(self.error("invalid escape")),
        };
        out.push(simple);
        Ok(())
    }

    /// The character of a `\uXXXX` escape (just after the `u`), joining a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let high = self.hex4()?;
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high).ok_or_else(|| self.error("lone trailing surrogate"));
        }
        if !self.bytes[self.pos..].starts_with(b"\\u") {
            return Err(self.error("lone leading surrogate in hex escape"));
        }
        self.pos += 2;
        let low = self.hex4()?;
        if !(0xDC00..0xE000).contains(&low) {
            return Err(self.error("lone leading surrogate in hex escape"));
        }
        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
        char::from_u32(code).ok_or_else(|| self.error("invalid unicode code point"))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.error("invalid hex escape"))?;
            value = value * 16 + digit;
            self.pos += 1;
        }
        Ok(value)
    }
}

/// Builds one JSON object as text, member by member.
pub struct ObjectWriter {
    out: String,
}

impl ObjectWriter {
    /// An object whose first member is `"type": kind` (every message starts so).
    pub fn tagged(tag: &str, kind: &str) -> ObjectWriter {
        let mut writer = ObjectWriter::empty();
        writer.str(tag, kind);
        writer
    }

    /// An object with no members yet.
    pub fn empty() -> ObjectWriter {
        ObjectWriter {
            out: String::from("{"),
        }
    }

    fn key(&mut self, key: &str) {
        if self.out.len() > 1 {
            self.out.push(',');
        }
        write_str(&mut self.out, key);
        self.out.push(':');
    }

    /// A string member.
    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        write_str(&mut self.out, value);
        self
    }

    /// A string member that is left out when `None`.
    pub fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.str(key, value);
        }
        self
    }

    /// A string member written as `null` when `None`.
    pub fn str_or_null(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        match value {
            Some(value) => self.str(key, value),
            None => self.raw(key, "null"),
        }
    }

    /// An integer member written as `null` when `None`.
    pub fn int_or_null(&mut self, key: &str, value: Option<u64>) -> &mut Self {
        match value {
            Some(value) => self.int(key, value),
            None => self.raw(key, "null"),
        }
    }

    /// An integer member.
    pub fn int(&mut self, key: &str, value: u64) -> &mut Self {
        self.key(key);
        self.out.push_str(&value.to_string());
        self
    }

    /// A boolean member.
    pub fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key);
        self.out.push_str(if value { "true" } else { "false" });
        self
    }

    /// A member whose value is already JSON text (a nested object).
    pub fn raw(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key);
        self.out.push_str(json);
        self
    }

    /// The finished object.
    pub fn finish(&mut self) -> String {
        let mut out = std::mem::take(&mut self.out);
        out.push('}');
        out
    }
}

/// A JSON array of items that are already JSON text.
pub fn array(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    format!("[{}]", items.join(","))
}

/// `text` as a JSON string.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_str(&mut out, text);
    out
}

/// Appends `text` as a JSON string, escaped as serde_json escapes (quote, backslash and
/// control characters; everything else as is).
pub fn write_str(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let n = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[n >> 4]));
                out.push(char::from(HEX[n & 15]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_value() {
        let value = parse(r#" {"a": [1, -2, 3.5, 1e3, true, false, null], "b": {"c": "d"}} "#)
            .expect("valid");
        assert_eq!(
            value.get("a"),
            Some(&Json::Arr(vec![
                Json::Int(1),
                Json::Int(-2),
                Json::Other("3.5".into()),
                Json::Other("1e3".into()),
                Json::Bool(true),
                Json::Bool(false),
                Json::Null,
            ]))
        );
        assert_eq!(
            value.get("b").and_then(|b| b.get("c")),
            Some(&Json::Str("d".into()))
        );
        assert_eq!(value.get("missing"), None);
    }

    #[test]
    fn values_are_read_and_compared_like_serde_json_values() {
        let value = parse(r#"{"n": 15, "f": 0.25, "e": -1.5e2, "s": "x", "b": true, "a": [1]}"#)
            .expect("valid");
        assert_eq!(value["n"].as_f64(), Some(15.0));
        // Fractions from text stay text (no float parser in the client); floats from the
        // browser are `Num`.
        assert_eq!(value["f"].as_f64(), None);
        assert_eq!(value["e"], Json::Other("-1.5e2".into()));
        assert_eq!(Json::Num(0.25).as_f64(), Some(0.25));
        assert_eq!(value["s"].as_f64(), None);
        assert!(value["s"] == "x" && value["b"] == true && value["missing"] == Json::Null);
        assert!(value["s"] != "y" && value["n"] != true);
        assert_eq!(value["a"].as_array(), Some(&[Json::Int(1)][..]));
        assert_eq!(value["s"].as_str(), Some("x"));
        assert_eq!(value["b"].as_bool(), Some(true));
    }

    #[test]
    fn strings_unescape_like_serde_json() {
        let text = r#""q\" b\\ s\/ \b\f\n\r\t é \u00e9 \ud83d\ude00""#;
        let ours = parse(text).expect("valid");
        let theirs: String = serde_json::from_str(text).expect("valid");
        assert_eq!(ours, Json::Str(theirs));
    }

    #[test]
    fn malformed_texts_are_refused_with_a_reason() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "{a:1}",
            "01",
            "-",
            "1.",
            "1e",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "\"a\u{1}\"",
            "nul",
            "[1] 2",
            "\"abc",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(!err.0.is_empty(), "{bad}: {err}");
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_instead_of_overflowing_the_stack() {
        let deep = "[".repeat(100_000);
        assert!(parse(&deep).expect_err("too deep").0.contains("recursion"));
        let fine = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn huge_integers_are_kept_as_text() {
        let big = "123456789012345678901234567890123456789012345";
        assert_eq!(parse(big), Ok(Json::Other(big.into())));
        assert_eq!(
            parse("18446744073709551615"),
            Ok(Json::Int(i128::from(u64::MAX)))
        );
    }

    #[test]
    fn written_strings_read_back_and_match_serde_json() {
        let text = "quote \" backslash \\ newline \n tab \t bell \u{7} nul \u{0} 雪 😀";
        let mut ours = String::new();
        write_str(&mut ours, text);
        assert_eq!(ours, serde_json::to_string(text).expect("serialises"));
        assert_eq!(parse(&ours), Ok(Json::Str(text.into())));
    }

    #[test]
    fn object_writer_writes_members_in_order() {
        let inner = ObjectWriter::tagged("kind", "x").int("n", 7).finish();
        let text = ObjectWriter::tagged("type", "t")
            .bool("b", true)
            .opt_str("skipped", None)
            .opt_str("s", Some("v"))
            .raw("inner", &inner)
            .finish();
        assert_eq!(
            text,
            r#"{"type":"t","b":true,"s":"v","inner":{"kind":"x","n":7}}"#
        );
    }
}
