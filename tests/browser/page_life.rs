//! Verifies the reconnecting socket through the page's life, against the test
//! server's recording route (`/record`: one log per connection, in order):
//! - the back/forward cache: `pagehide` (persisted) closes cleanly, reported as
//!   `Suspended`, not a failure; `pageshow` (persisted) reconnects at once;
//! - the page visible again checks the connection: a half-open one (the server
//!   stopped answering without closing) is replaced at once, a live one is
//!   reported alive;
//! - a timer held up as by sleep (the page's thread blocked past the timer)
//!   checks at once;
//! - offline: failed attempts do not count; online: a retry starts at once;
//! - the idle timeout without a heartbeat drops a silent connection, and keeps
//!   a talking one;
//! - `ensure_alive` resolves on a live connection, and after replacing a dead
//!   one;
//! - the send policies and the open hook: each session gets its hook's
//!   messages first, then what was queued for it, and nothing a policy said
//!   to drop; every received message says its session.
//!
//! The lifecycle events are dispatched as the browser would dispatch them (a
//! page cannot put itself into the cache); the end-to-end test drives a real
//! Back navigation through WebDriver.

use std::time::Duration;

use crate::common::*;
use browser_websocket::{
    CheckReason, CloseCode, CloseEvent, Error, Heartbeat, Message, ReadyState, ReconnectEvent,
    SendPolicy,
};
use futures_util::{SinkExt, StreamExt};
use wasm_bindgen_test::*;

fn page_hidden_into_cache() {
    run_script("dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))");
}

fn page_shown_from_cache() {
    run_script("dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))");
}

fn page_visible() {
    run_script("document.dispatchEvent(new Event('visibilitychange'))");
}

/// Blocks the page's thread for `ms`, as a sleeping machine stops its timers.
fn block_thread(ms: f64) {
    let start = js_sys::Date::now();
    while js_sys::Date::now() - start < ms {}
}

/// Waits until the server's log of `id` has a session `session` (from 1)
/// whose last entry is `last`.
async fn wait_for_log_entry(id: &str, session: usize, last: &str) -> Vec<Vec<String>> {
    for _ in 0..100 {
        let log = server_log(id).await;
        let ended = log
            .get(session - 1)
            .and_then(|entries| entries.last())
            .is_some_and(|entry| entry == last);
        if ended {
            return log;
        }
        sleep(50).await;
    }
    panic!(
        "session {session} of {id} never logged {last:?}: {:?}",
        server_log(id).await
    );
}

fn opened(session: u64) -> impl Fn(&[ReconnectEvent]) -> bool {
    move |events| {
        events
            .iter()
            .any(|event| matches!(event, ReconnectEvent::Open { session: s, .. } if *s == session))
    }
}

/// The events after the first `skip`.
fn after(events: &Events, skip: usize) -> Vec<ReconnectEvent> {
    events.borrow()[skip..].to_vec()
}

/// A 1006 this crate made, with why.
fn abnormal(reason: &str) -> CloseEvent {
    CloseEvent {
        code: CloseCode::Abnormal,
        reason: reason.to_owned(),
        was_clean: false,
    }
}

fn connecting_at_once() -> ReconnectEvent {
    ReconnectEvent::Connecting {
        attempt: 1,
        delay: Duration::ZERO,
    }
}

fn dead_by_heartbeat(session: u64) -> ReconnectEvent {
    ReconnectEvent::Closed {
        session: Some(session),
        close: abnormal("heartbeat timeout"),
    }
}

fn text_heartbeat(interval_ms: u64, timeout_ms: u64) -> Heartbeat {
    Heartbeat::new(
        Duration::from_millis(interval_ms),
        Duration::from_millis(timeout_ms),
        "ping",
        |message| message.as_text() == Some("pong"),
    )
}

