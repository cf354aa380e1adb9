//! The UI's language, keyboard and layout behaviour in a real browser.
#![cfg(target_arch = "wasm32")]

mod support;

use meshmeet::components::{HelpDialog, HelpDialogProps, TileGrid, TileGridProps};
use meshmeet::hooks::use_shortcuts;
use meshmeet::i18n::{Lang, LangContext, EN, ZH};
use meshmeet::state::{layout, LayoutInput, Shortcut, ViewMode, SHORTCUTS};
use meshmeet::App;
use meshmeet_protocol::{MediaMode, PeerId};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{KeyboardEvent, KeyboardEventInit};
use yew::prelude::*;
use yew::Renderer;

wasm_bindgen_test_configure!(run_in_browser);

fn html_lang() -> Option<String> {
    support::document()
        .document_element()
        .and_then(|e| e.get_attribute("lang"))
}

#[wasm_bindgen_test]
async fn the_language_switch_changes_every_string_and_is_remembered() {
    let storage = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .expect("local storage");
    let _ = storage.remove_item("meshmeet.lang");
    let root = support::fresh_root();
    let app = Renderer::<App>::with_root(root.clone()).render();
    support::wait_for(&root, "[data-testid=lang-zh-CN]").await;

    support::click(&root, "[data-testid=lang-zh-CN]");
    support::wait_until("Chinese text", 5_000, || {
        root.text_content()
            .filter(|t| t.contains(ZH.start_meeting) && !t.contains(EN.start_meeting))
    })
    .await;
    support::wait_until("<html lang=zh-CN>", 5_000, || {
        (html_lang().as_deref() == Some("zh-CN")).then_some(())
    })
    .await;
    assert_eq!(
        storage.get_item("meshmeet.lang").ok().flatten().as_deref(),
        Some("zh-CN"),
        "the choice is remembered for the next visit"
    );
    assert_eq!(Lang::detect(), Lang::Zh);

    support::click(&root, "[data-testid=lang-en]");
    support::wait_until("English text again", 5_000, || {
        root.text_content()
            .filter(|t| t.contains(EN.start_meeting) && !t.contains(ZH.start_meeting))
    })
    .await;
    assert_eq!(html_lang().as_deref(), Some("en"));
    app.destroy();
    root.remove();
    let _ = storage.remove_item("meshmeet.lang");
}

/// The help dialog inside a language of the test's choice.
#[derive(Properties, PartialEq)]
struct InLangProps {
    lang: Lang,
    on_close: Callback<()>,
}

#[function_component(HelpInLang)]
fn help_in_lang(props: &InLangProps) -> Html {
    let context = LangContext {
        lang: props.lang,
        set: Callback::noop(),
    };
    html! {
        <ContextProvider<LangContext> {context}>
            <HelpDialog ..HelpDialogProps { on_close: props.on_close.clone() } />
        </ContextProvider<LangContext>>
    }
}

#[wasm_bindgen_test]
async fn the_help_dialog_lists_every_shortcut_in_chinese_and_closes_on_escape() {
    let root = support::fresh_root();
    let closed = Rc::new(RefCell::new(0));
    let on_close = {
        let closed = closed.clone();
        Callback::from(move |()| *closed.borrow_mut() += 1)
    };
    let props = InLangProps {
        lang: Lang::Zh,
        on_close,
    };
    let app = Renderer::<HelpInLang>::with_root_and_props(root.clone(), props).render();
    let dialog = support::wait_for(&root, "[data-testid=help-dialog]").await;
    assert_eq!(dialog.get_attribute("role").as_deref(), Some("dialog"));
    let entries = dialog
        .query_selector_all("[data-testid=shortcut]")
        .expect("query");
    assert_eq!(entries.length() as usize, SHORTCUTS.len());
    let text = dialog.text_content().unwrap_or_default();
    for needle in [ZH.shortcuts_title, ZH.sc_mic, ZH.sc_leave, "Shift + L"] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
    // Focus is on the close button, so Escape and Enter work at once.
    let active = support::document().active_element().expect("focus");
    assert_eq!(
        active.get_attribute("data-testid").as_deref(),
        Some("help-close")
    );
    let init = KeyboardEventInit::new();
    init.set_key("Escape");
    init.set_bubbles(true);
    let escape = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event");
    active.dispatch_event(&escape).expect("dispatch");
    assert_eq!(*closed.borrow(), 1);
    app.destroy();
    root.remove();
}

/// Records the shortcuts `use_shortcuts` reports, beside a text field.
#[derive(Properties, PartialEq)]
struct ShortcutProbeProps {
    seen: Rc<RefCell<Vec<Shortcut>>>,
}

