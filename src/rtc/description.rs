//! Session descriptions: applying ours and the other side's, and reading what `createOffer`
//! or `createAnswer` produced. Shared by the mesh's peer links and the SFU's connections.

use super::RtcError;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RtcPeerConnection, RtcSdpType, RtcSessionDescriptionInit};

/// `setLocalDescription` (an empty `sdp` for a rollback).
pub(super) async fn set_local(
    pc: &RtcPeerConnection,
    kind: RtcSdpType,
    sdp: &str,
) -> Result<(), RtcError> {
    let init = RtcSessionDescriptionInit::new(kind);
    if !sdp.is_empty() {
        init.set_sdp(sdp);
    }
    JsFuture::from(pc.set_local_description(&init))
        .await
        .map(|_| ())
        .map_err(|e| RtcError::Negotiation(e.into()))
}

/// `setRemoteDescription`.
pub(super) async fn set_remote(
    pc: &RtcPeerConnection,
    kind: RtcSdpType,
    sdp: &str,
) -> Result<(), RtcError> {
    let init = RtcSessionDescriptionInit::new(kind);
    init.set_sdp(sdp);
    JsFuture::from(pc.set_remote_description(&init))
        .await
        .map(|_| ())
        .map_err(|e| RtcError::Negotiation(e.into()))
}

/// `createOffer` or `createAnswer` (`offer` says which), applied as our local description;
/// returns its SDP.
pub(super) async fn create_and_set_local(
    pc: &RtcPeerConnection,
    offer: bool,
) -> Result<String, RtcError> {
    let (promise, kind) = if offer {
        (pc.create_offer(), RtcSdpType::Offer)
    } else {
        (pc.create_answer(), RtcSdpType::Answer)
    };
    let description = JsFuture::from(promise)
        .await
        .map_err(|e| RtcError::Negotiation(e.into()))?;
    let sdp = description
        .unchecked_ref::<RtcSessionDescriptionInit>()
        .get_sdp()
        .unwrap_or_default();
    set_local(pc, kind, &sdp).await?;
    Ok(sdp)
}
