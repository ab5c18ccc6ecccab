//! JSON-RPC 2.0 as a [`Protocol`] (feature `json`): calls carry a numeric id,
//! a response with that id and a `result` or an `error` is its reply, and
//! everything else (notifications, responses to other ids, anything that is
//! not JSON) is an ordinary message.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::rules::error::{Error, Result};
use crate::rules::message::Message;
use crate::rules::requests::{Incoming, Protocol, Subscriptions};

/// The JSON-RPC 2.0 protocol, for [`RequestClient`](crate::RequestClient).
///
/// Replies are the response's `result`; error responses are a
/// [`JsonRpcError`]; an error response whose `error` is not an object with an
/// integer `code` and a string `message` fails its request with
/// [`RequestError::MalformedReply`](crate::RequestError::MalformedReply).
///
/// # Example
///
/// ```
/// use browser_websocket::{Incoming, JsonRpc, JsonRpcCall, Message, Protocol};
///
/// let call = JsonRpcCall::new("sum", [1, 2])?;
/// let message = JsonRpc.request_message(7, &call)?;
/// assert_eq!(message.as_text(), Some(r#"{"jsonrpc":"2.0","id":7,"method":"sum","params":[1,2]}"#));
///
/// let reply = JsonRpc.classify(&Message::from(r#"{"jsonrpc":"2.0","id":7,"result":3}"#));
/// assert_eq!(reply, Incoming::Reply { id: 7, reply: Ok(serde_json::json!(3)) });
/// # Ok::<(), browser_websocket::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JsonRpc;

/// A JSON-RPC call: a method and its parameters.
///
/// # Example
///
/// ```
/// use browser_websocket::JsonRpcCall;
/// let call = JsonRpcCall::new("subtract", serde_json::json!({"minuend": 42, "subtrahend": 23}))?;
/// assert_eq!(call.method(), "subtract");
/// let ping = JsonRpcCall::without_params("ping");
/// assert_eq!(ping.params(), None);
/// # Ok::<(), browser_websocket::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct JsonRpcCall {
    method: String,
    params: Option<Value>,
}

impl JsonRpcCall {
    /// A call of `method` with `params` (by position, an array, or by name,
    /// an object).
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if `params` cannot be serialized.
    ///
    /// # Example
    ///
    /// ```
    /// let call = browser_websocket::JsonRpcCall::new("sum", [1, 2])?;
    /// assert_eq!(call.params(), Some(&serde_json::json!([1, 2])));
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn new(method: impl Into<String>, params: impl Serialize) -> Result<Self> {
        let params = serde_json::to_value(params).map_err(|error| Error::Json {
            message: error.to_string(),
        })?;
        Ok(Self {
            method: method.into(),
            params: Some(params),
        })
    }

    /// A call of `method` without parameters.
    ///
    /// # Example
    ///
    /// ```
    /// let call = browser_websocket::JsonRpcCall::without_params("ping");
    /// assert_eq!(call.method(), "ping");
    /// ```
    pub fn without_params(method: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            params: None,
        }
    }

    /// The method called.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(browser_websocket::JsonRpcCall::without_params("ping").method(), "ping");
    /// ```
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The parameters, if any.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(browser_websocket::JsonRpcCall::without_params("ping").params(), None);
    /// ```
    pub fn params(&self) -> Option<&Value> {
        self.params.as_ref()
    }
}

/// A JSON-RPC error response's `error` object.
///
/// # Example
///
/// ```
/// use browser_websocket::{Incoming, JsonRpc, JsonRpcError, Message, Protocol};
/// let text = r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found"}}"#;
/// let Incoming::Reply { reply: Err(error), .. } = JsonRpc.classify(&Message::from(text)) else {
///     panic!("an error reply");
/// };
/// assert_eq!(error.code, -32601);
/// assert_eq!(error.message, "Method not found");
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize, thiserror::Error)]
#[error("JSON-RPC error {code}: {message}")]
pub struct JsonRpcError {
    /// The error code (-32768 to -32000 are the specification's).
    pub code: i64,
    /// The server's short description.
    pub message: String,
    /// What else the server sent, if anything.
    #[serde(default)]
    pub data: Option<Value>,
}

#[derive(Serialize)]
struct Outgoing<'a> {
    jsonrpc: &'static str,
    id: u64,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a Value>,
}

