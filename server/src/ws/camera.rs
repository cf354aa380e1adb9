//! `add_camera` from the host: checked here (the address, a media server), the registry
//! checks the host, then the camera is added in the background (its first picture may take
//! seconds) and the host is told if it does not come.

use std::sync::Arc;

use tracing::info;

use super::Connection;
use crate::error::{RelayError, DEVICE_IN_ENCRYPTED_ROOM};
use crate::ingest::cameras;
use crate::registry::{HostAction, Membership, RoomRegistry};

impl<R: RoomRegistry> Connection<R> {
    /// The host adds the RTSP camera at `url` as `name`.
    pub(super) async fn add_camera(
        &mut self,
        member: &Membership,
        name: String,
        url: String,
    ) -> Result<(), RelayError> {
        let name = self.display_name(&name)?;
        cameras::check_url(&url).map_err(RelayError::BadMessage)?;
        if member.e2ee() {
            return Err(RelayError::EncryptedRoom(DEVICE_IN_ENCRYPTED_ROOM));
        }
        if self.state.config.janus_urls.is_empty() {
            return Err(RelayError::CameraFailed(
                "Cameras come in through the media server, and this relay has none configured"
                    .to_owned(),
            ));
        }
        self.state
            .registry
            .host_action(member, HostAction::AdmitDevice)
            .await?;
        let (state, room, mailbox) = (
            Arc::clone(&self.state),
            member.room().clone(),
            self.mailbox.clone(),
        );
        tokio::spawn(async move {
            if let Err(err) = cameras::add(&state, &room, &name, &url).await {
                info!(%room, %err, "camera not added");
                mailbox.deliver(RelayError::CameraFailed(err.to_string()).to_server_msg());
            }
        });
        Ok(())
    }
}
