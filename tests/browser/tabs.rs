//! Verifies the shared socket ([`SharedWebSocket`]) against the test server's
//! recording route (`/record`: one log per connection, in order). Several
//! shared sockets of one name in one page behave as tabs do: each has its own
//! `BroadcastChannel` and lock request, so the same election, relay and
//! fan-out run as between windows (the end-to-end test drives real windows):
//! - one connection for all: the server logs exactly one session;
//! - each tab's messages reach the server once and in its order, and every
//!   tab receives every echo, in order;
//! - text, bytes, JS-owned bytes and Blobs cross tabs byte for byte;
//! - the leader leaving: another leads within a bounded time, and messages
//!   sent meanwhile reach the new connection once, in order;
//! - the connection ended for good (a final close code) ends every tab;
//! - without Web Locks or `BroadcastChannel`, a per-tab socket that says so;
//! - a full queue is a typed error; callbacks get what the stream would;
//! - nothing is left registered once every tab has left;
//! - the page in the back/forward cache: its tabs step out, and join again
//!   when it is back, and what they sent meanwhile goes once.

use std::cell::RefCell;
use std::rc::Rc;

use crate::common::*;
use browser_websocket::tabs::{Role, SharedEvent, SharedWebSocket};
use browser_websocket::{BinaryType, Error, Heartbeat, Message};
use futures_util::{SinkExt, StreamExt};
use wasm_bindgen_test::*;

type Seen = Rc<RefCell<Vec<SharedEvent>>>;

/// A tab: a shared socket of `name` on `path` whose events are recorded.
fn tab(name: &str, path: &str, binary_type: BinaryType) -> (SharedWebSocket, Seen) {
    let seen = Seen::default();
    let log = seen.clone();
    let socket = SharedWebSocket::builder(url(path))
        .name(name)
        .binary_type(binary_type)
        .configure(|leader| leader.policy(fast_policy()))
        .on_event(move |event| log.borrow_mut().push(event.clone()))
        .connect();
    (socket, seen)
}

/// Waits until every tab hears the connection open; returns the leader's index.
async fn all_connected(tabs: &[&SharedWebSocket]) -> usize {
    for _ in 0..200 {
        if tabs.iter().all(|tab| tab.is_connected()) {
            let leaders: Vec<usize> = (0..tabs.len())
                .filter(|&i| tabs[i].role() == Role::Leader)
                .collect();
            assert_eq!(leaders.len(), 1, "exactly one leader: {tabs:?}");
            return leaders[0];
        }
        sleep(25).await;
    }
    panic!("not all connected: {tabs:?}");
}

async fn texts(socket: &mut SharedWebSocket, count: usize) -> Vec<String> {
    let mut texts = Vec::new();
    while texts.len() < count {
        let message = within(5_000, "a message", socket.next()).await;
        texts.push(message.unwrap().unwrap().as_text().unwrap().to_owned());
    }
    texts
}

#[wasm_bindgen_test]
async fn three_tabs_share_one_connection_and_every_message_once_in_order() {
    let id = unique_id("tabs-three");
    let path = format!("/record?id={id}");
    let (mut a, a_seen) = tab(&id, &path, BinaryType::ArrayBuffer);
    let (mut b, _) = tab(&id, &path, BinaryType::ArrayBuffer);
    let (mut c, _) = tab(&id, &path, BinaryType::ArrayBuffer);
    let leader = all_connected(&[&a, &b, &c]).await;
    assert_eq!(leader, 0, "the first tab got the lock");
    assert_eq!(
        a_seen.borrow().as_slice(),
        [SharedEvent::Leading, SharedEvent::Connected]
    );
    assert_eq!(b.role(), Role::Follower);
    for k in 0..5 {
        a.send_text(&format!("a{k}")).unwrap();
        b.send(Message::from(format!("b{k}"))).await.unwrap();
        c.send_text(&format!("c{k}")).unwrap();
    }
    let received = [
        texts(&mut a, 15).await,
        texts(&mut b, 15).await,
        texts(&mut c, 15).await,
    ];
    // Every tab got every echo, in the one order the server sent them.
    assert_eq!(received[0], received[1]);
    assert_eq!(received[0], received[2]);
    let log = server_log(&id).await;
    assert_eq!(log.len(), 1, "one connection: {log:?}");
    assert_eq!(log[0], received[0]);
    for prefix in ["a", "b", "c"] {
        let of_tab: Vec<&String> = log[0].iter().filter(|m| m.starts_with(prefix)).collect();
        let expected: Vec<String> = (0..5).map(|k| format!("{prefix}{k}")).collect();
        assert_eq!(
            of_tab,
            expected.iter().collect::<Vec<_>>(),
            "{prefix}'s order"
        );
    }
    assert_eq!((a.pending(), b.pending(), c.pending()), (0, 0, 0));
}

