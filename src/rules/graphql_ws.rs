//! The graphql-transport-ws protocol (the npm package `graphql-ws`'s, and
//! Apollo's and Hasura's servers') as a [`Protocol`] (feature `json`): each
//! connection opens with `connection_init` and waits for `connection_ack`; a
//! query or mutation is a `subscribe` whose first `next` is its reply; a
//! subscription is a `subscribe` that stays open, its `next`s items, ended by
//! the server's `complete` or `error` or by the client's `complete`; `ping`
//! is answered with `pong`.
//!
//! The socket must be opened with the subprotocol `graphql-transport-ws`
//! ([`GRAPHQL_TRANSPORT_WS`]): the server closes any other with 4406.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::rules::error::{Error, Result};
use crate::rules::json_rpc::{json_object, present};
use crate::rules::message::Message;
use crate::rules::requests::{Incoming, Protocol, Subscriptions};

/// The subprotocol to open the socket with.
///
/// ```no_run
/// # async fn demo() -> browser_websocket::Result<()> {
/// use browser_websocket::{WebSocket, GRAPHQL_TRANSPORT_WS};
/// let socket = WebSocket::builder("/graphql").protocols([GRAPHQL_TRANSPORT_WS]).connect().await?;
/// # Ok(()) }
/// ```
pub const GRAPHQL_TRANSPORT_WS: &str = "graphql-transport-ws";

/// The graphql-transport-ws protocol, for
/// [`RequestClient`](crate::RequestClient).
///
/// A request's reply is the first `next` payload (the GraphQL execution
/// result: `data`, and `errors` where execution failed in part); an `error`
/// message (the operation was invalid) rejects it with the list of GraphQL
/// errors. Subscriptions ([`RequestClient::subscribe`](crate::RequestClient::subscribe))
/// yield each `next` payload, end quietly on the server's `complete`, end
/// with [`RequestError::Rejected`](crate::RequestError::Rejected) on its
/// `error`, are subscribed again on every new connection of a reconnecting
/// socket (after its handshake), and send `complete` when the last reader is
/// dropped.
///
/// # Example
///
/// ```
/// use browser_websocket::{GraphqlRequest, GraphqlWs, Incoming, Message, Protocol};
///
/// let hello = GraphqlRequest::new("query ($name: String) { hello(name: $name) }")
///     .variables(serde_json::json!({"name": "web"}))?;
/// let message = GraphqlWs::new().request_message(3, &hello)?;
/// assert_eq!(
///     message.as_text(),
///     Some(r#"{"id":"3","type":"subscribe","payload":{"query":"query ($name: String) { hello(name: $name) }","variables":{"name":"web"}}}"#)
/// );
/// let reply = GraphqlWs::new().classify(&Message::from(r#"{"id":"3","type":"next","payload":{"data":{"hello":"hi web"}}}"#));
/// assert_eq!(reply, Incoming::Reply { id: 3, reply: Ok(serde_json::json!({"data": {"hello": "hi web"}})) });
/// # Ok::<(), browser_websocket::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphqlWs {
    init_payload: Option<Value>,
}

impl GraphqlWs {
    /// The protocol, with a `connection_init` that carries no payload.
    ///
    /// ```
    /// let protocol = browser_websocket::GraphqlWs::new();
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends `payload` with every `connection_init` (the server's
    /// `connectionParams`: where a browser app puts its auth token, since
    /// it cannot set headers on the upgrade).
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if `payload` cannot be serialized.
    ///
    /// ```
    /// let protocol = browser_websocket::GraphqlWs::new().init_payload(serde_json::json!({"token": "t0k"}))?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn init_payload(mut self, payload: impl Serialize) -> Result<Self> {
        self.init_payload = Some(to_value(payload)?);
        Ok(self)
    }
}