#[wasm_bindgen_test]
async fn back_forward_cache_suspends_cleanly_and_resumes_at_once() {
    let id = unique_id("bfcache");
    let (builder, events) = recording(&format!("/record?id={id}"), fast_policy());
    let mut socket = builder.connect();
    socket.send_text("before").unwrap();
    assert_eq!(
        socket.with_sessions().next().await.unwrap().unwrap(),
        (1, Message::from("before"))
    );
    let seen = events.borrow().len();

    page_hidden_into_cache();
    assert_eq!(
        after(&events, seen),
        [ReconnectEvent::Suspended { session: Some(1) }]
    );
    assert!(!socket.is_connected());
    // The server saw a clean close, not a drop.
    wait_for_log_entry(&id, 1, "close 1000 page suspended").await;
    // Sent while in the cache: queued for the next session.
    socket.send_text("while cached").unwrap();
    sleep(300).await;
    assert_eq!(after(&events, seen).len(), 1, "nothing while suspended");

    let shown_at = now_ms();
    page_shown_from_cache();
    wait_for_events(&events, "the resumed session", opened(2)).await;
    let back_in_ms = now_ms() - shown_at;
    assert_eq!(
        after(&events, seen),
        [
            ReconnectEvent::Suspended { session: Some(1) },
            ReconnectEvent::Resumed,
            connecting_at_once(),
            ReconnectEvent::Open {
                attempt: 1,
                session: 2
            },
        ]
    );
    assert_eq!(
        socket.with_sessions().next().await.unwrap().unwrap(),
        (2, Message::from("while cached"))
    );
    report_figure(
        "back/forward cache: pageshow to a working connection",
        &format!("{back_in_ms:.0} ms"),
    )
    .await;
    socket.close_normal().unwrap();
    let log = wait_for_log_entry(&id, 2, "close 1000 ").await;
    assert_eq!(
        log,
        [
            vec!["before", "close 1000 page suspended"],
            vec!["while cached", "close 1000 "],
        ]
    );
}

#[wasm_bindgen_test]
async fn visible_again_replaces_a_half_open_connection_at_once() {
    let id = unique_id("visible-dead");
    let (builder, events) = recording(&format!("/record?id={id}"), fast_policy());
    // A heartbeat too slow to notice by itself within the test.
    let socket = builder.heartbeat(text_heartbeat(60_000, 500)).connect();
    wait_for_events(&events, "the first session", opened(1)).await;
    socket.send_text("mute").unwrap(); // the server stops answering, TCP stays up
    sleep(200).await;
    let seen = events.borrow().len();

    let visible_at = now_ms();
    page_visible();
    wait_for_events(&events, "the new session", opened(2)).await;
    let back_in_ms = now_ms() - visible_at;
    assert_eq!(
        after(&events, seen),
        [
            ReconnectEvent::Checking {
                session: 1,
                reason: CheckReason::Visible
            },
            dead_by_heartbeat(1),
            connecting_at_once(),
            ReconnectEvent::Open {
                attempt: 1,
                session: 2
            },
        ]
    );
    report_figure(
        "half-open server, page shown: to a working connection (500 ms ping timeout)",
        &format!("{back_in_ms:.0} ms"),
    )
    .await;
    socket.close_normal().unwrap();
}

#[wasm_bindgen_test]
async fn visible_again_finds_a_live_connection_alive() {
    let id = unique_id("visible-live");
    let (builder, events) = recording(&format!("/record?id={id}"), fast_policy());
    let socket = builder.heartbeat(text_heartbeat(60_000, 2_000)).connect();
    wait_for_events(&events, "the first session", opened(1)).await;
    let seen = events.borrow().len();
    page_visible();
    wait_for_events(&events, "the answer", |events| {
        events.contains(&ReconnectEvent::Alive { session: 1 })
    })
    .await;
    assert_eq!(
        after(&events, seen),
        [
            ReconnectEvent::Checking {
                session: 1,
                reason: CheckReason::Visible
            },
            ReconnectEvent::Alive { session: 1 },
        ]
    );
    socket.close_normal().unwrap();
}

#[wasm_bindgen_test]
async fn a_timer_held_up_as_by_sleep_checks_and_replaces_a_dead_connection() {
    let id = unique_id("slept");
    let (builder, events) = recording(&format!("/record?id={id}"), fast_policy());
    let socket = builder.heartbeat(text_heartbeat(1_000, 1_000)).connect();
    wait_for_events(&events, "the first session", opened(1)).await;
    socket.send_text("mute").unwrap();
    let seen = events.borrow().len();
    // The ping timer (1 s) fires 4.5 s late, as after the lid was closed.
    block_thread(4_500.0);
    let woke_at = now_ms();
    wait_for_events(&events, "the new session", opened(2)).await;
    let back_in_ms = now_ms() - woke_at;
    assert_eq!(
        after(&events, seen),
        [
            ReconnectEvent::Checking {
                session: 1,
                reason: CheckReason::Slept
            },
            dead_by_heartbeat(1),
            connecting_at_once(),
            ReconnectEvent::Open {
                attempt: 1,
                session: 2
            },
        ]
    );
    report_figure(
        "half-open server, 4.5 s asleep: waking to a working connection (1 s ping timeout)",
        &format!("{back_in_ms:.0} ms"),
    )
    .await;
    socket.close_normal().unwrap();
}

