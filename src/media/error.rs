//! Why capturing media failed, in terms a person can act on.

use crate::js::JsError;

/// A failed media request, mapped from the browser's `DOMException` name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The user or the browser's settings refused access.
    #[error("access to the camera or microphone was refused")]
    PermissionDenied,
    /// No device of the requested kind, or none matching the chosen id.
    #[error("no matching camera or microphone")]
    NoDevice,
    /// The device exists but another program holds it.
    #[error("the device is in use by another program")]
    DeviceInUse,
    /// Not a secure context (neither https nor localhost): `mediaDevices` is missing.
    #[error("media capture needs https or localhost")]
    InsecureContext,
    /// The browser has no media capture.
    #[error("this browser cannot capture media")]
    Unsupported,
    /// Anything else, with the browser's own words.
    #[error("media error: {0}")]
    Other(String),
}

impl From<JsError> for MediaError {
    fn from(err: JsError) -> Self {
        match err.name.as_str() {
            "NotAllowedError" | "PermissionDeniedError" | "SecurityError" => {
                MediaError::PermissionDenied
            }
            "NotFoundError" | "DevicesNotFoundError" | "OverconstrainedError" => {
                MediaError::NoDevice
            }
            "NotReadableError" | "TrackStartError" | "AbortError" => MediaError::DeviceInUse,
            "NotSupportedError" => MediaError::Unsupported,
            _ => MediaError::Other(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom_exception_names_map_to_actionable_errors() {
        let map = |name: &str| MediaError::from(JsError::new(name, "x"));
        assert_eq!(map("NotAllowedError"), MediaError::PermissionDenied);
        assert_eq!(map("NotFoundError"), MediaError::NoDevice);
        assert_eq!(map("OverconstrainedError"), MediaError::NoDevice);
        assert_eq!(map("NotReadableError"), MediaError::DeviceInUse);
        assert_eq!(
            map("TypeError"),
            MediaError::Other("TypeError: x".to_string())
        );
    }
}
