//! Which publishers a participant's subscription should carry, and when it may be changed.
//! Pure: the session feeds it what Janus announces and what the browser answers, and asks it
//! for the next step.
//!
//! One offer at a time: Janus cannot renegotiate a subscription whose last offer the browser
//! has not answered, so changes that arrive meanwhile wait and go out together once the
//! answer is in. Janus may also send an offer of its own (a publisher it carried left); that
//! one counts as waiting for an answer too.

use std::collections::{BTreeMap, BTreeSet};

use meshmeet_protocol::{PeerId, SfuStream, StreamKind};

use crate::janus::{Feed, FeedStream, StreamRequest, SubscribedStream};

/// What to ask Janus next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Create the subscription with these publishers.
    Create(Vec<StreamRequest>),
    /// Add and drop publishers.
    Update {
        /// Publishers to add.
        add: Vec<StreamRequest>,
        /// Publishers to drop.
        remove: Vec<StreamRequest>,
    },
}

/// A publisher of the room, as the subscription needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Publisher {
    peer: PeerId,
    /// Its streams in its own SDP's order (mids), for `SfuStream::index`.
    mids: Vec<String>,
}

/// The subscription of one participant.
#[derive(Debug, Default)]
pub struct SubscriptionPlan {
    /// Everyone else who publishes, by Janus feed id.
    publishers: BTreeMap<u64, Publisher>,
    /// Feeds the subscription carries (as Janus last described it).
    subscribed: BTreeSet<u64>,
    /// Whether Janus has a subscription for this participant.
    created: bool,
    /// Offers sent to the browser and not answered yet.
    unanswered: u32,
}

impl SubscriptionPlan {
    /// Janus announced publishers (everyone who publishes, or new ones). Feeds without a
    /// peer id are not the relay's participants and are ignored, as is `own`.
    pub fn publishers(&mut self, feeds: &[Feed], own: Option<u64>) {
        for feed in feeds {
            if Some(feed.id) == own {
                continue;
            }
            let Some(peer) = feed.display.as_deref().and_then(peer_id) else {
                continue;
            };
            let mids = feed
                .streams
                .iter()
                .map(|s: &FeedStream| s.mid.clone())
                .collect();
            self.publishers.insert(feed.id, Publisher { peer, mids });
        }
    }

    /// A publisher stopped publishing or left.
    pub fn gone(&mut self, feed: u64) {
        self.publishers.remove(&feed);
    }

    /// What to ask Janus now, if anything: nothing while an offer waits for its answer.
    pub fn next(&self) -> Option<Step> {
        if self.unanswered > 0 {
            return None;
        }
        let wanted: BTreeSet<u64> = self.publishers.keys().copied().collect();
        let add: Vec<StreamRequest> = wanted
            .difference(&self.subscribed)
            .map(|feed| StreamRequest::feed(*feed))
            .collect();
        if !self.created {
            return (!add.is_empty()).then_some(Step::Create(add));
        }
        let remove: Vec<StreamRequest> = self
            .subscribed
            .difference(&wanted)
            .map(|feed| StreamRequest::feed(*feed))
            .collect();
        (!add.is_empty() || !remove.is_empty()).then_some(Step::Update { add, remove })
    }

    /// Janus offered the subscription with these streams (answering a step, or of its
    /// own): the streams for the browser, each with the Janus feed it carries. The offer now
    /// waits for an answer.
    pub fn offered(&mut self, streams: &[SubscribedStream]) -> Vec<(SfuStream, u64)> {
        self.created = true;
        self.unanswered += 1;
        self.described(streams)
    }

    /// Janus changed the subscription without a new offer: the streams as in
    /// [`SubscriptionPlan::offered`].
    pub fn described(&mut self, streams: &[SubscribedStream]) -> Vec<(SfuStream, u64)> {
        self.subscribed = streams
            .iter()
            .filter(|s| s.active)
            .filter_map(|s| s.feed_id)
            .collect();
        streams.iter().filter_map(|s| self.stream(s)).collect()
    }

    /// A step failed in Janus (a publisher left meanwhile): forget those it added, which
    /// come back if Janus announces them again.
    pub fn failed(&mut self, step: &Step) {
        let added = match step {
            Step::Create(add) | Step::Update { add, .. } => add,
        };
        for request in added {
            self.publishers.remove(&request.feed);
        }
    }

    /// The browser answered the oldest offer; `false` when none was waiting.
    pub fn answered(&mut self) -> bool {
        if self.unanswered == 0 {
            return false;
        }
        self.unanswered -= 1;
        true
    }

    /// Whether an offer waits for the browser's answer.
    #[cfg(test)]
    pub fn awaiting_answer(&self) -> bool {
        self.unanswered > 0
    }

    /// A stream of the subscription as the browser sees it (active audio or video of a
    /// known publisher), and its feed.
    fn stream(&self, stream: &SubscribedStream) -> Option<(SfuStream, u64)> {
        let kind = match stream.kind.as_str() {
            "audio" => StreamKind::Audio,
            "video" => StreamKind::Video,
            _ => return None,
        };
        if !stream.active {
            return None;
        }
        let feed = stream.feed_id?;
        let publisher = self.publishers.get(&feed)?;
        let feed_mid = stream.feed_mid.as_deref()?;
        let index = publisher.mids.iter().position(|mid| mid == feed_mid)?;
        let shown = SfuStream {
            mid: stream.mid.clone(),
            peer_id: publisher.peer.clone(),
            kind,
            index: u32::try_from(index).ok()?,
        };
        Some((shown, feed))
    }
}

