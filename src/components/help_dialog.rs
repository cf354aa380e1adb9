//! The list of keyboard shortcuts, as a modal dialog.

use crate::i18n::{use_strings, Strings};
use crate::state::{Shortcut, SHORTCUTS};
use web_sys::HtmlElement;
use yew::prelude::*;

/// Props of [`HelpDialog`].
#[derive(Properties, PartialEq)]
pub struct HelpDialogProps {
    /// Close it (the close button, Escape, or a click outside).
    pub on_close: Callback<()>,
}

/// What a shortcut does, in the UI language.
pub fn shortcut_text(s: &Strings, shortcut: Shortcut) -> &'static str {
    match shortcut {
        Shortcut::ToggleMic => s.sc_mic,
        Shortcut::ToggleCamera => s.sc_camera,
        Shortcut::ToggleScreen => s.sc_screen,
        Shortcut::ToggleChat => s.sc_chat,
        Shortcut::ToggleView => s.sc_view,
        Shortcut::Help => s.sc_help,
        Shortcut::Leave => s.sc_leave,
    }
}

/// The shortcuts dialog; focus moves to its close button when it opens.
#[function_component(HelpDialog)]
pub fn help_dialog(props: &HelpDialogProps) -> Html {
    let s = use_strings();
    let close_button = use_node_ref();
    {
        let close_button = close_button.clone();
        use_effect_with((), move |()| {
            if let Some(button) = close_button.cast::<HtmlElement>() {
                let _ = button.focus();
            }
        });
    }
    let close = {
        let cb = props.on_close.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let on_key = {
        let cb = props.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                cb.emit(());
            }
        })
    };
    let backdrop = {
        let cb = props.on_close.clone();
        Callback::from(move |e: MouseEvent| {
            // Only a click on the backdrop itself, not one inside the dialog.
            if e.target() == e.current_target() {
                cb.emit(());
            }
        })
    };
    html! {
        <div class="backdrop" onclick={backdrop} onkeydown={on_key}>
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title"
                data-testid="help-dialog">
                <h2 id="shortcuts-title">{ s.shortcuts_title }</h2>
                <dl class="shortcuts">
                    { for SHORTCUTS.iter().map(|(shortcut, key)| html! {
                        <div class="shortcut" data-testid="shortcut">
                            <dt><kbd>{ *key }</kbd></dt>
                            <dd>{ shortcut_text(s, *shortcut) }</dd>
                        </div>
                    }) }
                </dl>
                <button ref={close_button} data-testid="help-close" onclick={close}>{ s.close }</button>
            </div>
        </div>
    }
}
