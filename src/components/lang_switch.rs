//! The language switch.

use crate::i18n::{use_strings, Lang, LangContext};
use yew::prelude::*;

/// Buttons for English and 中文.
#[function_component(LangSwitch)]
pub fn lang_switch() -> Html {
    let s = use_strings();
    let Some(ctx) = use_context::<LangContext>() else {
        return Html::default();
    };
    html! {
        <div class="lang-switch" role="group" aria-label={s.language}>
            { for Lang::ALL.iter().map(|&lang| {
                let set = ctx.set.clone();
                let label = match lang { Lang::En => "English", Lang::Zh => "中文" };
                html! {
                    <button lang={lang.tag()} aria-pressed={(ctx.lang == lang).to_string()}
                        data-testid={format!("lang-{}", lang.tag())}
                        onclick={Callback::from(move |_| set.emit(lang))}>{ label }</button>
                }
            }) }
        </div>
    }
}
