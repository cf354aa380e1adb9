//! Inline SVG icons, so controls look the same everywhere: emoji fonts differ between systems
//! and are missing on some (headless browsers draw boxes). Decorative: the button carries the
//! accessible name.

use yew::prelude::*;

/// One icon of the UI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Icon {
    /// Microphone on.
    Mic,
    /// Microphone off.
    MicOff,
    /// Camera on.
    Camera,
    /// Camera off.
    CameraOff,
    /// Share a screen.
    Screen,
    /// Chat.
    Chat,
    /// Devices.
    Settings,
    /// Leave (a hung-up handset).
    Leave,
    /// Pin.
    Pin,
    /// Full screen.
    Expand,
    /// Minimise.
    Minimise,
    /// Connection details.
    Info,
    /// Keyboard shortcuts.
    Keyboard,
    /// Grid view.
    Grid,
    /// Speaker view.
    Speaker,
    /// People.
    People,
}

impl Icon {
    /// The SVG path data (24×24 viewBox, drawn with strokes).
    fn path(self) -> &'static str {
        match self {
            Icon::Mic => "M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3zM5 11a7 7 0 0 0 14 0M12 18v3",
            Icon::MicOff => "M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3zM5 11a7 7 0 0 0 14 0M12 18v3M3 3l18 18",
            Icon::Camera => "M3 7h12v10H3zM15 10l6-3v10l-6-3",
            Icon::CameraOff => "M3 7h12v10H3zM15 10l6-3v10l-6-3M3 3l18 18",
            Icon::Screen => "M3 4h18v12H3zM8 20h8M12 16v4M9 10l3-3 3 3M12 7v6",
            Icon::Chat => "M4 5h16v11H9l-5 4z",
            Icon::Settings => "M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0M14 4v4M8 10v4M16 16v4",
            Icon::Leave => "M3 14c5-5 13-5 18 0l-3 3-3-2v-3a9 9 0 0 0-6 0v3l-3 2z",
            Icon::Pin => "M9 3h6l-1 6 3 3H7l3-3zM12 12v9",
            Icon::Expand => "M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5",
            Icon::Minimise => "M5 19h14M8 14l4 4 4-4",
            Icon::Info => "M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20zM12 11v6M12 7v.5",
            Icon::Keyboard => "M2 6h20v12H2zM6 10h.5M10 10h.5M14 10h.5M18 10h.5M7 14h10",
            Icon::Grid => "M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z",
            Icon::Speaker => "M3 4h18v11H3zM4 18h4v2H4zM10 18h4v2h-4zM16 18h4v2h-4z",
            Icon::People => "M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM3 20a6 6 0 0 1 12 0M16 5a3 3 0 0 1 0 6M21 20a6 6 0 0 0-4-5.6",
        }
    }

    /// The icon as an inline `<svg>`, hidden from assistive technology.
    pub fn html(self) -> Html {
        html! {
            <svg class="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true"
                focusable="false" fill="none" stroke="currentColor" stroke-width="2"
                stroke-linecap="round" stroke-linejoin="round">
                <path d={self.path()} />
            </svg>
        }
    }
}
