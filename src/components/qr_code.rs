//! A QR code of the invite link, drawn as one SVG path, so a phone can join by pointing its
//! camera at the screen.

use qrcodegen::{QrCode, QrCodeEcc};
use yew::prelude::*;

/// Modules of quiet zone around the code (the standard asks for 4).
const QUIET_ZONE: i32 = 4;

/// Props of [`QrCodeView`].
#[derive(Properties, PartialEq)]
pub struct QrCodeProps {
    /// What the code says.
    pub text: AttrValue,
    /// Accessible description.
    pub label: AttrValue,
}

/// The code, or nothing if the text is too long for a QR code.
#[function_component(QrCodeView)]
pub fn qr_code_view(props: &QrCodeProps) -> Html {
    let Some((size, path)) = qr_path(&props.text) else {
        return html! {};
    };
    let view_box = format!("0 0 {size} {size}");
    html! {
        <svg class="qr" data-testid="invite-qr" viewBox={view_box} role="img"
            aria-label={props.label.clone()} shape-rendering="crispEdges">
            <rect width="100%" height="100%" fill="#fff" />
            <path d={path} fill="#000" />
        </svg>
    }
}

/// The side of the code with its quiet zone, in modules, and a path with one unit square per
/// dark module.
pub fn qr_path(text: &str) -> Option<(i32, String)> {
    let code = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = code.size();
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if code.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + QUIET_ZONE, y + QUIET_ZONE));
            }
        }
    }
    Some((size + 2 * QUIET_ZONE, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invite_link_becomes_a_code_with_a_quiet_zone_and_finder_patterns() {
        let (side, path) = qr_path("https://meet.example.org/r/weekly-sync").expect("fits");
        // Version 3 (29 modules) for this length at medium correction, plus 2 × 4 quiet.
        assert_eq!(side, 29 + 8);
        // The top-left finder pattern's corner module is dark; the quiet zone is not.
        assert!(path.starts_with("M4,4h1v1h-1z"));
        assert!(!path.contains("M0,"));
    }

    #[test]
    fn text_too_long_for_any_code_gives_none() {
        assert_eq!(qr_path(&"x".repeat(5000)), None);
    }
}
