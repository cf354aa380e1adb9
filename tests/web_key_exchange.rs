//! The key exchange of an encrypted room in a real browser's Web Crypto: a frame key sealed
//! by one participant's key pair for another's opens on the other's side only, and only with
//! the same passphrase and key number; another key pair, another passphrase, another number
//! or a changed byte opens nothing.
#![cfg(target_arch = "wasm32")]

use meshmeet::rtc::{random_frame_key, FrameKey, KeyPair};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const SALT: FrameKey = [5; 32];
const OTHER_SALT: FrameKey = [6; 32];

async fn pair() -> KeyPair {
    KeyPair::generate().await.expect("an ECDH key pair")
}

#[wasm_bindgen_test]
async fn a_sealed_key_opens_for_its_recipient_with_the_same_passphrase() {
    let (giver, taker) = (pair().await, pair().await);
    let key = random_frame_key().expect("random bytes");
    let sealed = giver
        .seal(taker.public(), &SALT, 3, &key)
        .await
        .expect("sealed");
    let opened = taker
        .open(giver.public(), &SALT, 3, &sealed)
        .await
        .expect("opens");
    assert_eq!(opened, key);
    // Two seals of one key differ (a new IV each time).
    let again = giver
        .seal(taker.public(), &SALT, 3, &key)
        .await
        .expect("sealed");
    assert_ne!(again, sealed);
}

#[wasm_bindgen_test]
async fn a_sealed_key_opens_for_nobody_else_nor_with_another_passphrase() {
    let (giver, taker, stranger) = (pair().await, pair().await, pair().await);
    let key = random_frame_key().expect("random bytes");
    let sealed = giver
        .seal(taker.public(), &SALT, 3, &key)
        .await
        .expect("sealed");
    assert!(stranger
        .open(giver.public(), &SALT, 3, &sealed)
        .await
        .is_err());
    assert!(taker
        .open(giver.public(), &OTHER_SALT, 3, &sealed)
        .await
        .is_err());
    // A relay that swaps the giver's public key for its own cannot make the seal open.
    assert!(taker
        .open(stranger.public(), &SALT, 3, &sealed)
        .await
        .is_err());
    // A relay that relabels an old key with a new number cannot make the seal open.
    assert!(taker.open(giver.public(), &SALT, 4, &sealed).await.is_err());
    // One changed character of the seal: it does not open.
    let mut tampered: Vec<char> = sealed.chars().collect();
    tampered[20] = if tampered[20] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    assert!(taker
        .open(giver.public(), &SALT, 3, &tampered)
        .await
        .is_err());
    assert!(taker
        .open(giver.public(), &SALT, 3, "not base64!")
        .await
        .is_err());
    assert!(taker.open("bm90IGEga2V5", &SALT, 3, &sealed).await.is_err());
}

#[wasm_bindgen_test]
async fn public_keys_are_raw_p256_points_and_each_pair_is_new() {
    use base64::Engine as _;
    let (a, b) = (pair().await, pair().await);
    let raw = base64::engine::general_purpose::STANDARD
        .decode(a.public())
        .expect("base64");
    assert_eq!(raw.len(), 65, "an uncompressed P-256 point");
    assert_eq!(raw[0], 4);
    assert_ne!(a.public(), b.public());
}
