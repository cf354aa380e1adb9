//! The link to share, with a copy button.

use super::QrCodeView;
use crate::i18n::use_strings;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use yew::prelude::*;

/// Props of [`InviteLink`].
#[derive(Properties, PartialEq)]
pub struct InviteLinkProps {
    /// The full URL of the room.
    pub url: AttrValue,
}

/// Read-only link field and copy button.
#[function_component(InviteLink)]
pub fn invite_link(props: &InviteLinkProps) -> Html {
    let s = use_strings();
    let copied = use_state(|| false);
    // Drawn only when asked for: most people copy the link.
    let qr_open = use_state(|| false);
    let toggle_qr = {
        let qr_open = qr_open.clone();
        Callback::from(move |_: MouseEvent| qr_open.set(!*qr_open))
    };
    let onclick = {
        let (url, copied) = (props.url.clone(), copied.clone());
        Callback::from(move |_| {
            let (url, copied) = (url.clone(), copied.clone());
            spawn_local(async move {
                let Some(window) = web_sys::window() else {
                    return;
                };
                let promise = window.navigator().clipboard().write_text(&url);
                copied.set(JsFuture::from(promise).await.is_ok());
            });
        })
    };
    html! {
        <div class="invite">
            <label for="invite-link">{ s.invite_link }</label>
            <div class="invite-row">
                <input id="invite-link" data-testid="invite-link" readonly=true value={props.url.clone()}
                    onfocus={Callback::from(|e: FocusEvent| {
                        if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() { input.select(); }
                    })} />
                <button data-testid="invite-copy" {onclick}>
                    { if *copied { s.copied } else { s.copy_link } }
                </button>
                <button data-testid="invite-qr-toggle" aria-expanded={qr_open.to_string()}
                    aria-label={s.qr_code} title={s.qr_code} onclick={toggle_qr}>{ "QR" }</button>
            </div>
            if *qr_open {
                <QrCodeView text={props.url.clone()} label={format!("{}: {}", s.qr_code, props.url)} />
            }
        </div>
    }
}