#[wasm_bindgen_test]
async fn bytes_js_bytes_and_blobs_cross_tabs_intact() {
    let bytes = pi_and_127();
    for binary_type in [
        BinaryType::ArrayBuffer,
        BinaryType::JsArrayBuffer,
        BinaryType::Blob,
    ] {
        let id = unique_id("tabs-binary");
        let (leader, _) = tab(&id, "/echo", binary_type);
        let (mut follower, _) = tab(&id, "/echo", binary_type);
        all_connected(&[&leader, &follower]).await;
        follower.send_bytes(&bytes).unwrap();
        let view = js_sys::Uint8Array::from(bytes.as_slice());
        follower.send_message(&Message::JsBinary(view)).unwrap();
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
        let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap();
        follower.send_message(&Message::Blob(blob)).unwrap();
        follower.send_text("ünïcödé ✓").unwrap();
        for _ in 0..3 {
            let message = within(5_000, "an echo", follower.next()).await;
            let message = message.unwrap().unwrap();
            match (binary_type, &message) {
                (BinaryType::ArrayBuffer, Message::Binary(_))
                | (BinaryType::JsArrayBuffer, Message::JsBinary(_))
                | (BinaryType::Blob, Message::Blob(_)) => {}
                other => panic!("{other:?}"),
            }
            assert_eq!(
                describe_pi_and_127(&message.into_bytes().await.unwrap()),
                describe_pi_and_127(&bytes),
                "{binary_type:?}"
            );
        }
        let text = within(5_000, "the text echo", follower.next()).await;
        assert_eq!(text.unwrap().unwrap().as_text(), Some("ünïcödé ✓"));
    }
}

fn blob_of(bytes: &[u8]) -> web_sys::Blob {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap()
}

