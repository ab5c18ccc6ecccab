//! Verifies the request layer ([`RequestClient`]) through the public API, with
//! JSON-RPC 2.0 against a server nobody here wrote (the npm package
//! rpc-websockets, `conformance/rpc/`), and against the test server's echo
//! for what that server never sends:
//! - replies reach their requests whatever order they come in;
//! - error replies are `Rejected` with their payload; one without its error
//!   object is `MalformedReply`; an unknown method is the server's -32601;
//! - notifications, and replies nobody waits for, reach `Messages` in order;
//! - a timeout fails the request, and its late reply goes to `Messages`;
//! - a dropped connection fails every request in flight and every later one
//!   with `Disconnected`; the app's close fails them with `Closed`;
//! - past the bound a request is refused and not sent;
//! - dropping a request's future forgets it; dropping the client and its
//!   `Messages` closes the socket and releases everything;
//! - on a reconnecting socket, a drop fails the requests sent on it but those
//!   made to be resent, which are sent again on the next connection and
//!   answered there; a request made while down waits in the queue and is
//!   answered on the next connection;
//! - a subscription gets its topic's items (every reader of a topic gets
//!   each); dropping the last reader unsubscribes; on a reconnecting socket
//!   the topic is subscribed again on the next connection, each reader told
//!   (walked by the scenario table, `tests/scenarios`, on both backends);
//!   a reader not read ends past the receive limit, saying so; a topic the
//!   server refuses ends its readers with the server's error;
//! - an acknowledged message moves Sent -> Acked with the server's reply, or
//!   Failed with its refusal; on a reconnecting socket one made while down is
//!   Queued until the next connection, and one whose connection drops before
//!   the acknowledgement goes back to Queued, is sent again with the same id
//!   and is acknowledged; on a plain socket a drop fails it;
//! - with an outbox, a message not acknowledged when its client ends is kept
//!   in IndexedDB, taken back by the next client of that name (as after a
//!   reload: the same page, a new client), sent again and acknowledged, and
//!   then gone from the outbox;
//! - dropping a request's future sends the protocol's cancel message;
//!   dropping `Messages` leaves the requests working; a topic subscribed while
//!   down is subscribed on the next connection; a reconnecting socket that
//!   gives up fails what waits with `Disconnected`.

use crate::common::*;
use browser_websocket::{
    DeliveryStatus, Error, Incoming, JsonRpc, JsonRpcCall, JsonRpcError, Message, Protocol,
    ReconnectingWebSocket, RequestClient, RequestError, RequestOptions, SubscriptionEvent,
    Subscriptions, WebSocket,
};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use wasm_bindgen_test::*;

/// The origin of the rpc-websockets server, given at compile time by the test
/// command; 9005 when run by hand.
pub(crate) const RPC_SERVER: &str = match option_env!("WS_RPC_SERVER") {
    Some(server) => server,
    None => "ws://127.0.0.1:9005",
};

async fn rpc_client() -> (RequestClient<JsonRpc>, browser_websocket::Messages<JsonRpc>) {
    let socket = WebSocket::connect(&format!("{RPC_SERVER}/")).await.unwrap();
    RequestClient::new(socket, JsonRpc)
}

pub(crate) fn call(method: &str, params: Value) -> JsonRpcCall {
    JsonRpcCall::new(method, params).unwrap()
}

