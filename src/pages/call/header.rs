//! The call's top bar: the room's name, the grid/speaker switch, the shortcuts and the
//! language.

use crate::components::{Icon, LangSwitch};
use crate::i18n::Strings;
use crate::state::{Action, RoomState, ViewMode};
use yew::prelude::*;

/// The top bar of the call in `room`.
pub(super) fn header(
    s: &Strings,
    room: &AttrValue,
    state: &RoomState,
    dispatch: &UseReducerDispatcher<RoomState>,
) -> Html {
    let view_toggle = {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::ToggleView))
    };
    let help_toggle = {
        let d = dispatch.clone();
        Callback::from(move |_: MouseEvent| d.dispatch(Action::ToggleHelp))
    };
    let (view_label, view_icon) = match state.view {
        ViewMode::Grid => (s.view_speaker, Icon::Speaker),
        ViewMode::Speaker => (s.view_grid, Icon::Grid),
    };
    html! {
        <header class="top">
            <span class="room-name">{ room }</span>
            <div class="top-actions">
                <button class="view-toggle" data-testid="view-toggle" aria-label={view_label}
                    title={view_label} onclick={view_toggle}>
                    { view_icon.html() }
                </button>
                <button class="view-toggle" data-testid="help-toggle" aria-label={s.shortcuts_title}
                    title={s.shortcuts_title} aria-expanded={state.help_open.to_string()} onclick={help_toggle}>
                    { Icon::Keyboard.html() }
                </button>
                <LangSwitch />
            </div>
        </header>
    }
}