#[wasm_bindgen_test]
async fn a_timer_held_up_as_by_sleep_finds_a_live_connection_alive() {
    let id = unique_id("slept-live");
    let (builder, events) = recording(&format!("/record?id={id}"), fast_policy());
    let socket = builder.heartbeat(text_heartbeat(1_000, 2_000)).connect();
    wait_for_events(&events, "the first session", opened(1)).await;
    let seen = events.borrow().len();
    block_thread(4_500.0);
    wait_for_events(&events, "the answer", |events| {
        events.contains(&ReconnectEvent::Alive { session: 1 })
    })
    .await;
    assert_eq!(
        after(&events, seen)[..2],
        [
            ReconnectEvent::Checking {
                session: 1,
                reason: CheckReason::Slept
            },
            ReconnectEvent::Alive { session: 1 },
        ]
    );
    assert_eq!(socket.session(), Some(1));
    socket.close_normal().unwrap();
}

#[wasm_bindgen_test]
async fn offline_attempts_do_not_count_and_online_retries_at_once() {
    let id = unique_id("offline");
    // Every attempt is refused with 403; two failures in a row give up.
    let policy = fast_policy()
        .delays(Duration::from_millis(20), Duration::from_millis(100))
        .max_attempts(Some(2));
    let (builder, events) = recording(&format!("/flaky?id={id}&reject=1000"), policy);
    let socket = builder.connect();
    run_script("dispatchEvent(new Event('offline'))");
    let failures = |events: &[ReconnectEvent]| {
        events
            .iter()
            .filter(|event| matches!(event, ReconnectEvent::Closed { session: None, .. }))
            .count()
    };
    wait_for_events(&events, "four failures while offline", |events| {
        failures(events) >= 4
    })
    .await;
    let seen = events.borrow().clone();
    assert_eq!(seen[1], ReconnectEvent::Offline, "{seen:?}");
    assert!(
        !seen
            .iter()
            .any(|event| matches!(event, ReconnectEvent::GaveUp { .. })),
        "{seen:?}"
    );
    // Offline, every retry waits the policy's longest delay and stays attempt 1.
    assert!(seen.iter().skip(2).all(|event| match event {
        ReconnectEvent::Connecting { attempt, delay } =>
            *attempt == 1 && *delay == Duration::from_millis(100),
        _ => true,
    }));
    let before_online = seen.len();
    run_script("dispatchEvent(new Event('online'))");
    wait_for_events(&events, "giving up after two counted failures", |events| {
        events.contains(&ReconnectEvent::GaveUp { attempts: 2 })
    })
    .await;
    let online = after(&events, before_online);
    assert_eq!(online[0], ReconnectEvent::Online, "{online:?}");
    assert_eq!(
        failures(&online),
        2,
        "two counted failures, then GaveUp: {online:?}"
    );
    drop(socket);
}

