//! The key exchange of an encrypted room, in the browser's Web Crypto: each participant's
//! ephemeral ECDH key pair (P-256, its private half never leaves Web Crypto), and a frame key
//! sealed for one participant with AES-GCM under a key only the two ends can derive: HKDF of
//! their ECDH secret, salted with the key of the room's passphrase (so a relay that swapped
//! public keys still could not seal or open one), bound to both public keys. Yew-free.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsValue;
use web_sys::{CryptoKey, SubtleCrypto};

use super::frame_keys::{awaited, browser_error, subtle};
use super::FrameCryptoError;

/// Bytes of a frame key (AES-256).
pub const FRAME_KEY_BYTES: usize = 32;
/// Bytes of a seal's IV.
const SEAL_IV_BYTES: usize = 12;
/// What the HKDF info starts with, so the derived key serves this use only.
const SEAL_INFO_PREFIX: &[u8] = b"meshmeet sealed frame key\0";

/// A frame key: 256 random bits.
pub type FrameKey = [u8; FRAME_KEY_BYTES];

/// This page's ephemeral key pair for one meeting.
pub struct KeyPair {
    private: CryptoKey,
    /// The public half, raw (65 bytes, uncompressed point), base64.
    public: String,
}

impl KeyPair {
    /// A new key pair; its private half cannot be exported.
    pub async fn generate() -> Result<KeyPair, FrameCryptoError> {
        let subtle = subtle()?;
        let algorithm = object(&[("name", "ECDH".into()), ("namedCurve", "P-256".into())])?;
        let usages = Array::of1(&JsValue::from_str("deriveBits"));
        let pair = awaited(subtle.generate_key_with_object(&algorithm, false, &usages)).await?;
        let key = |name: &str| -> Result<CryptoKey, FrameCryptoError> {
            Reflect::get(&pair, &JsValue::from_str(name))
                .map(CryptoKey::from)
                .map_err(|_| browser_error("ECDH key generation gave no key pair"))
        };
        let public_key = key("publicKey")?;
        let raw = awaited(subtle.export_key("raw", &public_key)).await?;
        Ok(KeyPair {
            private: key("privateKey")?,
            public: BASE64.encode(Uint8Array::new(&raw).to_vec()),
        })
    }

    /// The public half as it travels (raw, base64).
    pub fn public(&self) -> &str {
        &self.public
    }

    /// Seals `key`, numbered `index`, for the holder of `their_public`; `salt` is the
    /// passphrase's key. The result (IV and ciphertext with tag, base64) opens only with
    /// [`KeyPair::open`] on their side, with the same number (it is authenticated: a relay
    /// cannot relabel an old key as a new one).
    pub async fn seal(
        &self,
        their_public: &str,
        salt: &FrameKey,
        index: u8,
        key: &FrameKey,
    ) -> Result<String, FrameCryptoError> {
        let subtle = subtle()?;
        let wrap = self
            .wrapping_key(&subtle, their_public, salt, &self.public, their_public)
            .await?;
        let mut iv = [0u8; SEAL_IV_BYTES];
        random_bytes(&mut iv)?;
        let params = aes_gcm(&iv, index)?;
        let sealed = awaited(subtle.encrypt_with_object_and_u8_array(&params, &wrap, key)).await?;
        let sealed = Uint8Array::new(&sealed).to_vec();
        Ok(BASE64.encode([iv.as_slice(), &sealed].concat()))
    }

    /// Opens key number `index` `sealed` for us by the holder of `their_public`; fails
    /// unless both used the same passphrase (`salt`), these two key pairs and this number.
    pub async fn open(
        &self,
        their_public: &str,
        salt: &FrameKey,
        index: u8,
        sealed: &str,
    ) -> Result<FrameKey, FrameCryptoError> {
        let bytes = BASE64
            .decode(sealed)
            .map_err(|_| browser_error("a sealed frame key is not base64"))?;
        if bytes.len() <= SEAL_IV_BYTES {
            return Err(browser_error("a sealed frame key is too short"));
        }
        let subtle = subtle()?;
        let wrap = self
            .wrapping_key(&subtle, their_public, salt, their_public, &self.public)
            .await?;
        let (iv, ciphertext) = bytes.split_at(SEAL_IV_BYTES);
        let params = aes_gcm(iv, index)?;
        let opened =
            awaited(subtle.decrypt_with_object_and_u8_array(&params, &wrap, ciphertext)).await?;
        Uint8Array::new(&opened)
            .to_vec()
            .try_into()
            .map_err(|_| browser_error("a sealed frame key is not 256 bits"))
    }

