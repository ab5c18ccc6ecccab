//! The worker suites' cases, run in a dedicated worker (`worker.rs`) and in a
//! shared worker (`shared_worker.rs`): no `window` in either.
#![allow(dead_code)]

use browser_websocket::{
    live_js_callbacks, live_sockets, Callbacks, CloseCode, Error, Message, WebSocket,
};
use futures_util::StreamExt;
use wasm_bindgen::JsCast;

use crate::common::*;

pub async fn echo_and_close_from_a_worker() {
    let mut socket = connect("/echo").await;
    socket.send_text("from a worker").unwrap();
    assert_eq!(
        next_message(&mut socket).await,
        Message::Text("from a worker".into())
    );
    socket.send_bytes(&pi_and_127()).unwrap();
    let Message::Binary(bytes) = next_message(&mut socket).await else {
        panic!("expected binary");
    };
    assert_eq!(describe_pi_and_127(&bytes), "Uint8: 127 Float32: 3.1415927");
    socket.close_with(4001, "bye").unwrap();
    assert!(within(10_000, "end of stream", socket.next())
        .await
        .is_none());
    assert_eq!(socket.closed().await.code, CloseCode::Private(4001));
}

pub async fn relative_urls_resolve_against_the_worker_location() {
    let relative = url("/echo").replacen("ws:", "", 1);
    let socket = within(10_000, "connect", WebSocket::connect(&relative))
        .await
        .unwrap();
    assert_eq!(socket.url(), url("/echo"));
    let location = js_sys::global()
        .unchecked_into::<web_sys::WorkerGlobalScope>()
        .location();
    let handle = WebSocket::builder("/x")
        .open_with_callbacks(Callbacks::new())
        .unwrap();
    assert_eq!(handle.url(), format!("ws://{}/x", location.host()));
}

pub async fn callbacks_and_failures_in_a_worker() {
    let (done, finished) = futures_channel::oneshot::channel();
    let mut done = Some(done);
    let _socket = WebSocket::builder(&url("/echo"))
        .open_with_callbacks(
            Callbacks::new()
                .on_open(|socket| socket.send_text("ping").unwrap())
                .on_message(move |socket, message| {
                    if let Some(done) = done.take() {
                        let _ = done.send(message);
                    }
                    socket.close_normal().unwrap();
                }),
        )
        .unwrap();
    assert_eq!(
        within(10_000, "on_message", finished).await.unwrap(),
        Message::Text("ping".into())
    );

    let failure = within(15_000, "failure", WebSocket::connect(&url("/reject")))
        .await
        .unwrap_err();
    assert!(
        matches!(failure, Error::ConnectionFailed(ref event) if event.code == CloseCode::Abnormal),
        "{failure:?}"
    );
}

pub async fn dropped_sockets_leave_nothing_alive_in_a_worker() {
    let sockets = live_sockets();
    let listeners = live_js_callbacks();
    for _ in 0..50 {
        drop(connect("/echo").await);
    }
    assert_eq!(live_sockets(), sockets);
    assert_eq!(live_js_callbacks(), listeners);
}

pub async fn reconnecting_socket_comes_back_in_a_worker() {
    let sockets = live_sockets();
    let listeners = live_js_callbacks();
    let policy = browser_websocket::ReconnectPolicy::default().delays(
        std::time::Duration::from_millis(20),
        std::time::Duration::from_millis(100),
    );
    let mut socket = browser_websocket::ReconnectingWebSocket::builder(url("/abrupt"))
        .policy(policy)
        .connect();
    assert_eq!(next_message(&mut socket).await, Message::Text("bye".into()));
    socket.send_text("drop now").unwrap();
    // Dropped by the server, back again: the new connection says bye too.
    assert_eq!(next_message(&mut socket).await, Message::Text("bye".into()));
    socket.close_normal().unwrap();
    assert!(within(10_000, "end of stream", socket.next())
        .await
        .is_none());
    drop(socket);
    sleep(50).await;
    assert_eq!(live_sockets(), sockets);
    assert_eq!(live_js_callbacks(), listeners);
}

