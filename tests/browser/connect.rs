//! Verifies connecting, URL rules and connection failures:
//! - `ws:` connects, `http:` is mapped to `ws:`, and a scheme-relative URL is
//!   resolved against the page's base URL (all three really connect);
//! - a fragment, another scheme, an unparsable URL, a bad or duplicate
//!   subprotocol are typed errors found before any socket exists; a URL's
//!   secrets (user info, query values, fragment) never show in such an error,
//!   on the plain or the reconnecting socket, even where the engine's parser
//!   quotes the URL;
//! - the subprotocol the server selects is reported, and the server saw the list;
//! - a refused port, an HTTP 403 on the upgrade and a plain HTTP page each give
//!   `ConnectionFailed` with code 1006, and no listener is left behind;
//! - a port the browser blocks gives a typed error, never a hang (WebKit fires no
//!   `close` there);
//! - every getter reports the open socket;
//! - dropping the connect future before it resolves closes the socket and detaches
//!   its listeners.

use crate::common::*;
use browser_websocket::{
    BinaryType, CloseCode, Error, Message, ReadyState, ReconnectEvent, WebSocket,
};
use wasm_bindgen_test::*;

#[wasm_bindgen_test]
async fn getters_describe_the_open_socket() {
    let socket = connect("/echo").await;
    assert_eq!(socket.url(), url("/echo"));
    assert_eq!(socket.ready_state(), ReadyState::Open);
    assert_eq!(socket.protocol(), "");
    // The test server offers no extensions.
    assert_eq!(socket.extensions(), "");
    assert_eq!(socket.buffered_amount(), 0);
    assert_eq!(socket.binary_type(), BinaryType::ArrayBuffer);
    assert_eq!(socket.close_event(), None);
}

#[wasm_bindgen_test]
async fn http_url_is_mapped_to_ws_and_connects() {
    let http = url("/echo").replacen("ws:", "http:", 1);
    let mut socket = within(10_000, "connect", WebSocket::connect(&http))
        .await
        .unwrap();
    assert_eq!(socket.url(), url("/echo"));
    socket.send_text("via http:").unwrap();
    assert_eq!(
        next_message(&mut socket).await,
        Message::Text("via http:".into())
    );
}

#[wasm_bindgen_test]
async fn scheme_relative_url_resolves_against_the_page_and_connects() {
    // "//host:port/echo" takes the page's scheme (http:), which then maps to ws:.
    let relative = url("/echo").replacen("ws:", "", 1);
    assert!(relative.starts_with("//"));
    let socket = within(10_000, "connect", WebSocket::connect(&relative))
        .await
        .unwrap();
    assert_eq!(socket.url(), url("/echo"));
}

#[wasm_bindgen_test]
async fn path_relative_url_resolves_against_the_page() {
    // The page is served over http: by the test runner, so "/echo" becomes
    // ws://<page host>/echo. Nothing WebSocket listens there: the connection
    // fails, but only after the URL was resolved and accepted.
    let page = web_sys::window().unwrap().location();
    let expected = format!("ws://{}/echo", page.host().unwrap());
    let failure = within(10_000, "connect", WebSocket::connect("/echo"))
        .await
        .unwrap_err();
    assert!(matches!(failure, Error::ConnectionFailed(_)), "{failure:?}");
    let handle = WebSocket::builder("/echo")
        .open_with_callbacks(browser_websocket::Callbacks::new())
        .unwrap();
    assert_eq!(handle.url(), expected);
}

