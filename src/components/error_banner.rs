//! A message about something that went wrong, with what the person can do next.

use crate::i18n::use_strings;
use yew::prelude::*;

/// Props of [`ErrorBanner`].
#[derive(Properties, PartialEq)]
pub struct ErrorBannerProps {
    /// What happened and what to do.
    pub message: AttrValue,
    /// Extra actions (buttons).
    #[prop_or_default]
    pub children: Html,
    /// Shows a dismiss button when set.
    #[prop_or_default]
    pub on_dismiss: Option<Callback<()>>,
}

/// An alert the screen reader announces.
#[function_component(ErrorBanner)]
pub fn error_banner(props: &ErrorBannerProps) -> Html {
    let s = use_strings();
    html! {
        <div class="error-banner" role="alert" data-testid="error-banner">
            <p>{ &props.message }</p>
            <div class="actions">
                { props.children.clone() }
                if let Some(dismiss) = props.on_dismiss.clone() {
                    <button onclick={Callback::from(move |_| dismiss.emit(()))}>{ s.dismiss }</button>
                }
            </div>
        </div>
    }
}