/// The `Sink` takes every kind of message, from the leading tab (sent on its
/// connection) and from a following one (relayed through the leader); every
/// tab gets every echo intact. The `Sink`'s close leaves: that tab's stream
/// ends and its sends fail, while the other tab carries on.
#[wasm_bindgen_test]
async fn the_sink_carries_every_kind_from_either_role_and_its_close_leaves() {
    let bytes = pi_and_127();
    let id = unique_id("tabs-sink");
    let (mut leader, _) = tab(&id, "/echo", BinaryType::ArrayBuffer);
    let (mut follower, _) = tab(&id, "/echo", BinaryType::ArrayBuffer);
    assert_eq!(all_connected(&[&leader, &follower]).await, 0);
    for socket in [&mut leader, &mut follower] {
        socket.send(Message::Binary(bytes.clone())).await.unwrap();
        let view = js_sys::Uint8Array::from(bytes.as_slice());
        socket.send(Message::JsBinary(view)).await.unwrap();
        socket.send(Message::Blob(blob_of(&bytes))).await.unwrap();
        socket.send(Message::from("ünïcödé ✓")).await.unwrap();
    }
    for (name, socket) in [("leader", &mut leader), ("follower", &mut follower)] {
        let (mut binary, mut text) = (0, 0);
        for _ in 0..8 {
            match within(5_000, "an echo", socket.next())
                .await
                .unwrap()
                .unwrap()
            {
                Message::Binary(received) => {
                    assert_eq!(
                        describe_pi_and_127(&received),
                        describe_pi_and_127(&bytes),
                        "{name}"
                    );
                    binary += 1;
                }
                Message::Text(received) => {
                    assert_eq!(received, "ünïcödé ✓", "{name}");
                    text += 1;
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!((binary, text), (6, 2), "{name}");
    }
    SinkExt::close(&mut follower).await.unwrap();
    assert!(within(1_000, "the follower's end", follower.next())
        .await
        .is_none());
    assert!(matches!(
        follower.send(Message::from("after closing")).await,
        Err(Error::NotOpen { .. })
    ));
    leader.send_text("still here").unwrap();
    assert_eq!(texts(&mut leader, 1).await, ["still here"]);
}

#[wasm_bindgen_test]
async fn another_tab_leads_when_the_leader_leaves_and_nothing_is_lost() {
    let id = unique_id("tabs-failover");
    let path = format!("/record?id={id}");
    let (leader, _) = tab(&id, &path, BinaryType::ArrayBuffer);
    let (mut b, b_seen) = tab(&id, &path, BinaryType::ArrayBuffer);
    let (mut c, c_seen) = tab(&id, &path, BinaryType::ArrayBuffer);
    all_connected(&[&leader, &b, &c]).await;
    b.send_text("b before").unwrap();
    c.send_text("c before").unwrap();
    assert_eq!(texts(&mut b, 2).await.len(), 2);
    let left_at = now_ms();
    drop(leader);
    // Sent while no tab leads: they wait in their tabs.
    for k in 0..3 {
        b.send_text(&format!("b during {k}")).unwrap();
        c.send_text(&format!("c during {k}")).unwrap();
    }
    let new_leader = all_connected_after(&[&b, &c], &[&b_seen, &c_seen]).await;
    let failover_ms = now_ms() - left_at;
    web_sys::console::log_1(&format!("failover: {failover_ms:.0} ms").into());
    assert!(failover_ms < 3_000.0, "{failover_ms} ms");
    let echoes = texts(if new_leader == 0 { &mut c } else { &mut b }, 6).await;
    assert_eq!(echoes.len(), 6);
    let log = server_log(&id).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0], ["b before", "c before", "close 1000 "]);
    for prefix in ["b", "c"] {
        let of_tab: Vec<&String> = log[1].iter().filter(|m| m.starts_with(prefix)).collect();
        let expected: Vec<String> = (0..3).map(|k| format!("{prefix} during {k}")).collect();
        assert_eq!(of_tab, expected.iter().collect::<Vec<_>>(), "{log:?}");
    }
    assert_eq!(log[1].len(), 6, "{log:?}");
}

/// Waits until the tabs left have a new leader and are connected again;
/// returns the new leader's index.
async fn all_connected_after(tabs: &[&SharedWebSocket], seen: &[&Seen]) -> usize {
    for _ in 0..200 {
        let led = seen
            .iter()
            .position(|seen| seen.borrow().contains(&SharedEvent::Leading));
        if let Some(led) = led {
            let reconnected = seen.iter().all(|seen| {
                let seen = seen.borrow();
                let down = seen.iter().rposition(|e| *e == SharedEvent::Disconnected);
                let up = seen.iter().rposition(|e| *e == SharedEvent::Connected);
                matches!((down, up), (Some(down), Some(up)) if up > down)
                    || seen.ends_with(&[SharedEvent::Leading, SharedEvent::Connected])
            });
            if reconnected && tabs.iter().all(|tab| tab.is_connected()) {
                return led;
            }
        }
        sleep(10).await;
    }
    panic!(
        "no new leader: {:?}",
        seen.iter().map(|s| s.borrow().clone()).collect::<Vec<_>>()
    );
}

#[wasm_bindgen_test]
async fn a_final_close_ends_every_tab() {
    let id = unique_id("tabs-final");
    let build = |id: &str| {
        SharedWebSocket::builder(url("/close?code=4001&reason=go+away"))
            .name(id)
            .configure(|leader| leader.policy(fast_policy().final_codes([4001])))
            .connect()
    };
    let mut leader = build(&id);
    let mut follower = build(&id);
    assert!(within(5_000, "the leader's end", leader.next())
        .await
        .is_none());
    assert!(within(5_000, "the follower's end", follower.next())
        .await
        .is_none());
    assert!(matches!(
        follower.send_text("late"),
        Err(Error::NotOpen { .. })
    ));
}

#[wasm_bindgen_test]
async fn without_web_locks_or_broadcast_channel_each_tab_connects_and_says_so() {
    for (missing, hide, restore) in [
        (
            "Web Locks",
            "Object.defineProperty(navigator, 'locks', { value: undefined, configurable: true })",
            "delete navigator.locks",
        ),
        (
            "BroadcastChannel",
            "globalThis.savedChannel = globalThis.BroadcastChannel; globalThis.BroadcastChannel = undefined",
            "globalThis.BroadcastChannel = globalThis.savedChannel",
        ),
    ] {
        let id = unique_id("tabs-alone");
        let path = format!("/record?id={id}");
        run_script(hide);
        let (mut one, one_seen) = tab(&id, &path, BinaryType::ArrayBuffer);
        let (mut two, _) = tab(&id, &path, BinaryType::ArrayBuffer);
        run_script(restore);
        assert_eq!(one_seen.borrow()[0], SharedEvent::PerTab { missing });
        assert_eq!((one.role(), two.role()), (Role::PerTab, Role::PerTab));
        one.send_text("one").unwrap();
        two.send_text("two").unwrap();
        assert_eq!(texts(&mut one, 1).await, ["one"]);
        assert_eq!(texts(&mut two, 1).await, ["two"]);
        assert_eq!(server_log(&id).await.len(), 2, "a connection per tab");
    }
}

#[wasm_bindgen_test]
async fn a_full_queue_is_a_typed_error_and_the_sink_waits() {
    let id = unique_id("tabs-full");
    // Nothing listens on the refused port: the messages wait in the tab.
    let refused = format!("ws://127.0.0.1:{REFUSED_PORT}/");
    let mut socket = SharedWebSocket::builder(refused)
        .name(&id)
        .queue_limit(2)
        .connect();
    socket.send_text("one").unwrap();
    socket.send_text("two").unwrap();
    assert_eq!(
        socket.send_text("three"),
        Err(Error::QueueFull {
            messages: 2,
            bytes: 6
        })
    );
    assert_eq!(socket.pending(), 2);
    let waited = futures_util::future::select(
        Box::pin(socket.send(Message::from("three"))),
        Box::pin(sleep(200)),
    )
    .await;
    assert!(matches!(waited, futures_util::future::Either::Right(_)));
}

#[wasm_bindgen_test]
async fn callbacks_get_every_message_and_nothing_stays_registered() {
    // It checks for zero at the end: earlier tests' sockets close first.
    wait_until("the earlier tests' sockets to close", || {
        browser_websocket::live_sockets() == 0 && browser_websocket::live_js_callbacks() == 0
    })
    .await;
    let id = unique_id("tabs-callbacks");
    let got = Rc::new(RefCell::new(Vec::new()));
    let sockets: Vec<SharedWebSocket> = (0..2)
        .map(|_| {
            let got = got.clone();
            SharedWebSocket::builder(url("/echo"))
                .name(&id)
                .on_message(move |message| got.borrow_mut().push(message))
                .connect()
        })
        .collect();
    all_connected(&[&sockets[0], &sockets[1]]).await;
    sockets[1].send_text("to both").unwrap();
    wait_until("both tabs' callbacks", || got.borrow().len() == 2).await;
    assert_eq!(
        *got.borrow(),
        [Message::from("to both"), Message::from("to both")]
    );
    drop(sockets);
    sleep(50).await;
    assert_eq!(browser_websocket::live_js_callbacks(), 0);
    assert_eq!(browser_websocket::live_sockets(), 0);
}

/// `on_message` gets binary messages too, in the tab's binary type, in the
/// leading and the following tab alike.
#[wasm_bindgen_test]
async fn callbacks_get_binary_messages_in_every_tab() {
    let bytes = pi_and_127();
    let id = unique_id("tabs-callbacks-binary");
    let got: Rc<RefCell<Vec<(usize, Message)>>> = Rc::default();
    let sockets: Vec<SharedWebSocket> = (0..2)
        .map(|index| {
            let got = got.clone();
            SharedWebSocket::builder(url("/echo"))
                .name(&id)
                .on_message(move |message| got.borrow_mut().push((index, message)))
                .connect()
        })
        .collect();
    all_connected(&[&sockets[0], &sockets[1]]).await;
    sockets[1].send_bytes(&bytes).unwrap();
    wait_until("both tabs' callbacks", || got.borrow().len() == 2).await;
    let mut got = got.take();
    got.sort_by_key(|(index, _)| *index);
    assert_eq!(
        got,
        [
            (0, Message::Binary(bytes.clone())),
            (1, Message::Binary(bytes))
        ]
    );
}

#[wasm_bindgen_test]
async fn a_leader_policy_from_configure_is_used() {
    // The reconnect policy given through `configure` governs the leader's
    // connection: two refused attempts, then the end for every tab.
    let id = unique_id("tabs-policy");
    let refused = format!("ws://127.0.0.1:{REFUSED_PORT}/");
    let mut socket = SharedWebSocket::builder(refused)
        .name(&id)
        .configure(|leader| leader.policy(fast_policy().max_attempts(Some(2))))
        .connect();
    assert!(within(10_000, "the end", socket.next()).await.is_none());
}

#[wasm_bindgen_test]
async fn leave_ends_this_tab_only_and_hands_the_connection_on() {
    let id = unique_id("tabs-leave");
    let path = format!("/record?id={id}");
    let (mut leader, _) = tab(&id, &path, BinaryType::ArrayBuffer);
    let (mut other, other_seen) = tab(&id, &path, BinaryType::ArrayBuffer);
    all_connected(&[&leader, &other]).await;
    leader.leave();
    assert!(within(1_000, "the leaver's end", leader.next())
        .await
        .is_none());
    assert!(matches!(
        leader.send_text("after leaving"),
        Err(Error::NotOpen { .. })
    ));
    other.send_text("still here").unwrap();
    assert_eq!(texts(&mut other, 1).await, ["still here"]);
    assert_eq!(other.role(), Role::Leader);
    assert_eq!(
        other_seen.borrow().as_slice(),
        [
            SharedEvent::Following,
            SharedEvent::Connected,
            SharedEvent::Disconnected,
            SharedEvent::Leading,
            SharedEvent::Connected
        ]
    );
    let log = server_log(&id).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0], ["close 1000 "]);
}

