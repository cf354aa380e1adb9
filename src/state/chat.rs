//! The chat of a meeting: messages shown once each, in each sender's order, with unread
//! counting; and cutting text into plain text and links.

use meshmeet_protocol::PeerId;
use std::rc::Rc;
use yew::Reducible;

/// One chat message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatEntry {
    /// Sender.
    pub from: PeerId,
    /// Sender's display name when it arrived.
    pub name: String,
    /// Sender's message number (from 1).
    pub seq: u64,
    /// The text.
    pub text: String,
    /// When it was sent or received, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Whether we sent it.
    pub mine: bool,
}

/// The chat panel's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChatState {
    /// Messages in display order.
    pub entries: Vec<ChatEntry>,
    /// Messages from others that arrived while the panel was closed.
    pub unread: u32,
    /// Whether the panel is open.
    pub open: bool,
}

/// What changes the chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatAction {
    /// A message arrived (over a data channel or the relay) or was sent.
    Posted(ChatEntry),
    /// The panel was opened or closed.
    SetOpen(bool),
}

impl ChatState {
    /// Applies one action.
    pub fn apply(mut self, action: ChatAction) -> Self {
        match action {
            ChatAction::Posted(entry) => {
                let duplicate = self
                    .entries
                    .iter()
                    .any(|e| e.from == entry.from && e.seq == entry.seq);
                if duplicate {
                    return self;
                }
                // Arrival order, except that a sender's messages stay in their own order even
                // when the relay copy of one overtakes the data-channel copy of another.
                let position = self
                    .entries
                    .iter()
                    .position(|e| e.from == entry.from && e.seq > entry.seq)
                    .unwrap_or(self.entries.len());
                if !entry.mine && !self.open {
                    self.unread += 1;
                }
                self.entries.insert(position, entry);
            }
            ChatAction::SetOpen(open) => {
                self.open = open;
                if open {
                    self.unread = 0;
                }
            }
        }
        self
    }
}

impl Reducible for ChatState {
    type Action = ChatAction;

    fn reduce(self: Rc<Self>, action: ChatAction) -> Rc<Self> {
        Rc::new((*self).clone().apply(action))
    }
}

/// A piece of a chat message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Shown as text (never as markup).
    Text(String),
    /// An `http://` or `https://` link.
    Link(String),
}

/// Cuts `text` into plain text and links. Only http(s) URLs become links, so nothing like
/// `javascript:` can be clicked; punctuation that ends a sentence stays out of the link.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let push_text = |out: &mut Vec<Segment>, piece: &str| {
        if piece.is_empty() {
            return;
        }
        match out.last_mut() {
            Some(Segment::Text(last)) => last.push_str(piece),
            _ => out.push(Segment::Text(piece.to_owned())),
        }
    };
    let mut rest = text;
    while !rest.is_empty() {
        let start = ["https://", "http://"]
            .iter()
            .filter_map(|scheme| rest.find(scheme))
            .min();
        let Some(start) = start else {
            push_text(&mut out, rest);
            break;
        };
        push_text(&mut out, &rest[..start]);
        let candidate = &rest[start..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(candidate.len());
        let url = candidate[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '\'']);
        let is_link = url.len() > "https://".len() && !url.ends_with("//");
        if is_link {
            out.push(Segment::Link(url.to_owned()));
        } else {
            push_text(&mut out, url);
        }
        rest = &candidate[url.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(from: &str, seq: u64, mine: bool) -> ChatEntry {
        ChatEntry {
            from: PeerId::from(from),
            name: from.to_uppercase(),
            seq,
            text: format!("{from}{seq}"),
            at_ms: 0,
            mine,
        }
    }

    fn texts(state: &ChatState) -> Vec<&str> {
        state.entries.iter().map(|e| e.text.as_str()).collect()
    }

    #[test]
    fn a_message_that_arrives_twice_is_shown_once() {
        let state = ChatState::default()
            .apply(ChatAction::Posted(entry("a", 1, false)))
            .apply(ChatAction::Posted(entry("a", 1, false)));
        assert_eq!(texts(&state), ["a1"]);
        assert_eq!(state.unread, 1);
    }

    #[test]
    fn each_senders_messages_keep_their_order_across_paths() {
        // a2 came over the data channel before the relay delivered a1.
        let state = ChatState::default()
            .apply(ChatAction::Posted(entry("a", 2, false)))
            .apply(ChatAction::Posted(entry("b", 1, false)))
            .apply(ChatAction::Posted(entry("a", 1, false)))
            .apply(ChatAction::Posted(entry("a", 3, false)));
        assert_eq!(texts(&state), ["a1", "a2", "b1", "a3"]);
    }

    #[test]
    fn unread_counts_only_others_while_closed() {
        let state = ChatState::default()
            .apply(ChatAction::Posted(entry("me", 1, true)))
            .apply(ChatAction::Posted(entry("a", 1, false)))
            .apply(ChatAction::Posted(entry("a", 2, false)));
        assert_eq!(state.unread, 2);
        let state = state
            .apply(ChatAction::SetOpen(true))
            .apply(ChatAction::Posted(entry("a", 3, false)));
        assert_eq!(state.unread, 0);
    }

    #[test]
    fn links_are_cut_out_of_text_without_trailing_punctuation() {
        assert_eq!(
            segments("see https://example.org/a?b=1. ok"),
            vec![
                Segment::Text("see ".into()),
                Segment::Link("https://example.org/a?b=1".into()),
                Segment::Text(". ok".into()),
            ]
        );
        assert_eq!(
            segments("(http://x.io)"),
            vec![
                Segment::Text("(".into()),
                Segment::Link("http://x.io".into()),
                Segment::Text(")".into()),
            ]
        );
    }

    #[test]
    fn markup_and_other_schemes_stay_text() {
        assert_eq!(
            segments("<b>hi</b> javascript:alert(1)"),
            vec![Segment::Text("<b>hi</b> javascript:alert(1)".into())]
        );
        assert_eq!(
            segments("bare https:// here"),
            vec![Segment::Text("bare https:// here".into())]
        );
        assert_eq!(
            segments("x https://a.b<script>"),
            vec![
                Segment::Text("x ".into()),
                Segment::Link("https://a.b".into()),
                Segment::Text("<script>".into()),
            ]
        );
    }
}
