//! Brief notes about people arriving and leaving, in a live region so screen readers announce
//! them too.

use crate::i18n::use_strings;
use crate::state::{Toast, ToastKind};
use gloo_timers::callback::Timeout;
use yew::prelude::*;

/// How long a toast stays, in milliseconds.
pub const TOAST_MS: u32 = 4_000;

/// Props of [`Toasts`].
#[derive(Properties, PartialEq)]
pub struct ToastsProps {
    /// Oldest first.
    pub toasts: Vec<Toast>,
    /// A toast timed out or was closed.
    pub on_dismiss: Callback<u64>,
}

/// The toasts, each dismissed after [`TOAST_MS`].
#[function_component(Toasts)]
pub fn toasts(props: &ToastsProps) -> Html {
    let s = use_strings();
    {
        // One timer, for the oldest toast; when it goes, the next one's starts.
        let oldest = props.toasts.first().map(|t| t.id);
        let on_dismiss = props.on_dismiss.clone();
        use_effect_with(oldest, move |oldest| {
            let timer = oldest.map(|id| Timeout::new(TOAST_MS, move || on_dismiss.emit(id)));
            move || drop(timer)
        });
    }
    html! {
        <div class="toasts" role="status" aria-live="polite" data-testid="toasts">
            { for props.toasts.iter().map(|toast| {
                let verb = match toast.kind {
                    ToastKind::Joined => s.toast_joined,
                    ToastKind::Left => s.toast_left,
                };
                let kind = match toast.kind {
                    ToastKind::Joined => "joined",
                    ToastKind::Left => "left",
                };
                let id = toast.id;
                let dismiss = props.on_dismiss.clone();
                html! {
                    <div class="toast" key={id.to_string()} data-testid="toast" data-kind={kind}>
                        <span>{ format!("{} {verb}", toast.name) }</span>
                        <button class="toast-close" aria-label={s.close} title={s.close}
                            onclick={Callback::from(move |_| dismiss.emit(id))}>{ "×" }</button>
                    </div>
                }
            }) }
        </div>
    }
}