#[wasm_bindgen_test]
async fn a_tab_that_does_not_read_leaves_at_its_receive_limit_and_the_others_carry_on() {
    let id = unique_id("tabs-limit");
    let path = format!("/record?id={id}");
    let (mut reader, _) = tab(&id, &path, BinaryType::ArrayBuffer);
    let mut idle = SharedWebSocket::builder(url(&path))
        .name(&id)
        .receive_limit(Some(10))
        .connect();
    all_connected(&[&reader, &idle]).await;
    for text in ["12345678", "abcdefgh", "after"] {
        reader.send_text(text).unwrap();
    }
    assert_eq!(
        texts(&mut reader, 3).await,
        ["12345678", "abcdefgh", "after"]
    );
    // The idle tab kept two, passed its limit with the second, and left.
    left_at_its_limit(&mut idle).await;
    assert!(matches!(idle.send_text("x"), Err(Error::NotOpen { .. })));
    reader.send_text("still one connection").unwrap();
    assert_eq!(texts(&mut reader, 1).await, ["still one connection"]);
    assert_eq!(server_log(&id).await.len(), 1);
}

/// Waits until `idle` (limit 10 bytes, sent "12345678" and "abcdefgh") has
/// left, then checks its stream: the two texts it kept, the limit's error, the
/// end. Read only once it has left: the tabs hear the messages at different
/// times, and reading early would keep it under its limit.
async fn left_at_its_limit(idle: &mut SharedWebSocket) {
    wait_until("the idle tab to leave", || idle.is_finished()).await;
    let mut items = Vec::new();
    while let Some(item) = within(5_000, "the idle tab's stream", idle.next()).await {
        items.push(item);
    }
    assert_eq!(
        items,
        [
            Ok(Message::from("12345678")),
            Ok(Message::from("abcdefgh")),
            Err(Error::ReceiveLimitExceeded { limit: 10 })
        ]
    );
}