    /// The AES-GCM key between us and `their_public`, for a key sealed by `sender` for
    /// `recipient` (public keys, base64).
    async fn wrapping_key(
        &self,
        subtle: &SubtleCrypto,
        their_public: &str,
        salt: &FrameKey,
        sender: &str,
        recipient: &str,
    ) -> Result<CryptoKey, FrameCryptoError> {
        let their_raw = BASE64
            .decode(their_public)
            .map_err(|_| browser_error("a public key is not base64"))?;
        let ecdh = object(&[("name", "ECDH".into()), ("namedCurve", "P-256".into())])?;
        let none = Array::new();
        let theirs: CryptoKey = awaited(subtle.import_key_with_object(
            "raw",
            &Uint8Array::from(their_raw.as_slice()).into(),
            &ecdh,
            true,
            &none,
        ))
        .await?
        .into();
        let derive = object(&[("name", "ECDH".into()), ("public", theirs.into())])?;
        let shared = awaited(subtle.derive_bits_with_object(&derive, &self.private, 256)).await?;
        let hkdf_usages = Array::of1(&JsValue::from_str("deriveKey"));
        let base: CryptoKey = awaited(subtle.import_key_with_str(
            "raw",
            &Object::from(Uint8Array::new(&shared)),
            "HKDF",
            false,
            &hkdf_usages,
        ))
        .await?
        .into();
        let info = [
            SEAL_INFO_PREFIX,
            sender.as_bytes(),
            b"\0",
            recipient.as_bytes(),
        ]
        .concat();
        let hkdf = object(&[
            ("name", "HKDF".into()),
            ("hash", "SHA-256".into()),
            ("salt", Uint8Array::from(salt.as_slice()).into()),
            ("info", Uint8Array::from(info.as_slice()).into()),
        ])?;
        let aes = object(&[("name", "AES-GCM".into()), ("length", 256.into())])?;
        let usages = Array::of2(&JsValue::from_str("encrypt"), &JsValue::from_str("decrypt"));
        Ok(
            awaited(subtle.derive_key_with_object_and_object(&hkdf, &base, &aes, false, &usages))
                .await?
                .into(),
        )
    }
}

/// A new random frame key.
pub fn random_frame_key() -> Result<FrameKey, FrameCryptoError> {
    let mut key = [0u8; FRAME_KEY_BYTES];
    random_bytes(&mut key)?;
    Ok(key)
}

fn random_bytes(bytes: &mut [u8]) -> Result<(), FrameCryptoError> {
    crate::js::window()
        .and_then(|w| w.crypto().map_err(crate::js::JsError::from))
        .and_then(|c| {
            c.get_random_values_with_u8_array(bytes)
                .map(|_| ())
                .map_err(crate::js::JsError::from)
        })
        .map_err(FrameCryptoError::Browser)
}

/// AES-GCM with `iv`, authenticating the key's number `index`.
fn aes_gcm(iv: &[u8], index: u8) -> Result<Object, FrameCryptoError> {
    object(&[
        ("name", "AES-GCM".into()),
        ("iv", Uint8Array::from(iv).into()),
        (
            "additionalData",
            Uint8Array::from([index].as_slice()).into(),
        ),
    ])
}

/// A Web Crypto algorithm dictionary (some of its members are byte arrays or keys, which
/// JSON cannot carry).
fn object(members: &[(&str, JsValue)]) -> Result<Object, FrameCryptoError> {
    let dict = Object::new();
    for (name, value) in members {
        Reflect::set(&dict, &JsValue::from_str(name), value)
            .map_err(|_| browser_error("could not build a Web Crypto parameter"))?;
    }
    Ok(dict)
}
