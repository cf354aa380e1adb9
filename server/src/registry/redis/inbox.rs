//! This relay's inbox: a Redis stream the scripts append to for this relay's peers, read in
//! order (so two peers' messages keep their order whichever relays they are on) and handed
//! to the local mailboxes it names.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use ::redis::streams::StreamReadReply;
use ::redis::{AsyncConnectionConfig, RedisError, Value};
use meshmeet_protocol::{PeerId, ServerMsg};
use tracing::error;

use super::{
    lock, Inner, CONNECT_TIMEOUT, RECONNECT_MAX_DELAY, RECONNECT_MIN_DELAY, RESPONSE_TIMEOUT,
};

/// Entries an inbox keeps at most (approximately). Its reader trims what it has read, so
/// this only bounds the inbox of a relay that stopped reading (until it is swept).
pub(super) const INBOX_MAX_ENTRIES: u32 = 10_000;
/// Entries read from the inbox at once.
const INBOX_READ_BATCH: u32 = 512;
/// How long one `XREAD` waits for news before it is sent again. Finite, so a connection that
/// died silently is noticed.
const INBOX_BLOCK_MS: u64 = 1_000;

/// Why reading stopped: what failed, how, and whether anything was read before.
struct ReaderStopped {
    what: &'static str,
    err: RedisError,
    read_once: bool,
}

impl Inner {
    pub(super) fn inbox_key(&self) -> String {
        format!("{}:instance:{}:inbox", self.prefix, self.instance)
    }

    /// Reads this relay's inbox for ever, reconnecting with backoff, and hands each message
    /// to the local mailboxes it names.
    pub(super) async fn read_inbox(self: Arc<Self>) {
        let key = self.inbox_key();
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(
                Duration::from_millis(INBOX_BLOCK_MS) + RESPONSE_TIMEOUT,
            ));
        // The inbox is new with this relay's id: everything in it is for us.
        let mut last_id = "0-0".to_owned();
        let mut delay = RECONNECT_MIN_DELAY;
        loop {
            match self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(mut connection) => {
                    self.reader_connected.store(true, Ordering::Release);
                    let stopped = self
                        .read_until_error(&mut connection, &key, &mut last_id)
                        .await;
                    if stopped.read_once {
                        delay = RECONNECT_MIN_DELAY;
                    }
                    self.note_error(stopped.what, &stopped.err);
                }
                Err(err) => self.note_error("connecting the inbox reader", &err),
            }
            self.reader_connected.store(false, Ordering::Release);
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RECONNECT_MAX_DELAY);
        }
    }

    /// Reads, dispatches and trims the inbox from `last_id` on until Redis fails.
    async fn read_until_error(
        &self,
        connection: &mut MultiplexedConnection,
        key: &str,
        last_id: &mut String,
    ) -> ReaderStopped {
        let mut read_once = false;
        loop {
            let read: Result<Option<StreamReadReply>, RedisError> = ::redis::cmd("XREAD")
                .arg("COUNT")
                .arg(INBOX_READ_BATCH)
                .arg("BLOCK")
                .arg(INBOX_BLOCK_MS)
                .arg("STREAMS")
                .arg(key)
                .arg(&*last_id)
                .query_async(connection)
                .await;
            let reply = match read {
                Ok(reply) => reply,
                Err(err) => {
                    return ReaderStopped {
                        what: "reading the inbox",
                        err,
                        read_once,
                    };
                }
            };
            read_once = true;
            let mut read_any = false;
            for stream in reply.map(|r| r.keys).unwrap_or_default() {
                for entry in stream.ids {
                    self.dispatch(entry.map.get("m"));
                    *last_id = entry.id;
                    read_any = true;
                }
            }
            // What was read is no longer needed (a signal can hold a 64 KiB SDP): the inbox
            // stays near empty while this relay keeps up.
            if read_any {
                let trimmed: Result<i64, RedisError> = ::redis::cmd("XTRIM")
                    .arg(key)
                    .arg("MINID")
                    .arg(&*last_id)
                    .query_async(connection)
                    .await;
                if let Err(err) = trimmed {
                    return ReaderStopped {
                        what: "trimming the inbox",
                        err,
                        read_once,
                    };
                }
            }
        }
    }

    fn dispatch(&self, field: Option<&Value>) {
        let text = field.and_then(|value| ::redis::from_redis_value::<String>(value.clone()).ok());
        let Some((targets, msg)) = text.as_deref().and_then(parse_envelope) else {
            error!(entry = ?field, "unreadable entry in this relay's Redis inbox");
            return;
        };
        let mut local = lock(&self.local);
        for target in targets {
            // Not here any more: it left or was disconnected after the message was sent.
            let Some(peer) = local.get_mut(&PeerId(target.to_owned())) else {
                continue;
            };
            match &mut peer.early {
                Some(early) => early.push(msg.clone()),
                None => peer.mailbox.deliver(msg.clone()),
            }
        }
    }
}

/// `<peer>[,<peer>…]\n<ServerMsg JSON>` → its parts.
fn parse_envelope(text: &str) -> Option<(impl Iterator<Item = &str>, ServerMsg)> {
    let (targets, json) = text.split_once('\n')?;
    let msg = serde_json::from_str(json).ok()?;
    Some((targets.split(','), msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_name_their_targets_and_carry_one_message() {
        let msg = ServerMsg::Pong { nonce: 3 };
        let text = format!("a,b\n{}", serde_json::to_string(&msg).expect("json"));
        let (targets, parsed) = parse_envelope(&text).expect("parses");
        assert_eq!(targets.collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(parsed, msg);
        assert!(parse_envelope("no newline").is_none());
    }
}
