//! One parsed client message: `join` and `resume` before joining, everything a participant
//! may say once in a room after.

use meshmeet_protocol::{ClientMsg, ServerMsg};

use super::chat::{check_chat, unix_time_ms};
use super::end::End;
use super::sfu::{prefs, trickled};
use super::{Connection, Flow};
use crate::access::JoinAttempt;
use crate::error::RelayError;
use crate::member_state::{ReactionVerdict, REACTIONS_PER_SECOND};
use crate::registry::{HostAction, Membership, PeerChange, RoomRegistry};
use crate::sfu::SfuCommand;

impl<R: RoomRegistry> Connection<R> {
    pub(super) async fn on_message(&mut self, msg: ClientMsg) -> Flow {
        // Ping works before joining too: the lobby may measure the relay's round trip.
        if let ClientMsg::Ping { nonce } = msg {
            return self.reply(ServerMsg::Pong { nonce });
        }
        match self.membership.clone() {
            Some(member) => self.in_room(&member, msg).await,
            None => self.before_joining(msg).await,
        }
    }

    /// Before joining, only `join` and `resume` (and `ping`, answered above) are understood.
    async fn before_joining(&mut self, msg: ClientMsg) -> Flow {
        match msg {
            ClientMsg::Join {
                version,
                room,
                name,
                password,
                media,
                token,
                client_key,
                e2ee,
            } => {
                let join = JoinAttempt {
                    room: &room,
                    name: &name,
                    password: password.as_deref(),
                    token: token.as_deref(),
                    client_key: client_key.as_deref(),
                };
                self.join(version, join, media, e2ee).await
            }
            ClientMsg::Resume { version, session } => self.resume(version, session).await,
            _ => self.refuse(RelayError::NotJoined),
        }
    }

    /// What a participant says in its room, on behalf of `member`.
    async fn in_room(&mut self, member: &Membership, msg: ClientMsg) -> Flow {
        let registry = &self.state.registry;
        let result = match msg {
            ClientMsg::Join { .. } | ClientMsg::Resume { .. } => Err(RelayError::AlreadyJoined),
            ClientMsg::Signal { to, signal } => {
                // The sender is stamped here, from the membership the relay handed out:
                // whatever the client put in its message, it cannot speak as someone else.
                let from = member.peer_id().clone();
                registry
                    .send_to(member, &to, ServerMsg::Signal { from, signal })
                    .await
            }
            ClientMsg::SetMedia { media } => {
                registry.update(member, PeerChange::Media(media)).await
            }
            ClientMsg::SetName { name } => match self.display_name(&name) {
                Ok(name) => registry.update(member, PeerChange::Name(name)).await,
                Err(err) => Err(err),
            },
            ClientMsg::Chat { seq, text } => {
                let max = self.state.config.max_chat_chars as usize;
                match check_chat(&self.kept.chat_seq, seq, &text, max) {
                    Ok(text) => {
                        let msg = ServerMsg::Chat {
                            from: member.peer_id().clone(),
                            seq,
                            text,
                            sent_at_ms: unix_time_ms(),
                        };
                        registry.broadcast(member, msg).await
                    }
                    Err(err) => Err(err),
                }
            }
            ClientMsg::GoLive {
                stage,
                outputs,
                follow_speaker,
            } => self.go_live(member, stage, outputs, follow_speaker).await,
            ClientMsg::StopLive => self.stop_live(member).await,
            ClientMsg::CreateIngest { name } => self.create_ingest(member, name).await,
            ClientMsg::AddCamera { name, url } => self.add_camera(member, name, url).await,
            ClientMsg::React { reaction } => match self.kept.react(std::time::Instant::now()) {
                ReactionVerdict::Send => {
                    let from = member.peer_id().clone();
                    registry
                        .broadcast(member, ServerMsg::Reacted { from, reaction })
                        .await
                }
                ReactionVerdict::Refuse => {
                    return self.reply(
                        RelayError::RateLimited {
                            per_second: REACTIONS_PER_SECOND,
                        }
                        .to_server_msg(),
                    )
                }
                ReactionVerdict::Drop => Ok(()),
            },
            ClientMsg::Leave => return Err(End::Left),
            ClientMsg::Ping { .. } => Ok(()),
            host @ (ClientMsg::LockRoom { .. }
            | ClientMsg::RemovePeer { .. }
            | ClientMsg::AskToMute { .. }
            | ClientMsg::HandOverHost { .. }
            | ClientMsg::EndMeeting) => match HostAction::from_client_msg(host) {
                Some(action) => registry.host_action(member, action).await,
                None => Ok(()),
            },
            ClientMsg::SfuPublish { epoch, sdp } => {
                self.on_sfu(member, epoch, SfuCommand::Publish(sdp))
            }
            ClientMsg::SfuSubscribeAnswer { epoch, sdp } => {
                self.on_sfu(member, epoch, SfuCommand::Answer(sdp))
            }
            ClientMsg::SfuCandidate {
                epoch,
                leg,
                candidate,
                sdp_mid,
                sdp_m_line_index,
            } => {
                let candidate = trickled(candidate, sdp_mid, sdp_m_line_index);
                self.on_sfu(member, epoch, SfuCommand::Candidate(leg, candidate))
            }
            ClientMsg::SfuPrefs {
                epoch,
                audio_only,
                hidden,
                layers,
            } => prefs(
                audio_only,
                hidden,
                layers,
                self.state.config.max_participants,
            )
            .and_then(|command| self.on_sfu(member, epoch, command)),
        };
        match result {
            Ok(()) => Ok(()),
            Err(err) => self.refuse(err),
        }
    }
}