/// Two shared sockets of one name in the worker share one connection where the
/// worker has Web Locks and `BroadcastChannel` (and fall back to one each,
/// saying so, where not).
pub async fn shared_socket_in_a_worker() {
    use browser_websocket::tabs::{Role, SharedWebSocket};
    let id = unique_id("worker-tabs");
    let path = url(&format!("/record?id={id}"));
    let mut a = SharedWebSocket::builder(&path).name(&id).connect();
    let mut b = SharedWebSocket::builder(&path).name(&id).connect();
    for _ in 0..200 {
        if a.is_connected() && b.is_connected() {
            break;
        }
        sleep(25).await;
    }
    assert!(a.is_connected() && b.is_connected(), "{a:?} {b:?}");
    let sharing = js_sys::eval(
        "typeof BroadcastChannel === 'function' && !!(self.navigator && navigator.locks)",
    )
    .unwrap()
    .as_bool()
    .unwrap();
    b.send_text("from b").unwrap();
    a.send_text("from a").unwrap();
    let (mut from_a, mut from_b) = (Vec::new(), Vec::new());
    let expected = if sharing { 2 } else { 1 };
    while from_a.len() < expected {
        from_a.push(next_message(&mut a).await);
    }
    while from_b.len() < expected {
        from_b.push(next_message(&mut b).await);
    }
    let sessions = server_log(&id).await;
    if sharing {
        assert_eq!((a.role(), b.role()), (Role::Leader, Role::Follower));
        assert_eq!(from_a, from_b);
        // One connection; between tabs, the order is the one the leader heard.
        assert_eq!(sessions.len(), 1, "{sessions:?}");
        let mut logged = sessions[0].clone();
        logged.sort();
        assert_eq!(logged, ["from a", "from b"]);
    } else {
        assert_eq!((a.role(), b.role()), (Role::PerTab, Role::PerTab));
        assert_eq!(sessions.len(), 2);
    }
}

/// Without Web Locks, or without `BroadcastChannel`, in the worker (each
/// hidden while the sockets are made), each shared socket connects alone and
/// says which API is missing; each gets its own echoes on its own connection.
pub async fn shared_socket_without_an_api_in_a_worker_connects_alone() {
    use browser_websocket::tabs::{Role, SharedEvent, SharedWebSocket};
    use std::cell::RefCell;
    use std::rc::Rc;
    for (missing, hide, restore) in [
        (
            "Web Locks",
            "Object.defineProperty(navigator, 'locks', { value: undefined, configurable: true })",
            "delete navigator.locks",
        ),
        (
            "BroadcastChannel",
            "self.savedChannel = self.BroadcastChannel; self.BroadcastChannel = undefined",
            "self.BroadcastChannel = self.savedChannel",
        ),
    ] {
        let id = unique_id("worker-tabs-alone");
        let path = url(&format!("/record?id={id}"));
        let seen: Rc<RefCell<Vec<SharedEvent>>> = Rc::default();
        let log = seen.clone();
        run_script(hide);
        let mut one = SharedWebSocket::builder(&path)
            .name(&id)
            .on_event(move |event| log.borrow_mut().push(event.clone()))
            .connect();
        let mut two = SharedWebSocket::builder(&path).name(&id).connect();
        run_script(restore);
        assert_eq!(
            seen.borrow().first(),
            Some(&SharedEvent::PerTab { missing })
        );
        assert_eq!((one.role(), two.role()), (Role::PerTab, Role::PerTab));
        one.send_text("one").unwrap();
        two.send_text("two").unwrap();
        assert_eq!(next_message(&mut one).await, Message::from("one"));
        assert_eq!(next_message(&mut two).await, Message::from("two"));
        assert_eq!(server_log(&id).await.len(), 2, "a connection each");
    }
}

/// Declares one `#[wasm_bindgen_test]` per case above, in the suite that
/// invokes it: every case runs in every worker suite.
#[macro_export]
macro_rules! worker_suite {
    () => {
        #[wasm_bindgen_test]
        async fn echo_and_close_from_a_worker() {
            worker_cases::echo_and_close_from_a_worker().await;
        }
        #[wasm_bindgen_test]
        async fn relative_urls_resolve_against_the_worker_location() {
            worker_cases::relative_urls_resolve_against_the_worker_location().await;
        }
        #[wasm_bindgen_test]
        async fn callbacks_and_failures_in_a_worker() {
            worker_cases::callbacks_and_failures_in_a_worker().await;
        }
        #[wasm_bindgen_test]
        async fn dropped_sockets_leave_nothing_alive_in_a_worker() {
            worker_cases::dropped_sockets_leave_nothing_alive_in_a_worker().await;
        }
        #[wasm_bindgen_test]
        async fn reconnecting_socket_comes_back_in_a_worker() {
            worker_cases::reconnecting_socket_comes_back_in_a_worker().await;
        }
        #[wasm_bindgen_test]
        async fn shared_socket_in_a_worker() {
            worker_cases::shared_socket_in_a_worker().await;
        }
        #[wasm_bindgen_test]
        async fn shared_socket_without_an_api_in_a_worker_connects_alone() {
            worker_cases::shared_socket_without_an_api_in_a_worker_connects_alone().await;
        }
    };
}