/// The parts of an incoming message that tell a response from anything else;
/// the rest is skipped without being built.
#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    error: Option<Value>,
    #[serde(default)]
    method: Option<IgnoredAny>,
}

/// A member that is there, even as `null` (`"result": null` is a result;
/// `"error": null` a malformed error reply), unlike one that is not.
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

impl Protocol for JsonRpc {
    type Request = JsonRpcCall;
    type Reply = Value;
    type Rejection = JsonRpcError;

    fn request_message(&self, id: u64, call: &JsonRpcCall) -> Result<Message> {
        Message::json(&Outgoing {
            jsonrpc: "2.0",
            id,
            method: &call.method,
            params: call.params.as_ref(),
        })
    }

    fn classify(&self, message: &Message) -> Incoming<Value, JsonRpcError> {
        let Some(bytes) = json_object(message) else {
            return Incoming::Other;
        };
        let parsed = serde_json::from_slice::<Response>(bytes);
        let Ok(response) = parsed else {
            return Incoming::Other;
        };
        // A request or notification from the server, or a response to an id
        // this client never gives (strings, null, negative numbers).
        let Some(id) = response.id.as_ref().and_then(Value::as_u64) else {
            return Incoming::Other;
        };
        if response.method.is_some() {
            return Incoming::Other;
        }
        match (response.result, response.error) {
            (Some(result), None) => Incoming::Reply {
                id,
                reply: Ok(result),
            },
            (None, Some(error)) => match serde_json::from_value::<JsonRpcError>(error.clone()) {
                Ok(error) => Incoming::Reply {
                    id,
                    reply: Err(error),
                },
                Err(_) => Incoming::Malformed {
                    id,
                    reason: format!(
                        "the error response's \"error\" is not an object with an integer \"code\" \
                         and a string \"message\": {error}"
                    ),
                },
            },
            (Some(_), Some(_)) => Incoming::Malformed {
                id,
                reason: "the response has both \"result\" and \"error\"".to_owned(),
            },
            (None, None) => Incoming::Malformed {
                id,
                reason: "the response has neither \"result\" nor \"error\"".to_owned(),
            },
        }
    }
}

/// A text or binary message that may hold a JSON object: only an object is a
/// response or a notification (serde would read a struct from an array too,
/// by position).
pub(crate) fn json_object(message: &Message) -> Option<&[u8]> {
    let bytes = match message {
        Message::Text(text) => text.as_bytes(),
        Message::Binary(bytes) => bytes.as_slice(),
        _ => return None,
    };
    (bytes.trim_ascii_start().first() == Some(&b'{')).then_some(bytes)
}

/// The parts of an incoming message that make it a notification.
#[derive(Deserialize)]
struct Notification {
    #[serde(default)]
    id: Option<IgnoredAny>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    notification: Option<String>,
    #[serde(default)]
    params: Option<Value>,
}

/// Subscribing the way rpc-websockets servers do: `rpc.on` and `rpc.off`
/// with the event's name; an item is a notification whose `notification` (or,
/// as JSON-RPC 2.0 writes notifications, whose `method`) is the topic, and
/// the item its `params` (`null` when it has none).
impl Subscriptions for JsonRpc {
    type Topic = String;
    type Item = Value;

    fn subscribe(&self, topic: &String) -> JsonRpcCall {
        JsonRpcCall {
            method: "rpc.on".to_owned(),
            params: Some(Value::Array(vec![Value::String(topic.clone())])),
        }
    }

    fn unsubscribe(&self, topic: &String) -> Option<JsonRpcCall> {
        Some(JsonRpcCall {
            method: "rpc.off".to_owned(),
            params: Some(Value::Array(vec![Value::String(topic.clone())])),
        })
    }

