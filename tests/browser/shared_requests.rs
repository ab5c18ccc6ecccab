//! Verifies the request layer on a shared socket
//! ([`RequestClientBuilder::build_shared`](browser_websocket::RequestClientBuilder::build_shared))
//! against the JSON-RPC server (rpc-websockets). Several shared sockets of one
//! name in one page behave as tabs do (see `tabs.rs`):
//! - one connection for all tabs; each tab's replies reach that tab, and
//!   replies to other tabs' requests reach no tab's `Messages`;
//! - a topic read in two tabs: the first to stop reading does not
//!   unsubscribe (the other still gets items); the last does;
//! - the leading tab leaving: an acknowledged message of another tab, sent
//!   and not yet acknowledged, is sent again on the new leader's connection
//!   and acknowledged there; a request to resend likewise; one not to resend
//!   fails with `Disconnected`;
//! - what a shared socket does not do is a typed error: a protocol with a
//!   handshake, an outbox.

use crate::common::*;
use crate::requests::{call, own_topic, tick_on, RPC_SERVER};
use browser_websocket::tabs::SharedWebSocket;
use browser_websocket::{
    DeliveryStatus, Error, GraphqlRequest, GraphqlWs, JsonRpc, Message, Messages, RequestClient,
    RequestError, RequestOptions, SubscriptionEvent,
};
use futures_util::StreamExt;
use serde_json::json;
use wasm_bindgen_test::*;

type Tab = (RequestClient<JsonRpc>, Messages<JsonRpc>);

/// A tab's client on the shared socket `name` to the JSON-RPC server.
fn tab(name: &str) -> Tab {
    RequestClient::builder(JsonRpc).build_shared(
        SharedWebSocket::builder(format!("{RPC_SERVER}/"))
            .name(name)
            .configure(|leader| leader.policy(fast_policy())),
    )
}

/// What is alive before a test: its tabs let go of all they add.
type Alive = (usize, usize);

fn alive() -> Alive {
    (
        browser_websocket::live_sockets(),
        browser_websocket::live_js_callbacks(),
    )
}

/// Every tab has left and let go of its sockets and callbacks (the tests
/// after this one count them).
async fn all_released(before: Alive) {
    wait_until("every tab released", || {
        let (sockets, callbacks) = alive();
        sockets <= before.0 && callbacks <= before.1
    })
    .await;
}

/// Two tabs of a new shared socket named after `what`, both connected; the
/// first leads.
async fn two_tabs(what: &str) -> (Tab, Tab) {
    let name = unique_id(what);
    let first = tab(&name);
    wait_until("the first tab connected", || first.0.is_connected()).await;
    let second = tab(&name);
    wait_until("the second tab connected", || second.0.is_connected()).await;
    (first, second)
}

/// The tabs leave, and everything the test added is released.
async fn leave(clients: Vec<RequestClient<JsonRpc>>, before: Alive) {
    for client in clients {
        let _ = client.close_normal();
    }
    all_released(before).await;
}

/// Nothing reaches `messages` within `ms`.
async fn quiet(messages: &mut Messages<JsonRpc>, ms: i32, what: &str) {
    let next = futures_util::future::select(Box::pin(messages.next()), Box::pin(sleep(ms))).await;
    if let futures_util::future::Either::Left((message, _)) = next {
        panic!("{what}: {message:?}");
    }
}