/// A leading tab that does not read leaves at its receive limit as a following
/// one does: its stream yields what it kept, the error, the end; the other tab
/// got every message it relayed before leaving, leads, connects again, and
/// carries on.
#[wasm_bindgen_test]
async fn a_leading_tab_that_does_not_read_leaves_at_its_limit_and_another_leads() {
    let id = unique_id("tabs-limit-leader");
    let path = format!("/record?id={id}");
    let mut idle = SharedWebSocket::builder(url(&path))
        .name(&id)
        .receive_limit(Some(10))
        .configure(|leader| leader.policy(fast_policy()))
        .connect();
    let (mut reader, reader_seen) = tab(&id, &path, BinaryType::ArrayBuffer);
    assert_eq!(all_connected(&[&idle, &reader]).await, 0);
    for text in ["12345678", "abcdefgh"] {
        reader.send_text(text).unwrap();
    }
    assert_eq!(texts(&mut reader, 2).await, ["12345678", "abcdefgh"]);
    left_at_its_limit(&mut idle).await;
    wait_until("the reader to lead, connected", || {
        reader.role() == Role::Leader && reader.is_connected()
    })
    .await;
    reader.send_text("on the next connection").unwrap();
    assert_eq!(texts(&mut reader, 1).await, ["on the next connection"]);
    assert!(reader_seen.borrow().contains(&SharedEvent::Leading));
    let log = server_log(&id).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1], ["on the next connection"]);
}

