//! Verifies the request layer with the graphql-transport-ws protocol
//! ([`GraphqlWs`]) against a server nobody here wrote (the npm package
//! graphql-ws, `conformance/rpc/graphql.mjs`, with a tiny schema):
//! - the handshake goes first (with its payload) and requests made before
//!   the server accepts it wait and are answered (the server closes with 4401
//!   a subscribe that comes before its acknowledgement);
//! - a query's reply is its first `next`; an invalid operation is `Rejected`
//!   with the GraphQL errors; the server's `complete`s, pings and pongs never
//!   reach `Messages`, and a server's ping is answered with a pong;
//! - a subscription yields its items and ends quietly on the server's
//!   `complete`, or with `Rejected` on its `error`; two readers of one
//!   operation are one subscription on the server; dropping the last sends
//!   `complete`, which ends it there;
//! - on a reconnecting socket, a drop is followed by the handshake, the
//!   subscription renewed (its readers told) and items flowing again, and a
//!   request made while down is answered on the next connection.

use crate::common::*;
use browser_websocket::{
    GraphqlRequest, GraphqlWs, Message, Messages, ReconnectingWebSocket, RequestClient,
    RequestError, SubscriptionEvent, Target, WebSocket, GRAPHQL_TRANSPORT_WS,
};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use wasm_bindgen_test::*;

/// The origin of the graphql-ws server, given at compile time by the test
/// command; 9006 when run by hand.
const GRAPHQL_SERVER: &str = match option_env!("WS_GRAPHQL_SERVER") {
    Some(server) => server,
    None => "ws://127.0.0.1:9006",
};

type Client = RequestClient<GraphqlWs>;

async fn graphql_client(protocol: GraphqlWs) -> (Client, Messages<GraphqlWs>) {
    let socket = WebSocket::builder(&format!("{GRAPHQL_SERVER}/"))
        .protocols([GRAPHQL_TRANSPORT_WS])
        .connect()
        .await
        .unwrap();
    RequestClient::new(socket, protocol)
}

fn operation(query: &str) -> GraphqlRequest {
    GraphqlRequest::new(query)
}

/// `data.field` of a reply or item.
fn field(result: &Value, name: &str) -> Value {
    result["data"][name].clone()
}

/// Nothing reaches `messages` within `ms`.
async fn nothing_passed_on(messages: &mut Messages<GraphqlWs>, ms: i32) {
    let next = futures_util::future::select(Box::pin(messages.next()), Box::pin(sleep(ms))).await;
    if let futures_util::future::Either::Left((message, _)) = next {
        panic!("the protocol's own traffic reached Messages: {message:?}");
    }
}

#[wasm_bindgen_test]
async fn requests_made_before_the_handshake_is_accepted_wait_and_are_answered() {
    let protocol = GraphqlWs::new()
        .init_payload(json!({"token": "t0k"}))
        .unwrap();
    let (client, mut messages) = graphql_client(protocol).await;
    // Made at once: the server has not acknowledged connection_init yet.
    let hello = client.request(operation("{ hello(name: \"web\") }"));
    let token = client.request(operation("{ token }"));
    let slow = client.request(operation("{ sleep(ms: 50, value: \"late\") }"));
    let (hello, token, slow) = within(5_000, "three replies", async {
        futures_util::join!(hello, token, slow)
    })
    .await;
    assert_eq!(field(&hello.unwrap(), "hello"), json!("hello web"));
    assert_eq!(
        field(&token.unwrap(), "token"),
        json!("t0k"),
        "the init payload reached the server"
    );
    assert_eq!(field(&slow.unwrap(), "sleep"), json!("late"));
    assert!(
        client.is_connected(),
        "no 4401: nothing went out before the acknowledgement"
    );
    // The completes after each reply are the protocol's own.
    nothing_passed_on(&mut messages, 200).await;
}

