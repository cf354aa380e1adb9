//! The decisions of the perfect-negotiation pattern, as pure functions.
//!
//! Each pair of peers agrees, without talking, that one of them is *polite*: when both send
//! an offer at once (glare), the polite one rolls its own back and answers; the impolite one
//! ignores the incoming offer and waits for the answer to its own.

use meshmeet_protocol::PeerId;

/// Whether we are the polite side toward `remote`. Both sides compute it from the
/// relay-assigned ids, so exactly one of the two is polite.
pub fn is_polite(local: &PeerId, remote: &PeerId) -> bool {
    local < remote
}

/// What to do with an incoming offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferDecision {
    /// No collision: apply it and answer.
    Accept,
    /// Collision and we are polite: roll back our offer, apply theirs and answer.
    RollbackAndAccept,
    /// Collision and we are impolite: ignore it (and the candidates that follow it).
    Ignore,
}

/// Decides on an incoming offer, given whether our signalling state is `stable`.
pub fn offer_decision(polite: bool, stable: bool) -> OfferDecision {
    match (stable, polite) {
        (true, _) => OfferDecision::Accept,
        (false, true) => OfferDecision::RollbackAndAccept,
        (false, false) => OfferDecision::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_side_of_a_pair_is_polite() {
        let (a, b) = (PeerId::from("3f2a"), PeerId::from("9c01"));
        assert_ne!(is_polite(&a, &b), is_polite(&b, &a));
    }

    #[test]
    fn glare_is_resolved_by_the_polite_side_only() {
        assert_eq!(offer_decision(true, true), OfferDecision::Accept);
        assert_eq!(offer_decision(false, true), OfferDecision::Accept);
        assert_eq!(
            offer_decision(true, false),
            OfferDecision::RollbackAndAccept
        );
        assert_eq!(offer_decision(false, false), OfferDecision::Ignore);
    }
}