/// The leader's heartbeat, set through `configure`, runs on the shared
/// connection: its pongs reach no tab's stream (the next message every tab
/// reads is the app's), and when the server stops answering (half-open) it
/// finds the connection dead and the leader replaces it.
#[wasm_bindgen_test]
async fn a_leader_heartbeat_from_configure_runs_and_its_pongs_stay_out_of_every_stream() {
    let id = unique_id("tabs-heartbeat");
    let path = format!("/record?id={id}");
    let mut leader = SharedWebSocket::builder(url(&path))
        .name(&id)
        .configure(|leader| {
            leader.policy(fast_policy()).heartbeat(Heartbeat::new(
                std::time::Duration::from_millis(100),
                std::time::Duration::from_millis(1_000),
                "ping",
                |message| message.as_text() == Some("pong"),
            ))
        })
        .connect();
    let (mut follower, follower_seen) = tab(&id, &path, BinaryType::ArrayBuffer);
    assert_eq!(all_connected(&[&leader, &follower]).await, 0);
    // Several pings and pongs go by; no tab sees a pong.
    sleep(500).await;
    follower.send_text("app").unwrap();
    assert_eq!(texts(&mut follower, 1).await, ["app"]);
    assert_eq!(texts(&mut leader, 1).await, ["app"]);
    // The server goes silent: the heartbeat times out, a new connection opens.
    follower.send_text("mute").unwrap();
    for _ in 0..500 {
        if server_log(&id).await.len() == 2 {
            break;
        }
        sleep(10).await;
    }
    all_connected(&[&leader, &follower]).await;
    follower.send_text("after").unwrap();
    assert_eq!(texts(&mut follower, 1).await, ["after"]);
    assert_eq!(texts(&mut leader, 1).await, ["after"]);
    let log = server_log(&id).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1], ["after"], "{log:?}");
    assert!(follower_seen
        .borrow()
        .ends_with(&[SharedEvent::Disconnected, SharedEvent::Connected]));
}

/// The page going into the back/forward cache (`pagehide`, persisted): every
/// tab of it steps out (no role, no connection: a frozen page must not hold
/// the lock), and what it sends meanwhile waits; back (`pageshow`), they join
/// again, one leads on a new connection, and every waiting message reaches it
/// once. (Both tabs here share the page, so both step out; across real windows
/// the others lead meanwhile: the end-to-end test.)
#[wasm_bindgen_test]
async fn tabs_step_out_while_the_page_is_cached_and_join_again_when_back() {
    let id = unique_id("tabs-bfcache");
    let path = format!("/record?id={id}");
    let (mut one, one_seen) = tab(&id, &path, BinaryType::ArrayBuffer);
    let (mut two, two_seen) = tab(&id, &path, BinaryType::ArrayBuffer);
    all_connected(&[&one, &two]).await;
    one.send_text("before").unwrap();
    assert_eq!(texts(&mut one, 1).await, ["before"]);
    assert_eq!(texts(&mut two, 1).await, ["before"]);
    run_script("dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))");
    for socket in [&one, &two] {
        assert_eq!(socket.role(), Role::Electing, "{socket:?}");
        assert!(!socket.is_connected());
    }
    one.send_text("while away").unwrap();
    two.send_bytes(&[1, 2, 3]).unwrap();
    sleep(100).await;
    assert_eq!(server_log(&id).await.len(), 1, "no tab connects while away");
    run_script("dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))");
    all_connected(&[&one, &two]).await;
    let mut received = Vec::new();
    for socket in [&mut one, &mut two] {
        let mut got = Vec::new();
        while got.len() < 2 {
            got.push(
                within(5_000, "a message", socket.next())
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
        received.push(got);
    }
    assert_eq!(received[0], received[1]);
    assert!(received[0].contains(&Message::from("while away")));
    // (The route echoes what it recorded: binary as "binary N".)
    assert!(received[0].contains(&Message::from("binary 3")));
    let log = server_log(&id).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log[1].contains(&"while away".to_owned()), "{log:?}");
    for seen in [&one_seen, &two_seen] {
        let seen = seen.borrow();
        let away = seen.iter().position(|e| *e == SharedEvent::Disconnected);
        assert!(away.is_some(), "{seen:?}");
        assert_eq!(seen.last(), Some(&SharedEvent::Connected), "{seen:?}");
    }
}
