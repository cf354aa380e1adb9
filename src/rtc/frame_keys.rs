//! Keys for frame encryption that no server holds: one derived from a passphrase shared out
//! of band (PBKDF2 through Web Crypto, salted with the room's name so one passphrase gives
//! each room its own key), and the safety code of a key that people in a call read to each
//! other to know they all hold the same one. Yew-free.

use js_sys::{Array, Uint8Array};
use meshmeet_protocol::RoomName;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, Pbkdf2Params, SubtleCrypto};

use super::FrameCryptoError;
use crate::js::JsError;

/// PBKDF2 rounds for a passphrase: slow enough to make guessing costly, about a tenth of a
/// second in a browser.
pub const PASSPHRASE_ITERATIONS: u32 = 200_000;
/// Groups of five digits in a safety code (16 bits each: 64 bits in all).
pub const SAFETY_CODE_GROUPS: usize = 4;

/// What the salt and the safety code's digest start with, so that neither can be mistaken
/// for another use of the same bytes.
const KEY_SALT_PREFIX: &[u8] = b"meshmeet frame key\0";
const SAFETY_CODE_PREFIX: &[u8] = b"meshmeet safety code\0";

/// The 256-bit frame key of `passphrase` in `room`.
pub async fn key_from_passphrase(
    passphrase: &str,
    room: &RoomName,
) -> Result<[u8; 32], FrameCryptoError> {
    let subtle = subtle()?;
    let usages = Array::of1(&JsValue::from_str("deriveBits"));
    let material = Uint8Array::from(passphrase.as_bytes());
    let base: CryptoKey =
        awaited(subtle.import_key_with_str("raw", &material, "PBKDF2", false, &usages))
            .await?
            .into();
    let salt = Uint8Array::from(
        [KEY_SALT_PREFIX, room.as_str().as_bytes()]
            .concat()
            .as_slice(),
    );
    let params = Pbkdf2Params::new(
        "PBKDF2",
        &JsValue::from_str("SHA-256"),
        PASSPHRASE_ITERATIONS,
        &salt,
    );
    let bits = awaited(subtle.derive_bits_with_object(&params, &base, 256)).await?;
    let bytes = Uint8Array::new(&bits).to_vec();
    bytes
        .try_into()
        .map_err(|_| browser_error("PBKDF2 gave another length than 256 bits"))
}

/// The safety code of `key`: the same on every page that holds the same key.
pub async fn safety_code(key: &[u8]) -> Result<String, FrameCryptoError> {
    let input = [SAFETY_CODE_PREFIX, key].concat();
    let digest = awaited(subtle()?.digest_with_str_and_u8_array("SHA-256", &input)).await?;
    Ok(format_safety_code(&Uint8Array::new(&digest).to_vec()))
}

/// [`SAFETY_CODE_GROUPS`] groups of five digits from the digest's first bytes (two bytes a
/// group), separated by spaces: digits read aloud the same in every language.
pub fn format_safety_code(digest: &[u8]) -> String {
    digest
        .chunks_exact(2)
        .take(SAFETY_CODE_GROUPS)
        .map(|pair| format!("{:05}", u16::from_be_bytes([pair[0], pair[1]])))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn subtle() -> Result<SubtleCrypto, FrameCryptoError> {
    let crypto = crate::js::window()
        .and_then(|w| w.crypto().map_err(JsError::from))
        .map_err(FrameCryptoError::Browser)?;
    Ok(crypto.subtle())
}

pub(super) async fn awaited(
    promise: Result<js_sys::Promise, JsValue>,
) -> Result<JsValue, FrameCryptoError> {
    let promise = promise.map_err(|e| FrameCryptoError::Browser(JsError::from(e)))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| FrameCryptoError::Browser(JsError::from(e)))
}

pub(super) fn browser_error(message: &str) -> FrameCryptoError {
    FrameCryptoError::Browser(JsError::new("OperationError", message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_safety_code_is_four_groups_of_five_digits_from_the_digest_s_head() {
        let digest = [0x00, 0x01, 0xff, 0xff, 0x12, 0x34, 0x80, 0x00, 0xaa, 0xbb];
        assert_eq!(format_safety_code(&digest), "00001 65535 04660 32768");
        // Another byte, another code.
        let mut other = digest;
        other[7] = 0x01;
        assert_ne!(format_safety_code(&other), format_safety_code(&digest));
    }
}
