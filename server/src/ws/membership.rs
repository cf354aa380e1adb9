//! The connection's side of a room membership: becoming a member by `join` or `resume`
//! (admission itself is decided by [`crate::access`] and [`crate::resume`]), and letting go
//! of it when the connection ends, either leaving the room or holding the place for a resume.

use std::sync::Arc;
use std::time::SystemTime;

use meshmeet_protocol::{LeaveReason, MediaState, ServerMsg, SessionToken};
use tracing::{debug, info, warn};

use super::end::End;
use super::parse::check_version;
use super::{Connection, Flow};
use crate::access::JoinAttempt;
use crate::registry::{JoinRequest, Mailbox, Membership, RoomRegistry, WelcomeExtras};
use crate::resume::{HeldSession, Sessions};
use crate::turn;

/// Places kept free in a resuming connection's queue for its own replies.
const RESUME_HEADROOM: usize = 4;

impl<R: RoomRegistry> Connection<R> {
    /// Joins a room, once the relay's access rules and then the room registry admit it
    /// (`e2ee`: asks for an end-to-end encrypted room, if it opens it).
    pub(super) async fn join(
        &mut self,
        version: u32,
        attempt: JoinAttempt<'_>,
        media: MediaState,
        e2ee: bool,
    ) -> Flow {
        if let Err(err) = check_version(version) {
            return self.refuse(err);
        }
        let access = &self.state.access;
        let admitted = match access.admit(self.client.ip, attempt) {
            Ok(admitted) => admitted,
            Err(err) => return self.refuse(err),
        };
        let resume_token = match Sessions::new_token() {
            Ok(token) => token,
            Err(err) => return self.refuse(err),
        };
        let config = &self.state.config;
        let request = JoinRequest {
            room: attempt.room.clone(),
            name: admitted.name,
            media,
            password: admitted.password,
            vouched: admitted.vouched,
            identity: admitted.identity,
            mailbox: self.mailbox.clone(),
            welcome: WelcomeExtras {
                ice_servers: turn::ice_servers(config, &self.turn_id, SystemTime::now()),
                ice_transport_policy: config.ice_transport_policy(),
                limits: config.room_limits(),
                session: resume_token.clone(),
                resume_grace_ms: u64::try_from(config.resume_grace.as_millis()).unwrap_or(u64::MAX),
            },
            topology: self.state.topology_policy(),
            e2ee,
        };
        match self.state.registry.join(request).await {
            Ok(member) => {
                info!(room = %member.room(), peer = %member.peer_id(), "peer joined");
                self.become_member(resume_token, member, self.mailbox.clone());
                Ok(())
            }
            // The room's own password (set by its first joiner) is checked here: a wrong
            // one counts against the address like the operator's.
            Err(err) => {
                let err = self.state.access.count_failure(self.client.ip, err);
                self.refuse(err)
            }
        }
    }

    /// Speaks for `member` from now on, resumable under `resume_token`.
    fn become_member(&mut self, resume_token: SessionToken, member: Membership, mailbox: Mailbox) {
        self.state.sessions.register(
            resume_token.clone(),
            member.clone(),
            mailbox.clone(),
            Arc::clone(&self.kept),
            Arc::clone(&self.takeover),
        );
        self.membership = Some(member);
        self.resume_token = Some(resume_token);
        self.mailbox = mailbox;
    }

    /// Takes back a session whose socket dropped: `resumed`, then what was held, in order.
    pub(super) async fn resume(&mut self, version: u32, resume_token: SessionToken) -> Flow {
        if let Err(err) = check_version(version) {
            return self.refuse(err);
        }
        let registry = &self.state.registry;
        let HeldSession {
            member,
            mailbox,
            kept,
            held,
        } = match self.state.sessions.reclaim(&resume_token, registry).await {
            Ok(session) => session,
            Err(err) => return self.refuse(err),
        };
        self.reply(ServerMsg::Resumed {
            peer_id: member.peer_id().clone(),
            room: member.room().clone(),
        })?;
        if mailbox
            .release_into(held, self.queue.clone(), Arc::clone(&self.signal))
            .is_err()
        {
            // Held messages and this connection's own replies together do not fit its
            // queue: end it; its next `resume` gets `session_expired` and it joins anew.
            warn!(room = %member.room(), peer = %member.peer_id(), "held messages do not fit; the session is lost");
            self.state
                .registry
                .leave(&member, LeaveReason::Disconnected)
                .await;
            return Err(End::TooSlow);
        }
        info!(room = %member.room(), peer = %member.peer_id(), "peer resumed");
        self.kept = kept;
        self.become_member(resume_token, member, mailbox);
        Ok(())
    }

    /// Lets go of the membership as `end` requires: holds its place for a resume, or leaves
    /// the room.
    pub(super) async fn release_membership(&mut self, end: End) {
        let Some(member) = self.membership.take() else {
            debug!(?end, "connection ended before joining");
            return;
        };
        let resume_token = self.resume_token.take();
        let grace = self.state.config.resume_grace;
        let hold = match &resume_token {
            Some(token) if end.may_resume() && !grace.is_zero() => {
                // Room for `resumed` and a few pongs beside the held messages in the
                // resuming connection's queue, which is as long as this one's.
                let capacity = self
                    .state
                    .config
                    .outbound_queue
                    .saturating_sub(RESUME_HEADROOM);
                self.state.sessions.hold(token, capacity.max(1))
            }
            _ => None,
        };
        match (resume_token, hold) {
            (Some(token), Some(hold)) => {
                info!(room = %member.room(), peer = %member.peer_id(), ?end, "peer held for a resume");
                let state = Arc::clone(&self.state);
                tokio::spawn(async move {
                    tokio::time::sleep(grace).await;
                    if let Some(member) = state.sessions.expire(&token, hold) {
                        state
                            .registry
                            .leave(&member, LeaveReason::Disconnected)
                            .await;
                        info!(room = %member.room(), peer = %member.peer_id(), "peer left: not resumed in time");
                    }
                });
            }
            (resume_token, _) => {
                if let Some(token) = resume_token {
                    self.state.sessions.forget(&token);
                }
                self.state.registry.leave(&member, end.leave_reason()).await;
                info!(room = %member.room(), peer = %member.peer_id(), ?end, "peer left");
            }
        }
    }
}
