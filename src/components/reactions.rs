//! Reactions: the control bar's picker (`reactions-toggle`, then one button per reaction,
//! `reaction-<name>`), and the reaction floating over a tile for a moment.

use crate::i18n::{use_strings, Strings};
use meshmeet_protocol::Reaction;
use yew::prelude::*;

/// How long a reaction floats over its tile, in milliseconds.
pub const REACTION_MS: u32 = 4_000;

/// The person's name for `reaction`.
pub fn reaction_label(s: &Strings, reaction: Reaction) -> &'static str {
    match reaction {
        Reaction::ThumbsUp => s.reaction_thumbs_up,
        Reaction::Clap => s.reaction_clap,
        Reaction::Laugh => s.reaction_laugh,
        Reaction::Heart => s.reaction_heart,
        Reaction::Surprise => s.reaction_surprise,
        Reaction::Party => s.reaction_party,
    }
}

/// Props of [`ReactionPicker`].
#[derive(Properties, PartialEq)]
pub struct ReactionPickerProps {
    /// A reaction was picked.
    pub on_react: Callback<Reaction>,
}

/// A button that opens a row of reactions above the control bar; picking one sends it and
/// closes the row.
#[function_component(ReactionPicker)]
pub fn reaction_picker(props: &ReactionPickerProps) -> Html {
    let s = use_strings();
    let open = use_state(|| false);
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    html! {
        <div class="reaction-picker">
            <button data-testid="reactions-toggle" class={classes!("round", open.then_some("active"))}
                aria-label={s.reactions} title={s.reactions} aria-expanded={open.to_string()}
                onclick={toggle}>
                { "🙂" }
            </button>
            if *open {
                <div class="reaction-menu" role="group" aria-label={s.reactions}>
                    { for Reaction::ALL.into_iter().map(|reaction| {
                        let (on_react, open) = (props.on_react.clone(), open.clone());
                        let label = reaction_label(s, reaction);
                        html! {
                            <button data-testid={format!("reaction-{}", reaction.name())}
                                aria-label={label} title={label}
                                onclick={Callback::from(move |_| {
                                    on_react.emit(reaction);
                                    open.set(false);
                                })}>
                                { reaction.emoji() }
                            </button>
                        }
                    }) }
                </div>
            }
        </div>
    }
}

/// The reaction floating over a tile, if any.
pub fn tile_reaction(s: &Strings, reaction: Option<Reaction>) -> Html {
    let Some(reaction) = reaction else {
        return Html::default();
    };
    html! {
        <span class="tile-reaction" data-testid="tile-reaction" data-reaction={reaction.name()}
            role="img" aria-label={reaction_label(s, reaction)}>
            { reaction.emoji() }
        </span>
    }
}