/// A GraphQL operation: its document, and its variables and operation name
/// if any. A subscription's topic too: two readers of the same operation
/// share one subscription on the server.
///
/// # Example
///
/// ```
/// use browser_websocket::GraphqlRequest;
/// let count = GraphqlRequest::new("subscription Count($to: Int!) { count(to: $to) }")
///     .variables(serde_json::json!({"to": 3}))?
///     .operation_name("Count");
/// assert_eq!(count.query(), "subscription Count($to: Int!) { count(to: $to) }");
/// # Ok::<(), browser_websocket::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GraphqlRequest {
    query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    variables: Option<Value>,
    #[serde(rename = "operationName", skip_serializing_if = "Option::is_none")]
    operation_name: Option<String>,
}

impl GraphqlRequest {
    /// An operation with no variables.
    ///
    /// ```
    /// let request = browser_websocket::GraphqlRequest::new("{ hello }");
    /// ```
    pub fn new(query: impl Into<String>) -> Self {
        Self {
            query: query.into(),
            variables: None,
            operation_name: None,
        }
    }

    /// The operation's variables (a JSON object).
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if `variables` cannot be serialized.
    ///
    /// ```
    /// let request = browser_websocket::GraphqlRequest::new("query ($n: Int) { n(n: $n) }")
    ///     .variables(serde_json::json!({"n": 1}))?;
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn variables(mut self, variables: impl Serialize) -> Result<Self> {
        self.variables = Some(to_value(variables)?);
        Ok(self)
    }

    /// Which operation of the document to run.
    ///
    /// ```
    /// let request = browser_websocket::GraphqlRequest::new("query A { a } query B { b }").operation_name("B");
    /// ```
    pub fn operation_name(mut self, name: impl Into<String>) -> Self {
        self.operation_name = Some(name.into());
        self
    }

    /// The document.
    ///
    /// ```
    /// assert_eq!(browser_websocket::GraphqlRequest::new("{ hello }").query(), "{ hello }");
    /// ```
    pub fn query(&self) -> &str {
        &self.query
    }

    /// What orders topics: the variables by their JSON text (object keys
    /// sorted), since a JSON value has no order of its own.
    fn sort_key(&self) -> (&str, Option<String>, Option<&str>) {
        (
            &self.query,
            self.variables.as_ref().map(Value::to_string),
            self.operation_name.as_deref(),
        )
    }
}

impl PartialOrd for GraphqlRequest {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for GraphqlRequest {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

fn to_value(value: impl Serialize) -> Result<Value> {
    serde_json::to_value(value).map_err(|error| Error::Json {
        message: error.to_string(),
    })
}

/// A message as sent.
#[derive(Serialize)]
struct Outgoing<'a, P: Serialize> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<P>,
}

fn outgoing(kind: &str, id: Option<u64>, payload: Option<impl Serialize>) -> Result<Message> {
    Message::json(&Outgoing {
        id: id.map(|id| id.to_string()),
        kind,
        payload,
    })
}

/// A message as received: its type, and its id and payload if any.
#[derive(Deserialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    payload: Option<Value>,
}

impl Frame {
    fn read(message: &Message) -> Option<Self> {
        serde_json::from_slice(json_object(message)?).ok()
    }

    /// The id, if it is one this client gives: a request's id in decimal.
    fn our_id(&self) -> Option<u64> {
        let id = self.id.as_ref()?.as_str()?;
        if id.is_empty() || !id.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        id.parse().ok()
    }
}

impl Protocol for GraphqlWs {
    type Request = GraphqlRequest;
    type Reply = Value;
    /// The `error` message's GraphQL errors (each an object with at least a
    /// `message`).
    type Rejection = Vec<Value>;

    fn request_message(&self, id: u64, request: &GraphqlRequest) -> Result<Message> {
        outgoing("subscribe", Some(id), Some(request))
    }

    fn classify(&self, message: &Message) -> Incoming<Value, Vec<Value>> {
        let Some(frame) = Frame::read(message) else {
            return Incoming::Other;
        };
        match frame.kind.as_str() {
            "connection_ack" => return Incoming::Accepted,
            "ping" => {
                let answer = outgoing("pong", None, frame.payload.as_ref()).ok();
                return Incoming::Control { answer };
            }
            "pong" => return Incoming::Control { answer: None },
            _ => {}
        }
        let Some(id) = frame.our_id() else {
            return Incoming::Other;
        };
        match (frame.kind.as_str(), frame.payload) {
            ("next", Some(payload)) => Incoming::Reply {
                id,
                reply: Ok(payload),
            },
            ("next", None) => Incoming::Malformed {
                id,
                reason: "a \"next\" message without a payload".to_owned(),
            },
            ("error", Some(Value::Array(errors))) if !errors.is_empty() => Incoming::Reply {
                id,
                reply: Err(errors),
            },
            ("error", payload) => Incoming::Malformed {
                id,
                reason: format!(
                    "an \"error\" message whose payload is not a list of GraphQL errors: {}",
                    payload.unwrap_or(Value::Null)
                ),
            },
            ("complete", _) => Incoming::Complete { id },
            _ => Incoming::Other,
        }
    }