#[wasm_bindgen_test]
async fn bad_urls_and_protocols_are_typed_errors_before_any_socket_exists() {
    let before = browser_websocket::live_sockets();
    let echo = url("/echo");
    let cases: Vec<(String, Vec<&str>, Error)> = vec![
        (
            format!("{echo}#frag"),
            vec![],
            Error::UrlHasFragment {
                url: format!("{echo}#frag").into(),
            },
        ),
        (
            format!("{echo}#"),
            vec![],
            Error::UrlHasFragment {
                url: format!("{echo}#").into(),
            },
        ),
        (
            "ftp://127.0.0.1/".into(),
            vec![],
            Error::InvalidScheme {
                url: "ftp://127.0.0.1/".into(),
                scheme: "ftp".into(),
            },
        ),
        (
            echo.clone(),
            vec!["chat v1"],
            Error::InvalidProtocol {
                protocol: "chat v1".into(),
            },
        ),
        (
            echo.clone(),
            vec![""],
            Error::InvalidProtocol {
                protocol: "".into(),
            },
        ),
        (
            echo.clone(),
            vec!["a", "b", "a"],
            Error::DuplicateProtocol {
                protocol: "a".into(),
            },
        ),
    ];
    for (input, protocols, expected) in cases {
        let result = WebSocket::builder(&input)
            .protocols(protocols)
            .connect()
            .await;
        assert_eq!(result.unwrap_err(), expected, "{input}");
    }
    let unparsable = WebSocket::connect("ws://[::1").await.unwrap_err();
    assert!(
        matches!(&unparsable, Error::InvalidUrl { url, reason } if url == "ws://[::1" && !reason.is_empty()),
        "{unparsable:?}"
    );
    // A token in a URL never shows in an error, not even where the engine's
    // URL parser quoted the URL in its message (the reason).
    for secret_url in [
        "ws://[::1/live?token=s3cret",
        "ftp://me:s3cret@127.0.0.1/live",
        "ws://127.0.0.1/live?token=s3cret#s3cret",
    ] {
        let error = WebSocket::connect(secret_url).await.unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("127.0.0.1") || shown.contains("[::1"),
            "{shown}"
        );
        let given = match &error {
            Error::InvalidUrl { url, .. }
            | Error::InvalidScheme { url, .. }
            | Error::UrlHasFragment { url } => url.as_given(),
            other => panic!("expected a URL error, got {other:?}"),
        };
        assert_eq!(given, secret_url);
        // The reconnecting socket counts it as a failed attempt, whose
        // close reason is the error as shown: hidden alike.
        let (builder, events) = recording_url(secret_url, fast_policy());
        let reconnecting = builder.connect();
        wait_for_events(&events, "a failed attempt", |seen| {
            seen.iter()
                .any(|event| matches!(event, ReconnectEvent::Closed { .. }))
        })
        .await;
        reconnecting.close_normal().unwrap();
        drop(reconnecting);
        let reason = events
            .borrow()
            .iter()
            .find_map(|event| match event {
                ReconnectEvent::Closed { close, .. } => Some(close.reason.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(reason, error.to_string());
        assert!(!reason.contains("s3cret"), "{reason}");
    }
    assert_eq!(browser_websocket::live_sockets(), before);
}

#[wasm_bindgen_test]
async fn server_selects_an_offered_subprotocol() {
    let mut socket = within(
        10_000,
        "connect",
        WebSocket::builder(&url("/protocols"))
            .protocols(["superchat", "chat.v2"])
            .connect(),
    )
    .await
    .unwrap();
    assert_eq!(socket.protocol(), "chat.v2");
    // The server reports what it selected from the list it received.
    assert_eq!(
        next_message(&mut socket).await,
        Message::Text("chat.v2".into())
    );
}

async fn assert_connection_fails_with_1006(target: &str) {
    let before = browser_websocket::live_js_callbacks();
    let error = within(15_000, "failure", WebSocket::connect(target))
        .await
        .unwrap_err();
    let Error::ConnectionFailed(event) = &error else {
        panic!("{target}: expected ConnectionFailed, got {error:?}");
    };
    assert_eq!(event.code, CloseCode::Abnormal);
    assert!(!event.was_clean);
    assert_eq!(error.close_event(), Some(event));
    assert_eq!(
        browser_websocket::live_js_callbacks(),
        before,
        "{target}: listeners left behind"
    );
}

#[wasm_bindgen_test]
async fn refused_port_fails_with_1006() {
    assert_connection_fails_with_1006(&format!("ws://127.0.0.1:{REFUSED_PORT}/")).await;
}

#[wasm_bindgen_test]
async fn http_403_on_upgrade_fails_with_1006() {
    assert_connection_fails_with_1006(&url("/reject")).await;
}

#[wasm_bindgen_test]
async fn plain_http_server_fails_with_1006() {
    assert_connection_fails_with_1006(&url("/plain")).await;
}

#[wasm_bindgen_test]
async fn blocked_port_is_a_typed_error_not_a_hang() {
    // No engine throws any more: Chromium and Firefox fire `error` then
    // `close(1006)`; WebKit fires `error` and never `close`, which the library
    // turns into the 1006 failure itself.
    let error = within(
        15_000,
        "blocked port",
        WebSocket::connect("ws://127.0.0.1:6000/"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, Error::ConnectionFailed(event) if event.code == CloseCode::Abnormal),
        "{error:?}"
    );
}

#[wasm_bindgen_test]
async fn dropping_the_connect_future_closes_and_detaches() {
    let sockets = browser_websocket::live_sockets();
    let listeners = browser_websocket::live_js_callbacks();
    let mut connecting = WebSocket::connect(&url("/echo"));
    // Poll once so the connection is under way, then give up on it.
    let waker = futures_util::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(std::pin::Pin::new(&mut connecting)
        .poll(&mut cx)
        .is_pending());
    assert_eq!(browser_websocket::live_sockets(), sockets + 1);
    assert_eq!(browser_websocket::live_js_callbacks(), listeners + 4);
    drop(connecting);
    assert_eq!(browser_websocket::live_sockets(), sockets);
    assert_eq!(browser_websocket::live_js_callbacks(), listeners);
}

use std::future::Future as _;