#[wasm_bindgen_test]
async fn an_invalid_operation_is_rejected_with_the_graphql_errors() {
    let (client, _messages) = graphql_client(GraphqlWs::new()).await;
    let rejected = within(5_000, "an error", client.request(operation("{ nope }"))).await;
    let Err(RequestError::Rejected(errors)) = rejected else {
        panic!("expected the server's errors, got {rejected:?}");
    };
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]["message"].as_str().unwrap().contains("nope"),
        "{errors:?}"
    );
    // The client goes on.
    let hello = within(5_000, "a reply", client.request(operation("{ hello }"))).await;
    assert_eq!(field(&hello.unwrap(), "hello"), json!("hello world"));
}

#[wasm_bindgen_test]
async fn a_ping_from_the_server_is_answered_with_a_pong_and_not_passed_on() {
    let (client, mut messages) = graphql_client(GraphqlWs::new()).await;
    let pinged = within(
        5_000,
        "the ping",
        client.request(operation("mutation { ping(n: 3) }")),
    )
    .await;
    assert_eq!(field(&pinged.unwrap(), "ping"), json!(true));
    let mut pongs = json!(0);
    for _ in 0..50 {
        let counted = within(5_000, "the count", client.request(operation("{ pongs }"))).await;
        pongs = field(&counted.unwrap(), "pongs");
        if pongs == json!(1) {
            break;
        }
        sleep(20).await;
    }
    assert_eq!(pongs, json!(1), "the server saw one pong");
    nothing_passed_on(&mut messages, 200).await;
}

#[wasm_bindgen_test]
async fn a_subscription_yields_its_items_and_ends_with_the_servers_complete() {
    let (client, mut messages) = graphql_client(GraphqlWs::new()).await;
    let count = client.subscribe(operation("subscription { count(to: 3, everyMs: 5) }"));
    let items: Vec<_> = within(5_000, "three items and the end", count.collect()).await;
    let counts: Vec<Value> = items
        .into_iter()
        .map(|item| match item {
            Ok(SubscriptionEvent::Item(item)) => field(&item, "count"),
            other => panic!("expected an item, got {other:?}"),
        })
        .collect();
    assert_eq!(counts, [json!(1), json!(2), json!(3)]);
    nothing_passed_on(&mut messages, 100).await;
    // An error ends it with the server's errors, after the items before it.
    let mut failing = client.subscribe(operation("subscription { failing }"));
    let first = within(5_000, "the item", failing.next()).await;
    assert!(
        matches!(&first, Some(Ok(SubscriptionEvent::Item(item))) if field(item, "failing") == json!(1)),
        "{first:?}"
    );
    let error = within(5_000, "the error", failing.next()).await;
    assert!(
        matches!(&error, Some(Err(RequestError::Rejected(errors))) if errors[0]["message"] == json!("the subscription failed on purpose")),
        "{error:?}"
    );
    assert!(within(5_000, "the end", failing.next()).await.is_none());
    assert_eq!(client.in_flight(), 0, "ended subscriptions hold no place");
}

/// A channel of this test's own for ticks (the three browsers run side by
/// side against one server), and the subscription to it.
fn tick_channel() -> (String, GraphqlRequest) {
    let channel = unique_id("ticks");
    let subscription = operation(&format!("subscription {{ ticks(channel: \"{channel}\") }}"));
    (channel, subscription)
}

/// Ticks `n` on `channel`: how many subscriptions to it the server holds
/// now (each tick goes to every one).
async fn live_tickers(client: &Client, channel: &str, n: i32) -> Value {
    let mutation = format!("mutation {{ tick(n: {n}, channel: \"{channel}\") }}");
    let ticked = within(5_000, "a tick", client.request(operation(&mutation))).await;
    field(&ticked.unwrap(), "tick")
}

