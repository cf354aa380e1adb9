//! Client text to `ClientMsg`, with errors a client can act on: a join from another protocol
//! version is named as such even when this version cannot parse it.

use meshmeet_protocol::{ClientMsg, ProtocolMsg as _, PROTOCOL_VERSION};
use serde::Deserialize;

use crate::error::RelayError;

/// Longest serde error text echoed back to a client (it can quote the client's input).
const MAX_ERROR_DETAIL_CHARS: usize = 200;

/// Just enough of a message to recognise a join from another protocol version, whose other
/// fields this version may not understand.
#[derive(Deserialize)]
struct VersionProbe {
    #[serde(rename = "type")]
    kind: String,
    version: u64,
}

/// `join` and `resume` must speak this relay's protocol version.
pub(super) fn check_version(version: u32) -> Result<(), RelayError> {
    if version == PROTOCOL_VERSION {
        Ok(())
    } else {
        Err(RelayError::VersionMismatch {
            got: u64::from(version),
            expected: PROTOCOL_VERSION,
        })
    }
}

pub(super) fn parse_client_msg(text: &str) -> Result<ClientMsg, RelayError> {
    match ClientMsg::from_json(text) {
        Ok(msg) => Ok(msg),
        Err(err) => {
            if let Ok(probe) = serde_json::from_str::<VersionProbe>(text) {
                if probe.kind == "join" && probe.version != u64::from(PROTOCOL_VERSION) {
                    return Err(RelayError::VersionMismatch {
                        got: probe.version,
                        expected: PROTOCOL_VERSION,
                    });
                }
            }
            let mut detail: String = err.to_string();
            if detail.chars().count() > MAX_ERROR_DETAIL_CHARS {
                detail = detail.chars().take(MAX_ERROR_DETAIL_CHARS).collect();
                detail.push('…');
            }
            Err(RelayError::BadMessage(detail))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshmeet_protocol::ErrorCode;

    fn code_of(text: &str) -> Option<ErrorCode> {
        parse_client_msg(text).err().map(|e| e.code())
    }

    #[test]
    fn join_of_another_version_is_a_version_mismatch_even_if_its_shape_changed() {
        assert_eq!(
            code_of(r#"{"type":"join","version":3,"room":"r","name":"n"}"#),
            None,
            "well-formed joins are checked later, in join()"
        );
        assert_eq!(
            code_of(r#"{"type":"join","version":7,"lobby":{"room":"r"}}"#),
            Some(ErrorCode::VersionMismatch)
        );
        assert_eq!(
            code_of(r#"{"type":"join","version":2,"lobby":{"room":"r"}}"#),
            Some(ErrorCode::BadMessage)
        );
    }

    #[test]
    fn long_parse_errors_are_cut_short() {
        let kind = "x".repeat(5000);
        let err = parse_client_msg(&format!(r#"{{"type":"{kind}"}}"#)).expect_err("refused");
        assert!(err.to_string().chars().count() < MAX_ERROR_DETAIL_CHARS + 50);
    }
}
