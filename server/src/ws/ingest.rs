//! `create_ingest` from the host: the registry checks the host, this relay keeps the
//! encoder's token ([`crate::ingest::IngestGrants`]) and tells only the host.

use meshmeet_protocol::ServerMsg;

use super::Connection;
use crate::error::{RelayError, DEVICE_IN_ENCRYPTED_ROOM};
use crate::registry::{HostAction, Membership, RoomRegistry};

impl<R: RoomRegistry> Connection<R> {
    /// The host lets an encoder named `name` publish into the room.
    pub(super) async fn create_ingest(
        &mut self,
        member: &Membership,
        name: String,
    ) -> Result<(), RelayError> {
        let name = self.display_name(&name)?;
        if member.e2ee() {
            return Err(RelayError::EncryptedRoom(DEVICE_IN_ENCRYPTED_ROOM));
        }
        if self.state.config.janus_urls.is_empty() {
            return Err(RelayError::LiveUnavailable(
                "Encoders publish through the media server, and this relay has none configured",
            ));
        }
        self.state
            .registry
            .host_action(member, HostAction::AdmitDevice)
            .await?;
        let grant = self.state.ingest.grants.create(member.room(), &name)?;
        // Only the host learns the token: to its own mailbox (in order with the room's
        // messages, and kept for a resume), nobody else's.
        self.mailbox.deliver(ServerMsg::IngestCreated {
            name,
            token: grant.token,
        });
        Ok(())
    }
}