    fn item(&self, message: &Message) -> Option<(String, Value)> {
        let notification = serde_json::from_slice::<Notification>(json_object(message)?).ok()?;
        // A request from the server has an id: not an item.
        if notification.id.is_some() {
            return None;
        }
        let topic = notification.notification.or(notification.method)?;
        Some((topic, notification.params.unwrap_or(Value::Null)))
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use serde_json::json;

    fn classify(text: &str) -> Incoming<Value, JsonRpcError> {
        JsonRpc.classify(&Message::from(text))
    }

    #[test]
    fn a_call_is_a_json_rpc_request_with_the_layers_id() {
        let message = JsonRpc
            .request_message(1, &JsonRpcCall::without_params("ping"))
            .unwrap();
        assert_eq!(
            message.as_text(),
            Some(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        );
    }

    #[test]
    fn results_and_errors_are_replies() {
        assert_eq!(
            classify(r#"{"jsonrpc":"2.0","result":{"a":[1]},"id":9}"#),
            Incoming::Reply {
                id: 9,
                reply: Ok(json!({"a": [1]}))
            }
        );
        // A null result is a result.
        assert_eq!(
            classify(r#"{"jsonrpc":"2.0","id":9,"result":null}"#),
            Incoming::Reply {
                id: 9,
                reply: Ok(Value::Null)
            }
        );
        assert_eq!(
            classify(
                r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32000,"message":"no","data":[1]}}"#
            ),
            Incoming::Reply {
                id: 2,
                reply: Err(JsonRpcError {
                    code: -32000,
                    message: "no".into(),
                    data: Some(json!([1]))
                })
            }
        );
    }

    #[test]
    fn a_reply_that_cannot_be_read_is_malformed_not_lost() {
        for text in [
            r#"{"jsonrpc":"2.0","id":4,"error":null}"#,
            r#"{"jsonrpc":"2.0","id":4,"error":"boom"}"#,
            r#"{"jsonrpc":"2.0","id":4,"error":{"message":"no code"}}"#,
            r#"{"jsonrpc":"2.0","id":4}"#,
            r#"{"jsonrpc":"2.0","id":4,"result":1,"error":{"code":1,"message":"x"}}"#,
        ] {
            assert!(
                matches!(classify(text), Incoming::Malformed { id: 4, .. }),
                "{text}"
            );
        }
    }

    #[test]
    fn everything_else_is_an_ordinary_message() {
        for text in [
            "not json",
            "[1,2]",
            r#"{"jsonrpc":"2.0","method":"update","params":[1]}"#,
            r#"{"notification":"feed","params":[]}"#,
            r#"{"jsonrpc":"2.0","id":"7","result":1}"#,
            r#"{"jsonrpc":"2.0","id":-1,"result":1}"#,
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
            r#"{"jsonrpc":"2.0","id":5,"method":"server.asks","params":[]}"#,
        ] {
            assert_eq!(classify(text), Incoming::Other, "{text}");
        }
        assert_eq!(
            JsonRpc.classify(&Message::Binary(br#"{"id":1,"result":2}"#.to_vec())),
            Incoming::Reply {
                id: 1,
                reply: Ok(json!(2))
            }
        );
    }

    #[test]
    fn notifications_are_items_of_their_topic() {
        let item = |text: &str| JsonRpc.item(&Message::from(text));
        assert_eq!(
            item(r#"{"notification":"tick","params":{"n":1}}"#),
            Some(("tick".to_owned(), json!({"n": 1})))
        );
        assert_eq!(
            item(r#"{"jsonrpc":"2.0","method":"tick"}"#),
            Some(("tick".to_owned(), Value::Null))
        );
        for text in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tick"}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":2}"#,
            "[1]",
            "tick",
        ] {
            assert_eq!(item(text), None, "{text}");
        }
        assert_eq!(
            JsonRpc.subscribe(&"tick".to_owned()),
            JsonRpcCall::new("rpc.on", ["tick"]).unwrap()
        );
    }

    proptest::proptest! {
        /// Any text, and any JSON built from response-like parts, is read
        /// without a panic; a response with a valid id and one of `result`
        /// or a proper `error` is always that id's reply.
        #[test]
        fn any_input_is_classified_without_a_panic(text in ".{0,64}", id in 1u64.., result in proptest::option::of(-5i64..5)) {
            let _ = classify(&text);
            let response = match result {
                Some(value) => json!({"jsonrpc": "2.0", "id": id, "result": value}),
                None => json!({"jsonrpc": "2.0", "id": id, "error": {"code": -1, "message": text}}),
            };
            let classified = classify(&response.to_string());
            let replied = matches!(classified, Incoming::Reply { id: got, .. } if got == id);
            proptest::prop_assert!(replied, "{:?}", classified);
        }
    }
}
