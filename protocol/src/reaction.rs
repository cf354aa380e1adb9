//! Reactions: a short sign a participant sends to everyone (shown briefly on their tile).

use serde::{Deserialize, Serialize};

/// A reaction people can send. The set is fixed, so the relay can check it and every page
/// can show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reaction {
    /// Agreement: 👍.
    ThumbsUp,
    /// Applause: 👏.
    Clap,
    /// Laughter: 😂.
    Laugh,
    /// Love: ❤️.
    Heart,
    /// Surprise: 😮.
    Surprise,
    /// Celebration: 🎉.
    Party,
}

impl Reaction {
    /// Every reaction, in the order the page offers them.
    pub const ALL: [Reaction; 6] = [
        Reaction::ThumbsUp,
        Reaction::Clap,
        Reaction::Laugh,
        Reaction::Heart,
        Reaction::Surprise,
        Reaction::Party,
    ];

    /// Its name on the wire (`thumbs_up`…).
    pub fn name(self) -> &'static str {
        match self {
            Reaction::ThumbsUp => "thumbs_up",
            Reaction::Clap => "clap",
            Reaction::Laugh => "laugh",
            Reaction::Heart => "heart",
            Reaction::Surprise => "surprise",
            Reaction::Party => "party",
        }
    }

    /// The emoji shown.
    pub fn emoji(self) -> &'static str {
        match self {
            Reaction::ThumbsUp => "👍",
            Reaction::Clap => "👏",
            Reaction::Laugh => "😂",
            Reaction::Heart => "❤️",
            Reaction::Surprise => "😮",
            Reaction::Party => "🎉",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reaction_s_name_is_its_wire_name() {
        for reaction in Reaction::ALL {
            let json = serde_json::to_value(reaction).expect("serializes");
            assert_eq!(json, reaction.name());
            assert!(!reaction.emoji().is_empty());
        }
        assert!(serde_json::from_str::<Reaction>("\"middle_finger\"").is_err());
    }
}