/// A Janus display name as a peer id: the relay joins publishers under their peer id (32
/// lowercase hex digits); anything else is not one of its participants.
fn peer_id(display: &str) -> Option<PeerId> {
    let valid = display.len() == 32
        && display
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    valid.then(|| PeerId::from(display))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANA: &str = "3f9a1c0e5b7d42e8a6c1f0b29d8e7a45";
    const BO: &str = "b2c4e6f8a1d3c5e7f9a0b1c2d3e4f5a6";

    fn feed(id: u64, display: &str) -> Feed {
        let stream = |kind: &str, mid: &str| FeedStream {
            kind: kind.into(),
            mid: mid.into(),
            codec: None,
            disabled: false,
            simulcast: false,
        };
        Feed {
            id,
            display: Some(display.into()),
            streams: vec![
                stream("audio", "a0"),
                stream("video", "v1"),
                stream("video", "v2"),
            ],
            talking: false,
        }
    }

    fn sub(mid: &str, kind: &str, feed: u64, feed_mid: &str, active: bool) -> SubscribedStream {
        SubscribedStream {
            mid: mid.into(),
            kind: kind.into(),
            active,
            feed_id: Some(feed),
            feed_mid: Some(feed_mid.into()),
            feed_display: None,
        }
    }

    fn feeds(step: &Step) -> (Vec<u64>, Vec<u64>) {
        let ids = |r: &[StreamRequest]| r.iter().map(|r| r.feed).collect();
        match step {
            Step::Create(add) => (ids(add), vec![]),
            Step::Update { add, remove } => (ids(add), ids(remove)),
        }
    }

    #[test]
    fn nothing_is_subscribed_until_someone_else_publishes() {
        let mut plan = SubscriptionPlan::default();
        assert_eq!(plan.next(), None);
        plan.publishers(&[feed(7, ANA)], Some(7));
        assert_eq!(plan.next(), None, "its own feed is not subscribed");
        plan.publishers(&[feed(8, BO)], Some(7));
        assert_eq!(
            plan.next(),
            Some(Step::Create(vec![StreamRequest::feed(8)]))
        );
    }

    #[test]
    fn feeds_that_are_not_participants_are_ignored() {
        let mut plan = SubscriptionPlan::default();
        plan.publishers(&[feed(8, "intruder"), feed(9, &ANA.to_uppercase())], None);
        assert_eq!(plan.next(), None);
    }

    #[test]
    fn streams_name_the_publisher_and_its_own_index_and_skip_data_and_inactive() {
        let mut plan = SubscriptionPlan::default();
        plan.publishers(&[feed(8, BO)], None);
        let mut data = sub("3", "data", 8, "d", true);
        data.feed_mid = None;
        let streams = plan.offered(&[
            sub("0", "audio", 8, "a0", true),
            sub("1", "video", 8, "v2", true),
            sub("2", "video", 8, "v1", false),
            data,
        ]);
        let shown: Vec<(&str, &str, StreamKind, u32, u64)> = streams
            .iter()
            .map(|(s, feed)| (s.mid.as_str(), s.peer_id.as_str(), s.kind, s.index, *feed))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("0", BO, StreamKind::Audio, 0, 8),
                ("1", BO, StreamKind::Video, 2, 8)
            ]
        );
    }

    #[test]
    fn changes_wait_for_the_answer_then_go_out_together() {
        let mut plan = SubscriptionPlan::default();
        plan.publishers(&[feed(8, BO)], None);
        plan.offered(&[sub("0", "audio", 8, "a0", true)]);
        plan.publishers(&[feed(9, ANA)], None);
        plan.gone(8);
        assert_eq!(plan.next(), None, "an offer is unanswered");
        assert!(plan.answered());
        let step = plan.next().expect("a step");
        assert_eq!(feeds(&step), (vec![9], vec![8]));
    }

    #[test]
    fn an_offer_of_janus_own_must_be_answered_too() {
        let mut plan = SubscriptionPlan::default();
        plan.publishers(&[feed(8, BO), feed(9, ANA)], None);
        plan.offered(&[
            sub("0", "audio", 8, "a0", true),
            sub("1", "audio", 9, "a0", true),
        ]);
        assert!(plan.answered());
        // Bo leaves: Janus drops its streams and offers by itself.
        plan.gone(8);
        plan.offered(&[
            sub("0", "audio", 8, "a0", false),
            sub("1", "audio", 9, "a0", true),
        ]);
        assert!(plan.awaiting_answer());
        assert!(plan.answered());
        assert_eq!(plan.next(), None, "nothing left to remove");
    }

    #[test]
    fn an_answer_with_no_offer_waiting_is_out_of_order() {
        let mut plan = SubscriptionPlan::default();
        assert!(!plan.answered());
        plan.publishers(&[feed(8, BO)], None);
        plan.offered(&[sub("0", "audio", 8, "a0", true)]);
        assert!(plan.answered());
        assert!(!plan.answered());
    }

    #[test]
    fn a_failed_step_forgets_the_publishers_it_added() {
        let mut plan = SubscriptionPlan::default();
        plan.publishers(&[feed(8, BO)], None);
        let step = plan.next().expect("create");
        plan.failed(&step);
        assert_eq!(plan.next(), None);
        plan.publishers(&[feed(8, BO)], None);
        assert!(plan.next().is_some(), "announced again");
    }
}