    /// `complete` for the request: the server stops the operation.
    fn cancel_message(&self, id: u64) -> Option<Message> {
        outgoing("complete", Some(id), None::<()>).ok()
    }

    /// `connection_init`, with the payload if one was given.
    fn handshake(&self) -> Option<Message> {
        outgoing("connection_init", None, self.init_payload.as_ref()).ok()
    }
}

/// A subscription is an operation (normally a `subscription`) that stays
/// open: its topic is the [`GraphqlRequest`] itself, its items the `next`
/// payloads.
impl Subscriptions for GraphqlWs {
    type Topic = GraphqlRequest;
    type Item = Value;

    fn subscribe(&self, topic: &GraphqlRequest) -> GraphqlRequest {
        topic.clone()
    }

    /// None: the client's `complete` ([`Protocol::cancel_message`]) ends it.
    fn unsubscribe(&self, _topic: &GraphqlRequest) -> Option<GraphqlRequest> {
        None
    }

    /// None: items name their subscribe request, not a topic.
    fn item(&self, _message: &Message) -> Option<(GraphqlRequest, Value)> {
        None
    }

    fn subscribe_is_answered(&self) -> bool {
        false
    }

    fn item_of_request(&self, message: &Message) -> Option<(u64, Value)> {
        let frame = Frame::read(message)?;
        if frame.kind != "next" {
            return None;
        }
        Some((frame.our_id()?, frame.payload?))
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn classify(text: &str) -> Incoming<Value, Vec<Value>> {
        GraphqlWs::new().classify(&Message::from(text))
    }

    #[test]
    fn the_handshake_carries_the_init_payload() {
        let bare = GraphqlWs::new().handshake().unwrap();
        assert_eq!(bare.as_text(), Some(r#"{"type":"connection_init"}"#));
        let with_token = GraphqlWs::new()
            .init_payload(json!({"token": "t"}))
            .unwrap()
            .handshake()
            .unwrap();
        assert_eq!(
            with_token.as_text(),
            Some(r#"{"type":"connection_init","payload":{"token":"t"}}"#)
        );
        assert_eq!(classify(r#"{"type":"connection_ack"}"#), Incoming::Accepted);
        assert_eq!(
            classify(r#"{"type":"connection_ack","payload":{"x":1}}"#),
            Incoming::Accepted
        );
    }

    #[test]
    fn a_ping_is_answered_with_a_pong_carrying_its_payload() {
        let Incoming::Control { answer: Some(pong) } =
            classify(r#"{"type":"ping","payload":{"n":1}}"#)
        else {
            panic!("a ping is control traffic with an answer");
        };
        assert_eq!(pong.as_text(), Some(r#"{"type":"pong","payload":{"n":1}}"#));
        let Incoming::Control { answer: Some(pong) } = classify(r#"{"type":"ping"}"#) else {
            panic!("a ping without payload too");
        };
        assert_eq!(pong.as_text(), Some(r#"{"type":"pong"}"#));
        assert_eq!(
            classify(r#"{"type":"pong"}"#),
            Incoming::Control { answer: None }
        );
    }

    #[test]
    fn next_error_and_complete_are_about_the_requests_id() {
        assert_eq!(
            classify(r#"{"id":"4","type":"next","payload":{"data":{"a":1}}}"#),
            Incoming::Reply {
                id: 4,
                reply: Ok(json!({"data": {"a": 1}}))
            }
        );
        assert_eq!(
            classify(r#"{"id":"4","type":"error","payload":[{"message":"bad"}]}"#),
            Incoming::Reply {
                id: 4,
                reply: Err(vec![json!({"message": "bad"})])
            }
        );
        assert_eq!(
            classify(r#"{"id":"4","type":"complete"}"#),
            Incoming::Complete { id: 4 }
        );
        assert_eq!(
            GraphqlWs::new().cancel_message(4).unwrap().as_text(),
            Some(r#"{"id":"4","type":"complete"}"#)
        );
    }

    #[test]
    fn a_reply_that_cannot_be_read_is_malformed_not_lost() {
        for text in [
            r#"{"id":"4","type":"next"}"#,
            r#"{"id":"4","type":"error"}"#,
            r#"{"id":"4","type":"error","payload":[]}"#,
            r#"{"id":"4","type":"error","payload":{"message":"not a list"}}"#,
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
            r#"{"no":"type"}"#,
            r#"{"id":"abc","type":"next","payload":{}}"#,
            r#"{"id":"+4","type":"next","payload":{}}"#,
            r#"{"id":4,"type":"next","payload":{}}"#,
            r#"{"type":"next","payload":{}}"#,
            r#"{"id":"4","type":"subscribe","payload":{}}"#,
        ] {
            assert_eq!(classify(text), Incoming::Other, "{text}");
        }
        assert_eq!(
            GraphqlWs::new().classify(&Message::Binary(br#"{"type":"connection_ack"}"#.to_vec())),
            Incoming::Accepted,
            "a binary frame holding JSON is read as text is"
        );
    }

    #[test]
    fn items_name_their_subscribe_request() {
        let protocol = GraphqlWs::new();
        let next = Message::from(r#"{"id":"9","type":"next","payload":{"data":{"count":1}}}"#);
        assert_eq!(
            protocol.item_of_request(&next),
            Some((9, json!({"data": {"count": 1}})))
        );
        assert_eq!(protocol.item(&next), None);
        assert!(!protocol.subscribe_is_answered());
        assert_eq!(
            protocol.item_of_request(&Message::from(r#"{"id":"9","type":"complete"}"#)),
            None
        );
    }

    #[test]
    fn topics_with_the_same_variables_are_one_topic() {
        let a = GraphqlRequest::new("q")
            .variables(json!({"a": 1, "b": 2}))
            .unwrap();
        let b = GraphqlRequest::new("q")
            .variables(json!({"b": 2, "a": 1}))
            .unwrap();
        assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
        let c = GraphqlRequest::new("q").variables(json!({"a": 2})).unwrap();
        assert_ne!(a.cmp(&c), std::cmp::Ordering::Equal);
        assert_eq!(a.cmp(&c), c.cmp(&a).reverse());
    }

    proptest! {
        #[test]
        fn any_input_is_classified_without_a_panic(
            kind in "(next|error|complete|ping|pong|connection_ack|x)",
            id in proptest::option::of("[0-9a-z+-]{0,22}"),
            payload in proptest::option::of(prop_oneof![Just("null"), Just("[]"), Just("{}"), Just("[{\"message\":\"m\"}]"), Just("7")]),
            junk in ".{0,32}",
        ) {
            let mut text = format!(r#"{{"type":"{kind}""#);
            if let Some(id) = &id {
                text.push_str(&format!(r#","id":"{id}""#));
            }
            if let Some(payload) = payload {
                text.push_str(&format!(r#","payload":{payload}"#));
            }
            text.push('}');
            let protocol = GraphqlWs::new();
            let _ = protocol.classify(&Message::from(text.as_str()));
            let _ = protocol.item_of_request(&Message::from(text.as_str()));
            let _ = protocol.classify(&Message::from(junk.as_str()));
            // An id that is not all digits is never taken for a request's.
            if let Some(id) = id.filter(|id| !id.bytes().all(|b| b.is_ascii_digit()) || id.is_empty()) {
                let taken = matches!(
                    protocol.classify(&Message::from(text.as_str())),
                    Incoming::Reply { .. } | Incoming::Malformed { .. } | Incoming::Complete { .. }
                );
                prop_assert!(!taken, "id {id:?} taken");
            }
        }
    }
}
