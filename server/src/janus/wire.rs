//! The JSON of Janus's API as the relay sends and reads it (only the fields it uses).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A request to the Janus core: `create`, `attach`, `keepalive`, `message`, `destroy`.
#[derive(Debug, Serialize)]
pub struct Request<'a> {
    /// What is asked.
    pub janus: &'a str,
    /// Ties the reply to this request on the shared connection.
    pub transaction: &'a str,
    /// The session, for everything but `create`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<u64>,
    /// The plugin handle, for `message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle_id: Option<u64>,
    /// The plugin to `attach`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<&'a str>,
    /// The plugin request, for `message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<&'a Value>,
    /// An SDP offer or answer going with a `message`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jsep: Option<&'a Jsep>,
    /// An ICE candidate (or `{"completed": true}`), for `trickle`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<&'a Value>,
}

impl<'a> Request<'a> {
    /// A request with only its kind and transaction.
    pub fn new(janus: &'a str, transaction: &'a str) -> Self {
        Request {
            janus,
            transaction,
            session_id: None,
            handle_id: None,
            plugin: None,
            body: None,
            jsep: None,
            candidate: None,
        }
    }
}

/// Anything Janus sends: a reply (`success`, `error`, `ack`), or an event (`event`,
/// `webrtcup`, `hangup`, `timeout`, …), which may carry the transaction of an earlier request.
#[derive(Debug, Clone, Deserialize)]
pub struct Reply {
    /// The kind of message.
    pub janus: String,
    /// The request this answers, if any.
    #[serde(default)]
    pub transaction: Option<String>,
    /// The plugin handle an event concerns.
    #[serde(default)]
    pub sender: Option<u64>,
    /// `create` and `attach` results: `{"id": …}`.
    #[serde(default)]
    pub data: Option<IdData>,
    /// Why a request failed (`janus: "error"`).
    #[serde(default)]
    pub error: Option<ErrorBody>,
    /// A plugin's answer or event.
    #[serde(default)]
    pub plugindata: Option<PluginData>,
    /// The SDP going with a plugin's answer or event.
    #[serde(default)]
    pub jsep: Option<Jsep>,
    /// The rest of the message (`webrtcup`, `media`, `slowlink` and `hangup` fields).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

/// An SDP offer or answer as Janus carries it (`{"type": "offer", "sdp": …}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jsep {
    /// Offer or answer.
    #[serde(rename = "type")]
    pub kind: JsepKind,
    /// The session description.
    pub sdp: String,
    /// `Some(false)` for an offer whose sender cannot trickle (a WHIP encoder): Janus then
    /// gathers its candidates before answering and puts them all in the answer. Absent,
    /// Janus takes trickling for granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trickle: Option<bool>,
}

/// Which side of the negotiation an SDP is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JsepKind {
    /// An offer.
    Offer,
    /// An answer.
    Answer,
}

impl Jsep {
    /// An offer carrying `sdp`.
    pub fn offer(sdp: impl Into<String>) -> Jsep {
        Jsep {
            kind: JsepKind::Offer,
            sdp: sdp.into(),
            trickle: None,
        }
    }

    /// An offer carrying `sdp` with every candidate of its sender: nothing will trickle.
    pub fn complete_offer(sdp: impl Into<String>) -> Jsep {
        Jsep {
            trickle: Some(false),
            ..Jsep::offer(sdp)
        }
    }

    /// An answer carrying `sdp`.
    pub fn answer(sdp: impl Into<String>) -> Jsep {
        Jsep {
            kind: JsepKind::Answer,
            sdp: sdp.into(),
            trickle: None,
        }
    }
}

/// The id of a new session or handle.
#[derive(Debug, Clone, Deserialize)]
pub struct IdData {
    /// The session or handle id.
    pub id: u64,
}

/// A core error.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    /// Janus's error code.
    pub code: i64,
    /// Its explanation.
    #[serde(default)]
    pub reason: String,
}

/// A plugin's answer.
#[derive(Debug, Clone, Deserialize)]
pub struct PluginData {
    /// The plugin's own JSON.
    #[serde(default)]
    pub data: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_leave_out_what_they_do_not_carry() {
        let body = serde_json::json!({ "request": "list" });
        let mut request = Request::new("message", "t1");
        request.session_id = Some(7);
        request.handle_id = Some(9);
        request.body = Some(&body);
        assert_eq!(
            serde_json::to_value(&request).expect("serializes"),
            serde_json::json!({
                "janus": "message", "transaction": "t1", "session_id": 7, "handle_id": 9,
                "body": { "request": "list" }
            })
        );
        let create = serde_json::to_value(Request::new("create", "t2")).expect("serializes");
        assert_eq!(
            create,
            serde_json::json!({ "janus": "create", "transaction": "t2" })
        );
    }

    #[test]
    fn replies_of_every_kind_parse() {
        let error: Reply = serde_json::from_str(
            r#"{"janus":"error","transaction":"a","error":{"code":458,"reason":"No such session"}}"#,
        )
        .expect("parses");
        assert_eq!(error.error.map(|e| e.code), Some(458));
        let success: Reply = serde_json::from_str(
            r#"{"janus":"success","transaction":"b","sender":1,"plugindata":{"plugin":"janus.plugin.videoroom","data":{"videoroom":"created","room":5}}}"#,
        )
        .expect("parses");
        let data = success.plugindata.expect("plugindata").data;
        assert_eq!(data["room"], 5);
        let timeout: Reply =
            serde_json::from_str(r#"{"janus":"timeout","session_id":3}"#).expect("parses");
        assert_eq!(timeout.transaction, None);
    }
}