async fn next_text(messages: &mut browser_websocket::Messages<JsonRpc>) -> String {
    match within(5_000, "an ordinary message", messages.next()).await {
        Some(Ok(Message::Text(text))) => text,
        other => panic!("expected a text message, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn replies_reach_their_requests_in_whatever_order_they_come() {
    let (client, _messages) = rpc_client().await;
    let slow = client.request(call("sleep", json!([300, "slow"])));
    let quick = client.request(call("sleep", json!([10, "quick"])));
    let sum = client.request(call("sum", json!([1, 2, 3])));
    assert_eq!(client.in_flight(), 3);
    let (slow, quick, sum) = within(5_000, "three replies", async {
        futures_util::join!(slow, quick, sum)
    })
    .await;
    assert_eq!(slow, Ok(json!("slow")));
    assert_eq!(quick, Ok(json!("quick")));
    assert_eq!(sum, Ok(json!(6)));
    assert_eq!(client.in_flight(), 0);
    // The longest timeout is taken as "as long as a timer can wait".
    let patient = client.request_with_timeout(call("sum", json!([1])), Duration::MAX);
    assert_eq!(within(5_000, "a reply", patient).await, Ok(json!(1)));
}

#[wasm_bindgen_test]
async fn error_replies_are_rejected_with_their_payload() {
    let (client, _messages) = rpc_client().await;
    let failed = client.request(call("fail", json!([]))).await;
    assert_eq!(
        failed,
        Err(RequestError::Rejected(JsonRpcError {
            code: -32000,
            message: "Error".into(),
            data: Some(json!("it failed on purpose")),
        }))
    );
    let unknown = client
        .request(JsonRpcCall::without_params("no.such.method"))
        .await;
    assert!(
        matches!(&unknown, Err(RequestError::Rejected(error)) if error.code == -32601),
        "{unknown:?}"
    );
    // rpc-websockets sends what was thrown as the error, unchecked.
    let malformed = client
        .request(call("fail_without_message", json!([])))
        .await;
    assert!(
        matches!(&malformed, Err(RequestError::MalformedReply { reason }) if reason.contains("\"code\":7")),
        "{malformed:?}"
    );
}

#[wasm_bindgen_test]
async fn notifications_reach_the_ordinary_stream_in_order() {
    let (client, mut messages) = rpc_client().await;
    let topic = own_topic(&client).await;
    let subscribed = client.request(call("rpc.on", json!([topic]))).await;
    assert_eq!(subscribed, Ok(json!({ topic.clone(): "ok" })));
    for n in 1..=3 {
        assert_eq!(client.request(tick_on(&topic, n)).await, Ok(json!(n)));
    }
    for n in 1..=3 {
        let notification: Value = serde_json::from_str(&next_text(&mut messages).await).unwrap();
        assert_eq!(
            notification,
            json!({"notification": topic, "params": {"n": n}})
        );
    }
}

#[wasm_bindgen_test]
async fn a_request_times_out_and_its_late_reply_goes_to_the_stream() {
    let (client, mut messages) = rpc_client().await;
    // A request with the default 30 s is in flight first: the shorter
    // timeout still fires on time.
    let patient = client.request(call("sleep", json!([2_000, "patient"])));
    let timeout = Duration::from_millis(50);
    let late = client.request_with_timeout(call("sleep", json!([300, "late"])), timeout);
    let late = within(1_000, "the shorter timeout", late).await;
    assert_eq!(late, Err(RequestError::TimedOut(timeout)));
    drop(patient);
    assert_eq!(client.in_flight(), 0);
    let reply: Value = serde_json::from_str(&next_text(&mut messages).await).unwrap();
    assert_eq!(reply["result"], json!("late"));
    // The client goes on.
    assert_eq!(
        client.request(call("sum", json!([2, 2]))).await,
        Ok(json!(4))
    );
}

#[wasm_bindgen_test]
async fn a_dropped_connection_fails_every_request_in_flight_and_later_ones() {
    let (client, mut messages) = rpc_client().await;
    let waiting = client.request(call("sleep", json!([5_000])));
    let also_waiting = client.request(call("sleep", json!([5_000])));
    assert_eq!(
        client.request(call("drop_me", json!([50]))).await,
        Ok(json!("dropping"))
    );
    let (waiting, also_waiting) = within(5_000, "the drop", async {
        futures_util::join!(waiting, also_waiting)
    })
    .await;
    assert_eq!(waiting, Err(RequestError::Disconnected));
    assert_eq!(also_waiting, Err(RequestError::Disconnected));
    let ended = within(5_000, "the stream's error", messages.next()).await;
    assert!(
        matches!(ended, Some(Err(Error::ConnectionClosed { .. }))),
        "{ended:?}"
    );
    assert!(messages.next().await.is_none());
    assert_eq!(
        client.request(call("sum", json!([1]))).await,
        Err(RequestError::Disconnected)
    );
}

#[wasm_bindgen_test]
async fn the_apps_close_fails_requests_in_flight_with_closed() {
    let (client, mut messages) = rpc_client().await;
    let waiting = client.request(call("sleep", json!([5_000])));
    client.close_normal().unwrap();
    assert_eq!(
        within(5_000, "the close", waiting).await,
        Err(RequestError::Closed)
    );
    assert!(within(5_000, "the stream's end", messages.next())
        .await
        .is_none());
    assert_eq!(
        client.request(call("sum", json!([1]))).await,
        Err(RequestError::Closed)
    );
}

#[wasm_bindgen_test]
async fn past_the_bound_a_request_is_refused_and_not_sent() {
    let socket = WebSocket::connect(&format!("{RPC_SERVER}/")).await.unwrap();
    let (client, _messages) = RequestClient::builder(JsonRpc)
        .max_in_flight(2, 1 << 20)
        .build(socket);
    let first = client.request(call("sleep", json!([100, 1])));
    let second = client.request(call("sleep", json!([100, 2])));
    let refused = client.request(call("sum", json!([1]))).await;
    assert!(
        matches!(
            refused,
            Err(RequestError::TooManyInFlight { requests: 2, .. })
        ),
        "{refused:?}"
    );
    assert_eq!(first.await, Ok(json!(1)));
    assert_eq!(second.await, Ok(json!(2)));
    // Room again.
    assert_eq!(client.request(call("sum", json!([1]))).await, Ok(json!(1)));
}

#[wasm_bindgen_test]
async fn a_dropped_request_is_forgotten_and_its_reply_goes_to_the_stream() {
    let (client, mut messages) = rpc_client().await;
    drop(client.request(call("sleep", json!([50, "forgotten"]))));
    assert_eq!(client.in_flight(), 0);
    let reply: Value = serde_json::from_str(&next_text(&mut messages).await).unwrap();
    assert_eq!(reply["result"], json!("forgotten"));
}

#[wasm_bindgen_test]
async fn replies_nobody_waits_for_and_requests_echoed_are_ordinary_messages() {
    // The echo returns what the client sends: a reply to an id never given,
    // and a request (which is not a reply, so its own request times out).
    let socket = WebSocket::connect(&url("/echo")).await.unwrap();
    let (client, mut messages) = RequestClient::new(socket, JsonRpc);
    let stray = r#"{"jsonrpc":"2.0","id":99,"result":"nobody asked"}"#;
    client.send_message(&Message::from(stray)).unwrap();
    let echoed = client
        .request_with_timeout(
            JsonRpcCall::without_params("ping"),
            Duration::from_millis(300),
        )
        .await;
    assert_eq!(
        echoed,
        Err(RequestError::TimedOut(Duration::from_millis(300)))
    );
    let first = within(5_000, "the stray reply", messages.next()).await;
    assert_eq!(first, Some(Ok(Message::from(stray))));
    let second = within(5_000, "the echoed request", messages.next()).await;
    assert_eq!(
        second,
        Some(Ok(Message::from(
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
        )))
    );
}

#[wasm_bindgen_test]
async fn dropping_the_client_and_its_messages_closes_the_socket() {
    // Earlier tests' clients close as their routing tasks end: let them.
    wait_until("the earlier tests' sockets to close", || {
        browser_websocket::live_sockets() == 0
    })
    .await;
    let callbacks = browser_websocket::live_js_callbacks();
    let (client, messages) = rpc_client().await;
    let waiting = client.request(call("sleep", json!([5_000])));
    assert_eq!(browser_websocket::live_sockets(), 1);
    drop(waiting);
    drop(client);
    drop(messages);
    wait_until("the socket and its callbacks released", || {
        browser_websocket::live_sockets() == 0
            && browser_websocket::live_js_callbacks() <= callbacks
    })
    .await;
}

/// A client on a reconnecting socket to the JSON-RPC server that waits 400 ms
/// before each reconnection (a window to make requests while down in).
async fn reconnecting_rpc_client() -> (RequestClient<JsonRpc>, browser_websocket::Messages<JsonRpc>)
{
    let policy = fast_policy().delays(Duration::from_millis(400), Duration::from_millis(400));
    let (client, messages) = RequestClient::builder(JsonRpc).build_reconnecting(
        ReconnectingWebSocket::builder(format!("{RPC_SERVER}/")).policy(policy),
    );
    wait_until("the first connection", || client.is_connected()).await;
    (client, messages)
}

#[wasm_bindgen_test]
async fn on_a_reconnecting_socket_a_drop_fails_some_requests_and_resends_the_others() {
    let (client, _messages) = reconnecting_rpc_client().await;
    let failing = client.request(call("sleep", json!([1_000, "failing"])));
    let resent = client.request_with(
        call("sleep", json!([300, "resent"])),
        RequestOptions::new().resend_on_reconnect(),
    );
    assert_eq!(
        client.request(call("drop_me", json!([50]))).await,
        Ok(json!("dropping"))
    );
    assert_eq!(
        within(5_000, "the drop", failing).await,
        Err(RequestError::Disconnected)
    );
    assert_eq!(
        within(5_000, "the resent request's reply", resent).await,
        Ok(json!("resent"))
    );
    assert!(client.is_connected());
    client.close_normal().unwrap();
}

#[wasm_bindgen_test]
async fn on_a_reconnecting_socket_a_request_made_while_down_is_answered_on_the_next_connection() {
    let (client, _messages) = reconnecting_rpc_client().await;
    assert_eq!(
        client.request(call("drop_me", json!([10]))).await,
        Ok(json!("dropping"))
    );
    wait_until("the drop", || !client.is_connected()).await;
    let queued = client.request(call("sum", json!([20, 22])));
    assert!(!client.is_connected(), "made while down");
    assert_eq!(client.in_flight(), 1);
    assert_eq!(
        within(5_000, "the reply on the next connection", queued).await,
        Ok(json!(42))
    );
    client.close_normal().unwrap();
}

fn tick(n: i64) -> Option<Result<SubscriptionEvent<Value>, RequestError<JsonRpcError>>> {
    Some(Ok(SubscriptionEvent::Item(json!({ "n": n }))))
}

/// A topic of this test's own, declared on the server: the three browsers
/// run side by side against one server, and ticks on a shared topic would
/// reach every browser's subscribers. Short, so that a tick's notification
/// stays under 50 bytes.
pub(crate) async fn own_topic(client: &RequestClient<JsonRpc>) -> String {
    let topic = format!("tick-{:06}", (js_sys::Math::random() * 1e6) as u32);
    let declared = client.request(call("declare", json!([topic]))).await;
    assert_eq!(declared, Ok(json!(topic)));
    topic
}

/// A tick of `n` on `topic`.
pub(crate) fn tick_on(topic: &str, n: i64) -> JsonRpcCall {
    call("tick", json!([n, topic]))
}

#[wasm_bindgen_test]
async fn every_reader_of_a_topic_gets_its_items_and_the_last_one_dropped_unsubscribes() {
    let (client, mut messages) = rpc_client().await;
    let topic = own_topic(&client).await;
    let mut first = client.subscribe(topic.clone());
    let mut second = client.subscribe(topic.clone());
    // The subscribe request's reply is taken, not passed on: a sum after it
    // is answered first.
    assert_eq!(client.request(call("sum", json!([1]))).await, Ok(json!(1)));
    assert_eq!(client.request(tick_on(&topic, 1)).await, Ok(json!(1)));
    assert_eq!(
        within(5_000, "the first reader", first.next()).await,
        tick(1)
    );
    assert_eq!(
        within(5_000, "the second reader", second.next()).await,
        tick(1)
    );
    drop(first);
    assert_eq!(client.request(tick_on(&topic, 2)).await, Ok(json!(2)));
    assert_eq!(
        within(5_000, "the reader left", second.next()).await,
        tick(2)
    );
    drop(second);
    // Unsubscribed: the server sends no more ticks (had it, they would reach
    // `Messages`, the topic having no reader).
    assert_eq!(client.request(tick_on(&topic, 3)).await, Ok(json!(3)));
    assert_eq!(client.request(call("sum", json!([2]))).await, Ok(json!(2)));
    assert!(
        futures_util::poll!(messages.next()).is_pending(),
        "nothing for Messages"
    );
    assert_eq!(client.in_flight(), 0, "the unsubscribe reply was taken");
}

#[wasm_bindgen_test]
async fn a_reader_not_read_ends_past_the_receive_limit_and_says_so() {
    let socket = WebSocket::connect(&format!("{RPC_SERVER}/")).await.unwrap();
    let (client, _messages) = RequestClient::builder(JsonRpc)
        .receive_limit(Some(100))
        .build(socket);
    let topic = own_topic(&client).await;
    let mut ticks = client.subscribe(topic.clone());
    // Each tick's message is about 40 bytes: the third passes 100.
    for n in 1..=4 {
        assert_eq!(client.request(tick_on(&topic, n)).await, Ok(json!(n)));
    }
    assert_eq!(ticks.next().await, tick(1));
    assert_eq!(ticks.next().await, tick(2));
    assert_eq!(ticks.next().await, tick(3));
    assert_eq!(
        ticks.next().await,
        Some(Err(RequestError::ReceiveLimitExceeded { limit: 100 }))
    );
    assert_eq!(ticks.next().await, None);
    // The client goes on.
    assert_eq!(client.request(call("sum", json!([5]))).await, Ok(json!(5)));
}

/// A protocol for the echo server whose every request comes back as its own
/// refusal: `"<id> <request>"` out, the same text read as an error reply.
struct Refusing;

impl Protocol for Refusing {
    type Request = String;
    type Reply = String;
    type Rejection = String;

    fn request_message(&self, id: u64, request: &String) -> browser_websocket::Result<Message> {
        Ok(Message::Text(format!("{id} {request}")))
    }

    fn classify(&self, message: &Message) -> Incoming<String, String> {
        let parsed = message.as_text().and_then(|text| text.split_once(' '));
        match parsed.and_then(|(id, rest)| Some((id.parse().ok()?, rest))) {
            Some((id, rest)) => Incoming::Reply {
                id,
                reply: Err(format!("refused: {rest}")),
            },
            None => Incoming::Other,
        }
    }
}

impl Subscriptions for Refusing {
    type Topic = String;
    type Item = String;

    fn subscribe(&self, topic: &String) -> String {
        format!("subscribe {topic}")
    }

    fn unsubscribe(&self, _topic: &String) -> Option<String> {
        None
    }

    fn item(&self, _message: &Message) -> Option<(String, String)> {
        None
    }
}

#[wasm_bindgen_test]
async fn a_topic_the_server_refuses_ends_its_readers_with_the_error() {
    let socket = WebSocket::connect(&url("/echo")).await.unwrap();
    let (client, _messages) = RequestClient::new(socket, Refusing);
    let mut first = client.subscribe("news".to_owned());
    let mut second = client.subscribe("news".to_owned());
    let refused = Some(Err(RequestError::Rejected(
        "refused: subscribe news".to_owned(),
    )));
    assert_eq!(within(5_000, "the refusal", first.next()).await, refused);
    assert_eq!(first.next().await, None);
    assert_eq!(within(5_000, "the refusal", second.next()).await, refused);
    assert_eq!(second.next().await, None);
}

#[wasm_bindgen_test]
async fn an_acknowledged_message_moves_from_sent_to_acked_or_failed() {
    let (client, _messages) = rpc_client().await;
    let delivery = client.send_acked(call("sum", json!([20, 22])));
    assert_eq!(delivery.status(), DeliveryStatus::Sent);
    assert_eq!(
        within(5_000, "the ack", delivery.acked()).await,
        Ok(json!(42))
    );
    assert_eq!(delivery.status(), DeliveryStatus::Acked);
    let refused = client.send_acked(JsonRpcCall::without_params("no.such.method"));
    let failed = within(5_000, "the refusal", refused.acked()).await;
    assert!(
        matches!(&failed, Err(RequestError::Rejected(error)) if error.code == -32601),
        "{failed:?}"
    );
    assert!(matches!(
        refused.status(),
        DeliveryStatus::Failed(RequestError::Rejected(_))
    ));
    // A drop on a plain socket fails what is not acknowledged.
    let waiting = client.send_acked(call("sleep", json!([5_000])));
    assert_eq!(
        client.request(call("drop_me", json!([10]))).await,
        Ok(json!("dropping"))
    );
    assert_eq!(
        within(5_000, "the drop", waiting.acked()).await,
        Err(RequestError::Disconnected)
    );
    assert_eq!(
        waiting.status(),
        DeliveryStatus::Failed(RequestError::Disconnected)
    );
}

#[wasm_bindgen_test]
async fn on_a_reconnecting_socket_an_acknowledged_message_survives_drops() {
    let (client, _messages) = reconnecting_rpc_client().await;
    let in_flight = client.send_acked(call("sleep", json!([300, "in flight"])));
    assert_eq!(in_flight.status(), DeliveryStatus::Sent);
    assert_eq!(
        client.request(call("drop_me", json!([10]))).await,
        Ok(json!("dropping"))
    );
    wait_until("the drop", || !client.is_connected()).await;
    assert_eq!(in_flight.status(), DeliveryStatus::Queued, "back in line");
    let made_while_down = client.send_acked(call("sum", json!([1, 1])));
    assert_eq!(made_while_down.status(), DeliveryStatus::Queued);
    wait_until("the next connection", || client.is_connected()).await;
    assert_eq!(
        within(
            5_000,
            "the ack of the one made while down",
            made_while_down.acked()
        )
        .await,
        Ok(json!(2))
    );
    assert_eq!(
        within(5_000, "the ack of the one sent again", in_flight.acked()).await,
        Ok(json!("in flight"))
    );
    assert_eq!(in_flight.status(), DeliveryStatus::Acked);
    client.close_normal().unwrap();
}

#[wasm_bindgen_test]
async fn an_outbox_keeps_what_was_not_acknowledged_for_the_next_client_of_its_name() {
    let name = unique_id("outbox");
    // The echo never acknowledges (a request's echo is not a reply).
    let socket = WebSocket::connect(&url("/echo")).await.unwrap();
    let (client, _messages) = RequestClient::builder(JsonRpc).outbox(&name).build(socket);
    assert!(client.restored().await.unwrap().is_empty());
    let unacknowledged = client.send_acked(call("sum", json!([40, 2])));
    assert_eq!(unacknowledged.status(), DeliveryStatus::Sent);
    client.close_normal().unwrap();
    assert_eq!(
        within(5_000, "the close", unacknowledged.acked()).await,
        Err(RequestError::Closed)
    );
    drop(client);
    // The next client of that name, to a server that answers.
    let socket = WebSocket::connect(&format!("{RPC_SERVER}/")).await.unwrap();
    let (client, _messages) = RequestClient::builder(JsonRpc).outbox(&name).build(socket);
    let restored = within(5_000, "the outbox", client.restored())
        .await
        .unwrap();
    assert_eq!(restored.len(), 1);
    assert_eq!(
        within(5_000, "the ack", restored[0].acked()).await,
        Ok(json!(42))
    );
    assert_eq!(restored[0].status(), DeliveryStatus::Acked);
    // New ids start above the kept one's: a request is answered, not taken
    // for the kept message's reply.
    assert_eq!(client.request(call("sum", json!([1]))).await, Ok(json!(1)));
    drop(client);
    // Acknowledged: gone.
    let socket = WebSocket::connect(&format!("{RPC_SERVER}/")).await.unwrap();
    let (client, _messages) = RequestClient::builder(JsonRpc).outbox(&name).build(socket);
    assert!(within(5_000, "the outbox", client.restored())
        .await
        .unwrap()
        .is_empty());
}

/// A protocol for the echo server with a cancel message: `"ask <id> <text>"`
/// out, its echo the reply; `"cancel <id>"` when the app gives up.
struct Cancelling;

impl Protocol for Cancelling {
    type Request = String;
    type Reply = String;
    type Rejection = String;

    fn request_message(&self, id: u64, text: &String) -> browser_websocket::Result<Message> {
        Ok(Message::Text(format!("ask {id} {text}")))
    }

    fn classify(&self, message: &Message) -> Incoming<String, String> {
        let parsed = message
            .as_text()
            .and_then(|text| text.strip_prefix("ask "))
            .and_then(|rest| rest.split_once(' '))
            .and_then(|(id, text)| Some((id.parse().ok()?, text)));
        match parsed {
            Some((id, text)) => Incoming::Reply {
                id,
                reply: Ok(text.to_owned()),
            },
            None => Incoming::Other,
        }
    }

    fn cancel_message(&self, id: u64) -> Option<Message> {
        Some(Message::Text(format!("cancel {id}")))
    }
}

#[wasm_bindgen_test]
async fn a_dropped_request_sends_the_cancel_message_and_dropped_messages_leave_requests_working() {
    let socket = WebSocket::connect(&url("/echo")).await.unwrap();
    let (client, mut messages) = RequestClient::new(socket, Cancelling);
    let given_up = client.request("never mind".to_owned());
    drop(given_up);
    // The echo of the request (its id no longer waited for) and of the cancel.
    assert_eq!(
        within(5_000, "the forgotten reply", messages.next()).await,
        Some(Ok(Message::from("ask 1 never mind")))
    );
    assert_eq!(
        within(5_000, "the cancel", messages.next()).await,
        Some(Ok(Message::from("cancel 1")))
    );
    drop(messages);
    assert_eq!(
        within(5_000, "a reply", client.request("still".to_owned())).await,
        Ok("still".to_owned())
    );
    client
        .send_message(&Message::from("not for anyone"))
        .unwrap();
    assert_eq!(
        within(5_000, "a reply", client.request("and still".to_owned())).await,
        Ok("and still".to_owned())
    );
}

#[wasm_bindgen_test]
async fn on_a_reconnecting_socket_a_topic_subscribed_while_down_is_subscribed_on_the_next_connection(
) {
    let (client, _messages) = reconnecting_rpc_client().await;
    let topic = own_topic(&client).await;
    assert_eq!(
        client.request(call("drop_me", json!([10]))).await,
        Ok(json!("dropping"))
    );
    wait_until("the drop", || !client.is_connected()).await;
    let mut ticks = client.subscribe(topic.clone());
    wait_until("the next connection", || client.is_connected()).await;
    // The subscribe request goes out first on the new connection: a request
    // made after it is answered after it.
    assert_eq!(client.request(call("sum", json!([0]))).await, Ok(json!(0)));
    assert_eq!(client.request(tick_on(&topic, 7)).await, Ok(json!(7)));
    assert_eq!(within(5_000, "a tick", ticks.next()).await, tick(7));
    client.close_normal().unwrap();
}

#[wasm_bindgen_test]
async fn a_reconnecting_socket_that_gives_up_fails_what_waits() {
    let refused = format!("ws://127.0.0.1:{REFUSED_PORT}/");
    let policy = fast_policy().max_attempts(Some(2));
    let (client, mut messages) = RequestClient::builder(JsonRpc)
        .build_reconnecting(ReconnectingWebSocket::builder(refused).policy(policy));
    let waiting = client.request(call("sum", json!([1])));
    let delivery = client.send_acked(call("sum", json!([2])));
    assert_eq!(delivery.status(), DeliveryStatus::Queued);
    assert_eq!(
        within(10_000, "giving up", waiting).await,
        Err(RequestError::Disconnected)
    );
    assert_eq!(
        delivery.status(),
        DeliveryStatus::Failed(RequestError::Disconnected)
    );
    assert_eq!(within(5_000, "the end", messages.next()).await, None);
    assert_eq!(
        client.request(call("sum", json!([3]))).await,
        Err(RequestError::Disconnected)
    );
}

#[wasm_bindgen_test]
async fn past_the_bound_on_topics_a_new_topic_ends_at_once_and_nothing_is_sent() {
    let socket = WebSocket::connect(&format!("{RPC_SERVER}/")).await.unwrap();
    let (client, _messages) = RequestClient::builder(JsonRpc).max_topics(1).build(socket);
    let topic = own_topic(&client).await;
    let mut tick = client.subscribe(topic.clone());
    let mut second_reader = client.subscribe(topic.clone());
    let mut refused = client.subscribe("other".to_owned());
    assert_eq!(
        within(5_000, "the refusal", refused.next()).await,
        Some(Err(RequestError::TooManyTopics { topics: 1 }))
    );
    assert!(within(5_000, "the end", refused.next()).await.is_none());
    assert_eq!(client.in_flight(), 1, "only tick's subscribe went out");
    // The topic already read takes more readers.
    sleep(100).await;
    assert_eq!(client.request(tick_on(&topic, 5)).await, Ok(json!(5)));
    for reader in [&mut tick, &mut second_reader] {
        let item = within(5_000, "a tick", reader.next()).await;
        assert!(
            matches!(&item, Some(Ok(SubscriptionEvent::Item(params))) if params["n"] == json!(5)),
            "{item:?}"
        );
    }
}

/// Runs `job` through a bound that demands `Send + 'static`, as another
/// thread or a Leptos store would, and gives back what it made.
fn through_send<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> T {
    job()
}

#[wasm_bindgen_test]
async fn a_request_handle_crosses_send_bounds_and_gets_its_replies() {
    let (client, _messages) = rpc_client().await;
    let handle = client.send_handle();
    // Made, and their futures held, where only Send values go.
    let (slow, sum) = through_send(move || {
        (
            handle.request(call("sleep", json!([100, "slow"]))),
            handle.request(call("sum", json!([2, 3]))),
        )
    });
    let (slow, sum) = within(5_000, "two replies", async {
        futures_util::join!(slow, sum)
    })
    .await;
    assert_eq!(slow, Ok(json!("slow")));
    assert_eq!(sum, Ok(json!(5)));
    // A dropped reply future forgets its request on the client's thread.
    let handle = client.send_handle();
    let dropped = handle.request(call("sleep", json!([2_000, "never read"])));
    wait_until("made on the client's thread", || client.in_flight() == 1).await;
    drop(dropped);
    wait_until("forgotten", || client.in_flight() == 0).await;
    // Once the socket is closed, requests through the handle fail as the
    // client's own do.
    client.close_normal().unwrap();
    let refused = within(
        5_000,
        "the refusal",
        handle.request(call("sum", json!([1]))),
    )
    .await;
    assert_eq!(refused, Err(RequestError::Closed));
}

#[wasm_bindgen_test]
async fn a_subscription_through_a_request_handle_gets_items_and_unsubscribes_when_dropped() {
    let (client, _messages) = rpc_client().await;
    let topic = own_topic(&client).await;
    let handle = client.send_handle();
    let crossing = topic.clone();
    let mut ticks = through_send(move || handle.subscribe(crossing));
    // The subscribe request is made on the client's thread before this one.
    sleep(100).await;
    assert_eq!(client.request(tick_on(&topic, 8)).await, Ok(json!(8)));
    let item = within(5_000, "a tick", ticks.next()).await;
    assert!(
        matches!(&item, Some(Ok(SubscriptionEvent::Item(params))) if params["n"] == json!(8)),
        "{item:?}"
    );
    drop(ticks);
    // Dropped on the client's thread too, without waiting for another item:
    // a reader made now is the topic's first again, so its rpc.on goes out.
    sleep(200).await;
    assert_eq!(client.in_flight(), 0);
    let _again = client.subscribe(topic.clone());
    assert_eq!(client.in_flight(), 1, "the topic had no reader left");
}

#[wasm_bindgen_test]
async fn an_acknowledged_message_through_a_request_handle_shows_its_status_anywhere() {
    let (client, _messages) = rpc_client().await;
    let handle = client.send_handle();
    let (acked, refused) = through_send(move || {
        (
            handle.send_acked(call("sleep", json!([100, "stored"]))),
            handle.send_acked(call("fail", json!([]))),
        )
    });
    wait_until("sent on the client's thread", || {
        acked.status() == DeliveryStatus::Sent && acked.id().is_some()
    })
    .await;
    assert_eq!(
        within(5_000, "the acknowledgement", acked.acked()).await,
        Ok(json!("stored"))
    );
    assert_eq!(acked.status(), DeliveryStatus::Acked);
    let refusal = within(5_000, "the refusal", refused.acked()).await;
    assert!(
        matches!(refusal, Err(RequestError::Rejected(_))),
        "{refusal:?}"
    );
    assert!(matches!(
        refused.status(),
        DeliveryStatus::Failed(RequestError::Rejected(_))
    ));
}