async fn next_tick(ticks: &mut browser_websocket::Subscription<GraphqlWs>) -> Value {
    match within(5_000, "a tick", ticks.next()).await {
        Some(Ok(SubscriptionEvent::Item(item))) => field(&item, "ticks"),
        other => panic!("expected a tick, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn readers_of_one_operation_share_a_subscription_and_the_last_drop_completes_it() {
    let (client, mut messages) = graphql_client(GraphqlWs::new()).await;
    let (channel, ticks) = tick_channel();
    let mut first = client.subscribe(ticks.clone());
    let mut second = client.subscribe(ticks.clone());
    // The subscribe reaches the server before the mutation (in order).
    assert_eq!(
        live_tickers(&client, &channel, 7).await,
        json!(1),
        "one subscription for two readers"
    );
    assert_eq!(next_tick(&mut first).await, json!(7));
    assert_eq!(next_tick(&mut second).await, json!(7));
    drop(first);
    assert_eq!(
        live_tickers(&client, &channel, 8).await,
        json!(1),
        "one reader left"
    );
    assert_eq!(next_tick(&mut second).await, json!(8));
    drop(second);
    // The client's complete went out before this mutation.
    wait_for_tickers(&client, &channel, json!(0)).await;
    nothing_passed_on(&mut messages, 100).await;
}

/// Polls the server until it holds `expected` tick subscriptions.
async fn wait_for_tickers(client: &Client, channel: &str, expected: Value) {
    let mut live = Value::Null;
    for n in 0..50 {
        live = live_tickers(client, channel, 100 + n).await;
        if live == expected {
            return;
        }
        sleep(20).await;
    }
    panic!("the server holds {live} tick subscriptions, expected {expected}");
}

#[wasm_bindgen_test]
async fn on_a_reconnecting_socket_the_handshake_and_the_subscription_are_renewed() {
    let policy = fast_policy().delays(Duration::from_millis(300), Duration::from_millis(300));
    let (client, _messages) = RequestClient::builder(GraphqlWs::new()).build_reconnecting(
        ReconnectingWebSocket::builder_with(|| {
            Target::new(format!("{GRAPHQL_SERVER}/")).protocols([GRAPHQL_TRANSPORT_WS])
        })
        .policy(policy),
    );
    let (channel, subscription) = tick_channel();
    let mut ticks = client.subscribe(subscription);
    wait_until("the first connection", || client.is_connected()).await;
    wait_for_tickers(&client, &channel, json!(1)).await;
    let first = next_tick(&mut ticks).await;
    assert!(first.as_i64().is_some(), "{first}");
    // Cut without a close frame; a request made while down waits.
    let cut = client
        .request(operation("mutation { dropMe(ms: 20) }"))
        .await;
    assert_eq!(field(&cut.unwrap(), "dropMe"), json!(true));
    wait_until("the drop", || !client.is_connected()).await;
    let while_down = client.request(operation("{ hello(name: \"again\") }"));
    let renewed = within(5_000, "the renewal", ticks.next()).await;
    assert!(
        matches!(renewed, Some(Ok(SubscriptionEvent::Resubscribed))),
        "{renewed:?}"
    );
    let answered = within(5_000, "the reply on the next connection", while_down).await;
    assert_eq!(field(&answered.unwrap(), "hello"), json!("hello again"));
    // Items flow on the new subscription (one on the server, as before).
    assert_eq!(live_tickers(&client, &channel, 42).await, json!(1));
    // Ticks sent by wait_for_tickers before the drop may still be unread.
    loop {
        if next_tick(&mut ticks).await == json!(42) {
            break;
        }
    }
    let _ = client.close_normal();
    drop(client);
    wait_until("the socket released", || {
        browser_websocket::live_sockets() == 0
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_servers_pong_to_an_apps_ping_is_not_passed_on() {
    let (client, mut messages) = graphql_client(GraphqlWs::new()).await;
    let hello = client.request(operation("{ hello }"));
    client
        .send_message(&Message::from(
            r#"{"type":"ping","payload":{"from":"app"}}"#,
        ))
        .unwrap();
    let reply = within(5_000, "a reply", hello).await;
    assert_eq!(field(&reply.unwrap(), "hello"), json!("hello world"));
    nothing_passed_on(&mut messages, 200).await;
}