#[function_component(ShortcutProbe)]
fn shortcut_probe(props: &ShortcutProbeProps) -> Html {
    let seen = props.seen.clone();
    use_shortcuts(Callback::from(move |s| seen.borrow_mut().push(s)));
    html! { <input data-testid="probe-input" /> }
}

fn press(target: &web_sys::EventTarget, key: &str, shift: bool, ctrl: bool) -> bool {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_shift_key(shift);
    init.set_ctrl_key(ctrl);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event");
    target.dispatch_event(&event).expect("dispatch")
}

#[wasm_bindgen_test]
async fn shortcuts_fire_on_the_page_but_not_while_typing_or_with_ctrl() {
    let root = support::fresh_root();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let app = Renderer::<ShortcutProbe>::with_root_and_props(
        root.clone(),
        ShortcutProbeProps { seen: seen.clone() },
    )
    .render();
    let input = support::wait_for(&root, "[data-testid=probe-input]").await;
    let body: web_sys::EventTarget = support::document().body().expect("body").into();

    let not_cancelled = press(&body, "m", false, false);
    assert!(
        !not_cancelled,
        "a shortcut's key press is taken from the page"
    );
    press(&body, "L", true, false);
    press(&body, "?", true, false);
    press(&body, "m", false, true); // Ctrl+M belongs to the browser
    press(&input, "m", false, false); // typing an m
    press(&body, "x", false, false);
    assert_eq!(
        *seen.borrow(),
        [Shortcut::ToggleMic, Shortcut::Leave, Shortcut::Help]
    );
    app.destroy();
    root.remove();
    // Yew runs the effect's cleanup on its next scheduler turn.
    gloo_timers::future::TimeoutFuture::new(50).await;
    // Gone with the component: no more shortcuts.
    press(&body, "m", false, false);
    assert_eq!(seen.borrow().len(), 3);
}

#[wasm_bindgen_test]
async fn the_tile_grid_places_tiles_as_the_layout_decides() {
    let peers: Vec<PeerId> = (0..3).map(|i| PeerId(format!("p{i}"))).collect();
    let decide = |mode, pinned: Option<&PeerId>| {
        layout(&LayoutInput {
            mode,
            peers: &peers,
            pinned,
            speaker: None,
            screen_shared: false,
            self_minimised: false,
            width: 1200.0,
            height: 620.0,
        })
    };
    let tiles = || -> Vec<(PeerId, Html)> {
        peers
            .iter()
            .map(|id| {
                (
                    id.clone(),
                    html! { <figure class="tile" data-id={id.to_string()} /> },
                )
            })
            .collect()
    };
    let root = support::fresh_root();
    let props = TileGridProps {
        layout: decide(ViewMode::Grid, None),
        local: html! { <figure class="tile" data-id="me" /> },
        self_minimised: false,
        peers: tiles(),
        screens: Vec::new(),
        label: "tiles".into(),
        topology: MediaMode::Mesh,
    };
    let app = Renderer::<TileGrid>::with_root_and_props(root.clone(), props).render();
    let grid = support::wait_for(&root, "[data-testid=tile-grid]").await;
    assert_eq!(grid.get_attribute("data-layout").as_deref(), Some("grid"));
    assert_eq!(grid.get_attribute("data-columns").as_deref(), Some("2"));
    assert_eq!(grid.get_attribute("data-topology").as_deref(), Some("mesh"));
    assert_eq!(grid.query_selector_all(".tile").expect("q").length(), 4);
    app.destroy();

    let props = TileGridProps {
        layout: decide(ViewMode::Grid, Some(&peers[2])),
        local: html! { <figure class="tile" data-id="me" /> },
        self_minimised: true,
        peers: tiles(),
        screens: Vec::new(),
        label: "tiles".into(),
        topology: MediaMode::Sfu,
    };
    let app = Renderer::<TileGrid>::with_root_and_props(root.clone(), props).render();
    let staged = support::wait_for(&root, "[data-layout=speaker]").await;
    assert_eq!(
        staged.get_attribute("data-topology").as_deref(),
        Some("sfu")
    );
    let on_stage = staged
        .query_selector(".speaker [data-id]")
        .ok()
        .flatten()
        .and_then(|e| e.get_attribute("data-id"));
    assert_eq!(
        on_stage.as_deref(),
        Some("p2"),
        "the pinned tile takes the stage"
    );
    assert!(root
        .query_selector(".self-mini [data-id=me]")
        .ok()
        .flatten()
        .is_some());
    assert!(staged
        .query_selector(".strip [data-id=me]")
        .ok()
        .flatten()
        .is_none());
    app.destroy();
    root.remove();
}