#[wasm_bindgen_test]
async fn the_idle_timeout_drops_a_silent_connection_and_keeps_a_talking_one() {
    let id = unique_id("idle");
    let (builder, events) = recording(&format!("/record?id={id}"), fast_policy());
    let mut socket = builder.idle_timeout(Duration::from_millis(600)).connect();
    wait_for_events(&events, "the first session", opened(1)).await;
    // Talking: an echo every 200 ms for 1.5 s keeps it.
    for round in 0..8 {
        socket.send_text(&format!("talk {round}")).unwrap();
        next_message(&mut socket).await;
        sleep(200).await;
    }
    assert_eq!(socket.session(), Some(1), "{:?}", events.borrow());
    socket.send_text("mute").unwrap();
    wait_for_events(&events, "the replacement", opened(2)).await;
    let closes: Vec<_> = events
        .borrow()
        .iter()
        .filter_map(|event| match event {
            ReconnectEvent::Closed { session, close } => Some((*session, close.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(closes, [(Some(1), abnormal("idle timeout"))]);
    socket.close_normal().unwrap();
}

#[wasm_bindgen_test]
async fn ensure_alive_proves_a_live_connection_and_replaces_a_dead_one() {
    let id = unique_id("ensure");
    let (builder, events) = recording(&format!("/record?id={id}"), fast_policy());
    let socket = builder.heartbeat(text_heartbeat(60_000, 500)).connect();
    // Before any connection: the first opening is the proof.
    assert_eq!(
        within(5_000, "the first open", socket.ensure_alive()).await,
        Ok(1)
    );
    assert_eq!(
        within(5_000, "a live answer", socket.ensure_alive()).await,
        Ok(1)
    );
    socket.send_text("mute").unwrap();
    sleep(100).await;
    assert_eq!(
        within(5_000, "the replacement", socket.ensure_alive()).await,
        Ok(2)
    );
    assert!(events.borrow().contains(&dead_by_heartbeat(1)));
    socket.close_normal().unwrap();
    assert_eq!(
        within(5_000, "the closed socket", socket.ensure_alive()).await,
        Err(Error::NotOpen {
            state: ReadyState::Closed
        })
    );
}

#[wasm_bindgen_test]
async fn without_heartbeat_or_idle_timeout_ensure_alive_takes_the_browsers_word() {
    let (builder, _events) = recording(&format!("/record?id={}", unique_id("word")), fast_policy());
    let socket = builder.connect();
    assert_eq!(socket.ensure_alive().await, Ok(1));
    assert_eq!(within(1_000, "at once", socket.ensure_alive()).await, Ok(1));
    socket.close_normal().unwrap();
}

#[wasm_bindgen_test]
async fn each_session_gets_its_open_hook_first_then_what_its_policy_allows() {
    let id = unique_id("policies");
    // A second between sessions, to send in.
    let policy = fast_policy().delays(Duration::from_secs(1), Duration::from_secs(1));
    let (builder, events) = recording(&format!("/record?id={id}"), policy);
    let mut socket = builder
        .on_open(|socket, session| {
            socket.send_text(&format!("auth {session}")).unwrap();
        })
        .connect();
    // Before the first connection.
    socket.send_text("replay 1").unwrap();
    socket
        .send_with(&Message::from("drop 1"), SendPolicy::DropOnDisconnect)
        .unwrap();
    assert_eq!(
        socket.send_with(&Message::from("fail 1"), SendPolicy::FailOnDisconnect),
        Err(Error::NotOpen {
            state: ReadyState::Connecting
        })
    );
    assert_eq!(socket.discarded(), 1);
    wait_for_events(&events, "the first session", opened(1)).await;
    socket
        .send_with(&Message::from("live 1"), SendPolicy::DropOnDisconnect)
        .unwrap();
    socket
        .send_with(&Message::from("live 1 again"), SendPolicy::FailOnDisconnect)
        .unwrap();
    socket.send_text("drop").unwrap(); // the server drops TCP: session 1 ends
    wait_for_events(&events, "the drop", |events| {
        events.iter().any(|event| {
            matches!(
                event,
                ReconnectEvent::Closed {
                    session: Some(1),
                    ..
                }
            )
        })
    })
    .await;
    // Between sessions.
    socket.send_text("replay 2").unwrap();
    socket
        .send_with(&Message::from("drop 2"), SendPolicy::DropOnDisconnect)
        .unwrap();
    assert!(socket
        .send_with(&Message::from("fail 2"), SendPolicy::FailOnDisconnect)
        .is_err());
    assert_eq!(socket.discarded(), 2);
    wait_for_events(&events, "the second session", opened(2)).await;

    let mut received = Vec::new();
    while received.len() < 6 {
        let (session, message) = socket.with_sessions().next().await.unwrap().unwrap();
        received.push((session, message.as_text().unwrap().to_owned()));
    }
    let expected = [
        (1, "auth 1"),
        (1, "replay 1"),
        (1, "live 1"),
        (1, "live 1 again"),
        (2, "auth 2"),
        (2, "replay 2"),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(session, text)| (*session, (*text).to_owned()))
        .collect();
    assert_eq!(received, expected);
    socket.close_normal().unwrap();
    let log = wait_for_log_entry(&id, 2, "close 1000 ").await;
    assert_eq!(
        log,
        [
            vec!["auth 1", "replay 1", "live 1", "live 1 again", "dropped"],
            vec!["auth 2", "replay 2", "close 1000 "],
        ]
    );
}

#[wasm_bindgen_test]
async fn the_sink_follows_its_send_policy_while_disconnected() {
    // `/hang` never answers the upgrade: no connection opens.
    let (builder, _events) = recording("/hang", fast_policy());
    let mut failing = builder.send_policy(SendPolicy::FailOnDisconnect).connect();
    assert_eq!(
        within(2_000, "the failing send", failing.send(Message::from("x"))).await,
        Err(Error::NotOpen {
            state: ReadyState::Connecting
        })
    );
    let (builder, _events) = recording("/hang", fast_policy());
    let mut dropping = builder.send_policy(SendPolicy::DropOnDisconnect).connect();
    for _ in 0..3 {
        within(2_000, "the dropped send", dropping.send(Message::from("x")))
            .await
            .unwrap();
    }
    assert_eq!((dropping.discarded(), dropping.queued()), (3, 0));
}
