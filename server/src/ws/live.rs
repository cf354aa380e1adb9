//! `go_live` and `stop_live` from the host: checked here (a media server, a stage the relay
//! can carry), recorded by the registry (which checks the host and the stage's members and
//! tells everyone), then run by this relay's [`crate::live::LiveRooms`].

use meshmeet_protocol::{LiveInfo, LiveOutputs, PeerId, MAX_STAGE};

use super::Connection;
use crate::error::{RelayError, LIVE_IN_ENCRYPTED_ROOM};
use crate::registry::{random_hex_128, HostAction, Membership, RoomRegistry};

impl<R: RoomRegistry> Connection<R> {
    /// The host goes live with `stage` (and `outputs`), or changes the stage.
    pub(super) async fn go_live(
        &mut self,
        member: &Membership,
        stage: Vec<PeerId>,
        outputs: LiveOutputs,
        follow_speaker: bool,
    ) -> Result<(), RelayError> {
        if stage.is_empty() || stage.len() > MAX_STAGE {
            return Err(RelayError::BadMessage(format!(
                "a stage names one to {MAX_STAGE} participants"
            )));
        }
        if member.e2ee() {
            return Err(RelayError::EncryptedRoom(LIVE_IN_ENCRYPTED_ROOM));
        }
        if follow_speaker && stage.len() != 1 {
            return Err(RelayError::BadMessage(
                "a stage that follows the speaker names one participant: who is on it first".into(),
            ));
        }
        if stage
            .iter()
            .enumerate()
            .any(|(i, p)| stage[..i].contains(p))
        {
            return Err(RelayError::BadMessage(
                "a participant is on the stage once".into(),
            ));
        }
        outputs.validate().map_err(RelayError::BadMessage)?;
        if self.state.config.janus_urls.is_empty() {
            return Err(RelayError::LiveUnavailable(
                "Going live needs a media server, and this relay has none configured",
            ));
        }
        if self.state.janus.ready().is_err() {
            return Err(RelayError::LiveUnavailable(
                "Going live needs the media server, and it is unreachable; try again later",
            ));
        }
        let ffmpeg = crate::live::encoder::program_available(&self.state.config.ffmpeg);
        if !outputs.is_empty() && !ffmpeg {
            return Err(RelayError::LiveUnavailable(
                "RTMP and HLS need ffmpeg on the relay's machine (--ffmpeg); go live without them, or ask the operator to install it",
            ));
        }
        // Several on the stage are put side by side by the relay's ffmpeg.
        if stage.len() > 1 && !ffmpeg {
            return Err(RelayError::LiveUnavailable(
                "A stage of several needs ffmpeg on the relay's machine (--ffmpeg); put one participant on it, or ask the operator to install it",
            ));
        }
        let registry = &self.state.registry;
        // A live room keeps its token when the stage changes: viewers stay connected.
        let watch_token = match registry.room_live(member.room()).await? {
            Some(live) => live.watch_token,
            None => random_hex_128()?,
        };
        let live = LiveInfo {
            stage,
            watch_token,
            follow_speaker,
        };
        registry
            .host_action(member, HostAction::Live(Some(live.clone())))
            .await?;
        self.state.live.run(
            &self.state,
            member.room(),
            &live,
            outputs,
            self.mailbox.clone(),
        );
        Ok(())
    }

    /// The host ends the live.
    pub(super) async fn stop_live(&mut self, member: &Membership) -> Result<(), RelayError> {
        self.state
            .registry
            .host_action(member, HostAction::Live(None))
            .await?;
        self.state.live.end(member.room()).await;
        Ok(())
    }
}