async fn notification(messages: &mut Messages<JsonRpc>) -> String {
    match within(5_000, "a notification", messages.next()).await {
        Some(Ok(Message::Text(text))) => text,
        other => panic!("expected a notification, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn each_tab_gets_its_own_replies_and_no_other_tabs() {
    let before = alive();
    let ((first, mut first_messages), (second, mut second_messages)) = two_tabs("replies").await;
    // Both tabs ask at once, for different answers, out of order.
    let slow = first.request(call("sleep", json!([200, "first's"])));
    let quick = second.request(call("sleep", json!([10, "second's"])));
    let sum = second.request(call("sum", json!([1, 2])));
    let (slow, quick, sum) = within(5_000, "three replies", async {
        futures_util::join!(slow, quick, sum)
    })
    .await;
    assert_eq!(slow, Ok(json!("first's")));
    assert_eq!(quick, Ok(json!("second's")));
    assert_eq!(sum, Ok(json!(3)));
    // Each tab heard the other's replies, and passed none on.
    quiet(
        &mut first_messages,
        200,
        "another tab's reply reached Messages",
    )
    .await;
    quiet(
        &mut second_messages,
        50,
        "another tab's reply reached Messages",
    )
    .await;
    drop(first_messages);
    leave(vec![first, second], before).await;
}

#[wasm_bindgen_test]
async fn a_topic_read_in_two_tabs_is_unsubscribed_by_the_last_only() {
    let before = alive();
    let ((first, mut first_messages), (second, _second_messages)) = two_tabs("topics").await;
    let topic = own_topic(&first).await;
    let mut first_ticks = first.subscribe(topic.clone());
    let mut second_ticks = second.subscribe(topic.clone());
    // Each tab's subscribe reached the server before this (in each tab's order).
    sleep(100).await;
    assert_eq!(first.request(tick_on(&topic, 1)).await, Ok(json!(1)));
    for ticks in [&mut first_ticks, &mut second_ticks] {
        let item = within(5_000, "a tick", ticks.next()).await;
        assert!(
            matches!(&item, Some(Ok(SubscriptionEvent::Item(params))) if params["n"] == json!(1)),
            "{item:?}"
        );
    }
    // The first tab stops reading: the second still reads, so no rpc.off.
    drop(first_ticks);
    sleep(200).await;
    assert_eq!(first.request(tick_on(&topic, 2)).await, Ok(json!(2)));
    let item = within(
        5_000,
        "a tick after the other tab stopped",
        second_ticks.next(),
    )
    .await;
    assert!(
        matches!(&item, Some(Ok(SubscriptionEvent::Item(params))) if params["n"] == json!(2)),
        "{item:?}"
    );
    // In the first tab, that tick is an ordinary message now.
    assert!(notification(&mut first_messages).await.contains("\"n\":2"));
    // The last reader stops: rpc.off, and the server sends no more.
    drop(second_ticks);
    sleep(300).await;
    assert_eq!(first.request(tick_on(&topic, 3)).await, Ok(json!(3)));
    quiet(
        &mut first_messages,
        300,
        "a tick after the last reader stopped",
    )
    .await;
    drop(first_messages);
    leave(vec![first, second], before).await;
}

#[wasm_bindgen_test]
async fn the_leader_leaving_sends_an_unacknowledged_message_again_from_the_new_one() {
    let before = alive();
    let ((leader, leader_messages), (follower, _follower_messages)) = two_tabs("leader").await;
    // Acknowledged after 400 ms: the leader leaves before that.
    let delivery = follower.send_acked(call("sleep", json!([400, "acked"])));
    let resent = follower.request_with(
        call("sleep", json!([400, "resent"])),
        RequestOptions::new().resend_on_reconnect(),
    );
    let failing = follower.request(call("sleep", json!([400, "failing"])));
    wait_until("sent", || delivery.status() == DeliveryStatus::Sent).await;
    sleep(100).await;
    let left_at = now_ms();
    drop(leader_messages);
    drop(leader);
    assert_eq!(
        within(5_000, "the request sent on the old connection", failing).await,
        Err(RequestError::Disconnected)
    );
    assert_eq!(
        within(5_000, "the resent request", resent).await,
        Ok(json!("resent"))
    );
    // The first copy's reply was due on the old connection, closed before
    // it: this one answers the copy sent on the new leader's connection.
    let acked = within(5_000, "the acknowledgement", delivery.acked()).await;
    assert_eq!(acked, Ok(json!("acked")));
    assert!(
        now_ms() - left_at >= 400.0,
        "answered on the new connection"
    );
    assert_eq!(delivery.status(), DeliveryStatus::Acked);
    leave(vec![follower], before).await;
}

#[wasm_bindgen_test]
async fn a_handshake_protocol_or_an_outbox_on_a_shared_socket_is_a_typed_error() {
    let before = alive();
    let (client, mut messages) = RequestClient::builder(GraphqlWs::new()).build_shared(
        SharedWebSocket::builder(format!("{RPC_SERVER}/")).name(unique_id("handshake")),
    );
    let refused = client.request(GraphqlRequest::new("{ hello }")).await;
    assert!(
        matches!(&refused, Err(RequestError::Send(Error::Js { name, .. })) if name == "NotSupportedError"),
        "{refused:?}"
    );
    let said = within(5_000, "the error", messages.next()).await;
    assert!(matches!(said, Some(Err(Error::Js { .. }))), "{said:?}");
    drop((client, messages));
    let (client, _messages) = RequestClient::builder(JsonRpc)
        .outbox(&unique_id("outbox"))
        .build_shared(SharedWebSocket::builder(format!("{RPC_SERVER}/")).name(unique_id("outbox")));
    let restored = client.restored().await;
    assert!(
        matches!(&restored, Err(Error::Js { name, .. }) if name == "NotSupportedError"),
        "{restored:?}"
    );
    // The client works without it.
    assert_eq!(
        within(5_000, "a reply", client.request(call("sum", json!([2, 2])))).await,
        Ok(json!(4))
    );
    leave(vec![client], before).await;
}
