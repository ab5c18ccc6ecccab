//! Verifies, through the public API, the assertions of the web-platform-tests
//! `websockets/` directory that concern something this crate exposes, against
//! the server those tests use (pywebsocket3, with the WPT-style handlers in
//! `conformance/handlers/`, started by `cargo xtask test`):
//! - URL parsing and scheme mapping: invalid URLs, schemes and fragments are
//!   typed errors before any socket exists; `http:`/`https:` map to
//!   `ws:`/`wss:`; default ports are dropped, others kept; non-ASCII hosts,
//!   paths and queries, IPv6 literals, uppercase schemes, too few slashes,
//!   relative URLs; every blocked port;
//! - subprotocols: empty, control, non-ASCII and every separator character are
//!   `InvalidProtocol`, repeats are `DuplicateProtocol`, every token character
//!   is accepted and reaches the server as offered, in order;
//! - every close code class and reason length the app can send, and every one
//!   a server can send (and none), with what `closed()` reports; closing
//!   twice, inside `on_close` and while connecting;
//! - sends of 0 bytes to 16 MiB, text of every UTF-8 length, typed-array
//!   views at offsets, Blobs, 65 KiB from the server; `bufferedAmount` after
//!   each send, while connecting and after close; both binary types; sends
//!   before open and after close;
//! - each failed handshake (wrong accept key, not HTTP, 404, 403, an
//!   unoffered, mismatched or unselected subprotocol), a refused port, a
//!   server that closes at once, drops the connection, sends a reserved
//!   opcode, invalid UTF-8 or data after its close: what the stream and the
//!   callbacks report, which must agree;
//! - 25 sockets at once; handshakes to one host one at a time; extensions.
//!
//! Each test names the WPT file it comes from; each ported assertion is marked
//! `// WPT:`. Where this crate deliberately differs from the browser API, the
//! test asserts the crate's documented behaviour and says so (`ours:`). Where
//! an engine differs from the standard, the test names the engine and asserts
//! exactly what that engine does (`engine:`).

use std::cell::RefCell;
use std::rc::Rc;

use crate::common::{sleep, within, REFUSED_PORT};
use browser_websocket::{
    BinaryType, Callbacks, CloseCode, CloseEvent, Error, Handle, Message, ReadyState, WebSocket,
};
use futures_util::StreamExt;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

// ---------------------------------------------------------------------------
// Where the WPT server is, which engine runs the tests, and what each API says.
// ---------------------------------------------------------------------------

/// The origin of the pywebsocket3 server with the WPT-style handlers, given at
/// compile time by the test command; 9004 when run by hand.
const WPT_SERVER: &str = match option_env!("WS_CONFORMANCE_SERVER") {
    Some(server) => server,
    None => "ws://127.0.0.1:9004",
};

/// `WPT_SERVER` + `path`.
fn wpt(path: &str) -> String {
    format!("{WPT_SERVER}{path}")
}

/// The server's port.
fn wpt_port() -> &'static str {
    WPT_SERVER.rsplit(':').next().unwrap()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Engine {
    Chromium,
    Firefox,
    WebKit,
}

/// The engine running the tests, from `navigator.userAgent`.
fn engine() -> Engine {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("navigator"));
    let agent = navigator
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &JsValue::from_str("userAgent")))
        .ok()
        .and_then(|agent| agent.as_string())
        .unwrap_or_default();
    if agent.contains("Firefox/") {
        Engine::Firefox
    } else if agent.contains("Chrome/") || agent.contains("Chromium/") {
        Engine::Chromium
    } else {
        Engine::WebKit
    }
}

/// What to do once the socket is open.
#[derive(Clone, Copy, Debug)]
enum Act {
    Wait,
    Send(&'static str),
    Close,
}

fn act(handle: &Handle, act: Act) {
    match act {
        Act::Wait => {}
        Act::Send(text) => handle.send_text(text).unwrap(),
        Act::Close => handle.close_normal().unwrap(),
    }
}

fn describe(message: &Message) -> String {
    match message {
        Message::Text(text) => format!("text {text:?}"),
        Message::Binary(bytes) => format!("binary {} bytes", bytes.len()),
        Message::Blob(blob) => format!("blob {} bytes", blob.size()),
        Message::JsBinary(view) => format!("js binary {} bytes", view.length()),
        other => format!("{other:?}"),
    }
}

fn opened(protocol: &str) -> String {
    format!("open protocol={protocol:?}")
}

fn text(text: &str) -> String {
    format!("text {text:?}")
}

fn abnormal() -> CloseEvent {
    CloseEvent {
        code: CloseCode::Abnormal,
        reason: String::new(),
        was_clean: false,
    }
}

fn clean(code: u16, reason: &str) -> String {
    let event = CloseEvent {
        code: CloseCode::from(code),
        reason: reason.to_owned(),
        was_clean: true,
    };
    format!("close {event}")
}

/// `connect` fails with `ConnectionFailed(1006)`; the callbacks get
/// `on_error(ConnectionFailed)` and `on_close(1006)`.
fn failed() -> Vec<String> {
    vec![
        format!("error {}", Error::ConnectionFailed(abnormal())),
        format!("close {}", abnormal()),
    ]
}

/// An open connection broke: `ConnectionClosed(1006)`, then the close.
fn broke() -> [String; 2] {
    [
        format!("error {}", Error::ConnectionClosed(abnormal())),
        format!("close {}", abnormal()),
    ]
}

/// What `connect` and the stream report for `url`, one line per item:
/// `open protocol=…` (with the selected subprotocol), `text …`, `binary N
/// bytes`, `blob N bytes`, `error …`, and `close …` from `closed()`.
async fn stream_report(url: &str, protocols: &[&str], then: Act) -> Vec<String> {
    let mut log = Vec::new();
    let connecting = WebSocket::builder(url)
        .protocols(protocols.iter().copied())
        .connect();
    let mut socket = match within(15_000, "connect", connecting).await {
        Ok(socket) => socket,
        Err(error) => {
            log.push(format!("error {error}"));
            if let Some(event) = error.close_event() {
                log.push(format!("close {event}"));
            }
            return log;
        }
    };
    log.push(opened(&socket.protocol()));
    act(&socket, then);
    for _ in 0..100 {
        match within(15_000, "the stream", socket.next()).await {
            Some(Ok(message)) => log.push(describe(&message)),
            Some(Err(error)) => log.push(format!("error {error}")),
            None => break,
        }
    }
    log.push(format!(
        "close {}",
        within(15_000, "closed()", socket.closed()).await
    ));
    log
}

/// What the callbacks report for `url`, in the words of [`stream_report`];
/// waits for `on_close`, then 50 ms more, so that a late call shows too.
async fn callbacks_report(url: &str, protocols: &[&str], then: Act) -> Vec<String> {
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let (done, finished) = futures_channel::oneshot::channel();
    let mut done = Some(done);
    let (opens, messages, errors, closes) = (log.clone(), log.clone(), log.clone(), log.clone());
    let callbacks = Callbacks::new()
        .on_open(move |socket| {
            opens.borrow_mut().push(opened(&socket.protocol()));
            act(socket, then);
        })
        .on_message(move |_, message| messages.borrow_mut().push(describe(&message)))
        .on_error(move |_, error| errors.borrow_mut().push(format!("error {error}")))
        .on_close(move |_, event| {
            closes.borrow_mut().push(format!("close {event}"));
            if let Some(done) = done.take() {
                let _ = done.send(());
            }
        });
    let handle = WebSocket::builder(url)
        .protocols(protocols.iter().copied())
        .open_with_callbacks(callbacks);
    let _handle = match handle {
        Ok(handle) => handle,
        Err(error) => return vec![format!("error {error}")],
    };
    within(15_000, "on_close", finished).await.unwrap();
    sleep(50).await;
    let log = log.borrow().clone();
    log
}

/// The stream and the callbacks must both report `expected`.
async fn assert_reports(url: &str, protocols: &[&str], then: Act, expected: &[String]) {
    let stream = stream_report(url, protocols, then).await;
    let callbacks = callbacks_report(url, protocols, then).await;
    assert!(
        stream == expected && callbacks == expected,
        "{url} {protocols:?} ({:?}): expected {expected:?}\n  stream:    {stream:?}\n  callbacks: {callbacks:?}",
        engine()
    );
}

/// Connects to a path of the WPT server.
async fn connect(path: &str) -> WebSocket {
    connect_with(path, &[], BinaryType::ArrayBuffer).await
}

async fn connect_with(path: &str, protocols: &[&str], binary_type: BinaryType) -> WebSocket {
    let connecting = WebSocket::builder(&wpt(path))
        .protocols(protocols.iter().copied())
        .binary_type(binary_type)
        .connect();
    match within(15_000, "connect", connecting).await {
        Ok(socket) => socket,
        Err(error) => panic!("connect {path}: {error}"),
    }
}

/// The next message, which must come within 15 s.
async fn next(socket: &mut WebSocket) -> Message {
    match within(15_000, "a message", socket.next()).await {
        Some(Ok(message)) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

/// Closes with 1000 and waits for the close, which must be clean.
async fn close_cleanly(socket: &WebSocket) -> CloseEvent {
    socket.close_normal().unwrap();
    let event = within(15_000, "closed()", socket.closed()).await;
    assert!(event.was_clean, "{event}");
    event
}

/// A socket opened with callbacks that do nothing, for what can be read while
/// it connects.
fn connecting(url: &str, protocols: &[&str]) -> Handle {
    WebSocket::builder(url)
        .protocols(protocols.iter().copied())
        .open_with_callbacks(Callbacks::new())
        .unwrap()
}

/// The error `connect` gives for `url` and `protocols`, which must come
/// before any socket exists.
async fn refused_before_any_socket(url: &str, protocols: &[&str]) -> Error {
    let sockets = browser_websocket::live_sockets();
    let error = WebSocket::builder(url)
        .protocols(protocols.iter().copied())
        .connect()
        .await
        .unwrap_err();
    let again = WebSocket::builder(url)
        .protocols(protocols.iter().copied())
        .open_with_callbacks(Callbacks::new())
        .unwrap_err();
    assert_eq!(
        again, error,
        "{url} {protocols:?}: callbacks and connect disagree"
    );
    assert_eq!(
        browser_websocket::live_sockets(),
        sockets,
        "{url}: a socket was made"
    );
    error
}

// ---------------------------------------------------------------------------
// URLs and schemes.
// ---------------------------------------------------------------------------

/// Create-invalid-urls.any.js, constructor/002.html, Create-wrong-scheme.any.js,
/// Create-Secure-url-with-space.any.js. The browser throws `SyntaxError`;
/// ours: a typed error naming the problem, before any socket exists.
#[wasm_bindgen_test]
async fn invalid_urls_are_typed_errors() {
    for url in [
        "ws://foo bar.com/",
        "wss://foo bar.com/",
        "ws://web platform.test:9/echo",
    ] {
        // WPT: Create-invalid-urls.any.js: a space in the host is a SyntaxError
        // (ours: InvalidUrl in every engine; Chromium's own parser would accept
        // it as "%20", so the crate checks the parsed host itself).
        let error = refused_before_any_socket(url, &[]).await;
        assert!(
            matches!(&error, Error::InvalidUrl { url: given, reason } if given == url && !reason.is_empty()),
            "{url}: {error:?}"
        );
    }
    let port = wpt_port();
    let schemes = [
        (format!("ftp://127.0.0.1:{port}/"), "ftp"),
        ("mailto:example@example.org".to_owned(), "mailto"),
        ("about:blank".to_owned(), "about"),
        (
            format!("invalid-scheme://127.0.0.1:{port}/echo"),
            "invalid-scheme",
        ),
        ("file:///echo".to_owned(), "file"),
        ("javascript:alert(1)".to_owned(), "javascript"),
    ];
    for (url, scheme) in schemes {
        // WPT: Create-invalid-urls.any.js, Create-wrong-scheme.any.js: a scheme other than ws, wss, http, https is a SyntaxError
        assert_eq!(
            refused_before_any_socket(&url, &[]).await,
            Error::InvalidScheme {
                url: url.clone().into(),
                scheme: scheme.to_owned()
            }
        );
    }
    for url in [
        wpt("/#"),
        wpt("/#test"),
        wpt("/echo?a#b"),
        "#test".to_owned(),
    ] {
        // WPT: Create-invalid-urls.any.js: a fragment, even empty, is a SyntaxError (also "#test", relative)
        assert_eq!(
            refused_before_any_socket(&url, &[]).await,
            Error::UrlHasFragment {
                url: url.clone().into()
            }
        );
    }
    // Ports past 65535 do not parse.
    let error = refused_before_any_socket("ws://127.0.0.1:65536/", &[]).await;
    assert!(matches!(error, Error::InvalidUrl { .. }), "{error:?}");
}

/// Create-non-absolute-url.any.js, constructor/002.html ("/test", "?test").
/// Those assert a `SyntaxError` for relative URLs; the standard has since
/// resolved them against the base URL (Create-valid-url-relative.tentative),
/// as browsers and this crate do.
#[wasm_bindgen_test]
async fn relative_urls_resolve_against_the_page() {
    let location = web_sys::window().unwrap().location();
    let host = location.host().unwrap();
    let path = location.pathname().unwrap();
    let directory = &path[..=path.rfind('/').unwrap()];
    let cases = [
        (
            "127.0.0.1".to_owned(),
            format!("ws://{host}{directory}127.0.0.1"),
        ),
        ("/test".to_owned(), format!("ws://{host}/test")),
        ("?test".to_owned(), format!("ws://{host}{path}?test")),
    ];
    for (relative, resolved) in cases {
        // WPT: Create-non-absolute-url.any.js (now resolved, no SyntaxError)
        let handle = connecting(&relative, &[]);
        assert_eq!(handle.url(), resolved, "{relative}");
    }
}

/// Create-valid-url-relative.tentative.any.js: a relative URL connects. The
/// test page is not served by the WPT server, so the URL is relative to the
/// scheme only ("//host:port/echo").
#[wasm_bindgen_test]
async fn scheme_relative_url_connects_and_closes_cleanly() {
    let relative = wpt("/echo").replacen("ws:", "", 1);
    let socket = within(15_000, "connect", WebSocket::connect(&relative))
        .await
        .unwrap();
    // WPT: Create-valid-url-relative.tentative.any.js: readyState is OPEN in onopen
    assert_eq!(socket.ready_state(), ReadyState::Open);
    // WPT: Create-valid-url-relative.tentative.any.js: wasClean after close()
    close_cleanly(&socket).await;
}

/// Create-http-urls.any.js, Create-valid-url-http.tentative.any.js.
#[wasm_bindgen_test]
async fn http_schemes_map_to_websocket_schemes() {
    let port = wpt_port();
    let http = connecting(&format!("http://127.0.0.1:{port}/"), &[]);
    // WPT: Create-http-urls.any.js: new WebSocket(http URL).url is the ws URL
    assert_eq!(http.url(), format!("ws://127.0.0.1:{port}/"));
    let https = connecting(&format!("https://127.0.0.1:{port}/"), &[]);
    // WPT: Create-http-urls.any.js: new WebSocket(https URL).url is the wss URL
    assert_eq!(https.url(), format!("wss://127.0.0.1:{port}/"));
    drop((http, https));

    let socket = within(
        15_000,
        "connect",
        WebSocket::connect(&wpt("/echo").replacen("ws:", "http:", 1)),
    )
    .await
    .unwrap();
    // WPT: Create-valid-url-http.tentative.any.js: an http URL opens (readyState OPEN)
    assert_eq!(socket.ready_state(), ReadyState::Open);
    assert_eq!(socket.url(), wpt("/echo"));
    // WPT: Create-valid-url-http.tentative.any.js: and closes cleanly
    close_cleanly(&socket).await;
}

/// interfaces/WebSocket/url/001.html, Create-verify-url-set-non-default-port,
/// Create-verify-url-set-default-port.htm, constructor/017.html (too few
/// slashes), constructor/019.html (uppercase scheme), constructor/020.html
/// (uppercase host), constructor/008.html (80 and 443 are not blocked).
#[wasm_bindgen_test]
async fn url_getter_is_the_parsed_url() {
    let port = wpt_port();
    // WPT: url/001.html: the URL with no path gets "/"
    assert_eq!(connecting(WPT_SERVER, &[]).url(), format!("{WPT_SERVER}/"));
    // WPT: Create-verify-url-set-non-default-port.any.js: url is the URL as given
    assert_eq!(connecting(&wpt("/echo"), &[]).url(), wpt("/echo"));
    for (given, parsed) in [
        ("ws://127.0.0.1:80/echo", "ws://127.0.0.1/echo"),
        ("wss://127.0.0.1:443/echo", "wss://127.0.0.1/echo"),
        ("ws://127.0.0.1:443/echo", "ws://127.0.0.1:443/echo"),
        ("wss://127.0.0.1:80/echo", "wss://127.0.0.1:80/echo"),
    ] {
        // WPT: Create-verify-url-set-default-port.htm: the default port is dropped from url
        // WPT: constructor/008.html: ports 80 and 443 are not blocked (no error)
        assert_eq!(connecting(given, &[]).url(), parsed, "{given}");
    }
    for given in [
        format!("ws:127.0.0.1:{port}/echo"),
        format!("ws:/127.0.0.1:{port}/echo"),
        format!("WS://127.0.0.1:{port}/echo"),
        format!("ws://LOCALHOST:{port}/echo"),
    ] {
        let socket = within(15_000, "connect", WebSocket::connect(&given))
            .await
            .unwrap_or_else(|error| panic!("{given}: {error}"));
        let host = if given.contains("LOCALHOST") {
            "localhost"
        } else {
            "127.0.0.1"
        };
        // WPT: constructor/017.html: "ws:" and "ws:/" with too few slashes do not throw (and connect)
        // WPT: constructor/019.html: an uppercase scheme connects
        // WPT: constructor/020.html: an uppercase host connects
        assert_eq!(socket.url(), format!("ws://{host}:{port}/echo"), "{given}");
        close_cleanly(&socket).await;
    }
}

/// constructor/016.html (non-ASCII query), constructor/018.html (NUL in the
/// query): the query reaches the server percent-encoded as UTF-8. Non-ASCII
/// hosts are mapped by IDNA: fullwidth digits and the ideographic full stop
/// become an IPv4 address. IPv6 literals are serialized compressed.
#[wasm_bindgen_test]
async fn non_ascii_and_ipv6_urls() {
    for (query, received) in [
        ("åäö", "%C3%A5%C3%A4%C3%B6"),
        // The URL standard strips C0 controls at the end, so the WPT test's
        // trailing NUL is gone in every engine; inside, it is sent as %00.
        ("x\u{0}", "x"),
        ("x\u{0}y", "x%00y"),
        ("a b", "a%20b"),
        ("€=😀", "%E2%82%AC=%F0%9F%98%80"),
    ] {
        let mut socket = connect(&format!("/echo-query?{query}")).await;
        // WPT: constructor/016.html: a non-ASCII query is sent UTF-8 percent-encoded
        // WPT: constructor/018.html: NUL in the query is sent as %00 (stripped at the end)
        assert_eq!(
            next(&mut socket).await,
            Message::Text(received.into()),
            "{query:?}"
        );
    }
    let port = wpt_port();
    for host in ["１２７.０.０.１", "127。0。0。1"] {
        let given = format!("ws://{host}:{port}/echo");
        let socket = within(15_000, "connect", WebSocket::connect(&given))
            .await
            .unwrap_or_else(|error| panic!("{given}: {error}"));
        assert_eq!(socket.url(), wpt("/echo"), "{given}");
        close_cleanly(&socket).await;
    }
    for host in ["[0:0:0:0:0:ffff:7f00:1]", "[::FFFF:127.0.0.1]"] {
        let given = format!("ws://{host}:{port}/echo");
        let socket = within(15_000, "connect", WebSocket::connect(&given))
            .await
            .unwrap_or_else(|error| panic!("{given}: {error}"));
        assert_eq!(
            socket.url(),
            format!("ws://[::ffff:7f00:1]:{port}/echo"),
            "{given}"
        );
        close_cleanly(&socket).await;
    }
}

/// The ports of Create-blocked-port.any.js (Fetch's "bad port" list as that
/// test has it).
const BLOCKED_PORTS: &[u16] = &[
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 77, 79, 87, 95, 101, 102, 103,
    104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 139, 143, 179, 389, 427, 465, 512, 513, 514,
    515, 526, 530, 531, 532, 540, 548, 556, 563, 587, 601, 636, 993, 995, 2049, 3659, 4045, 6000,
    6665, 6666, 6667, 6668, 6669, 6697,
];

/// Create-blocked-port.any.js, Create-Secure-blocked-port.any.js: each blocked
/// port throws `SecurityError`, the server's own port opens.
#[wasm_bindgen_test]
async fn blocked_ports() {
    let socket = connect("/echo").await;
    // WPT: Create-blocked-port.any.js: "Basic check": the server's port opens
    assert_eq!(socket.ready_state(), ReadyState::Open);
    let attempts = BLOCKED_PORTS.iter().map(|port| async move {
        let url = format!("ws://127.0.0.1:{port}/echo");
        (
            *port,
            within(15_000, "blocked port", WebSocket::connect(&url)).await,
        )
    });
    let mut wrong = Vec::new();
    for (port, result) in futures_util::future::join_all(attempts).await {
        // WPT: Create-blocked-port.any.js: new WebSocket(blocked port) throws SecurityError
        // engine: none of the three engines throws. Chromium and Firefox fail
        // the connection (`error`, `close(1006)`); WebKit fires `error` and
        // never `close`. Ours: `ConnectionFailed(1006)` in each (and
        // `Error::Security` where an engine throws).
        if !matches!(&result, Err(Error::ConnectionFailed(event)) if *event == abnormal()) {
            wrong.push(format!("{port}: {result:?}"));
        }
    }
    assert!(wrong.is_empty(), "{:?}: {}", engine(), wrong.join("; "));
}

// ---------------------------------------------------------------------------
// Subprotocols.
// ---------------------------------------------------------------------------

/// constructor/004.html (empty, U+0001-U+001F, U+007F-U+00FF), constructor/007.html
/// (U+0000), Create-nonAscii-protocol-string.any.js,
/// Create-protocol-with-space.any.js, Create-asciiSep-protocol-string.any.js.
/// The browser throws `SyntaxError`; ours: `InvalidProtocol` with the name.
#[wasm_bindgen_test]
async fn invalid_protocols_are_typed_errors() {
    let url = wpt("/echo");
    let mut protocols: Vec<String> = vec![String::new(), "\u{80}echo".into(), "ec ho".into()];
    // Every separator of RFC 2616 (the token rule WebSocket refers to).
    protocols.extend("()<>@,;:\\\"/[]?={} \t".chars().map(|c| format!("a{c}b")));
    protocols.push("/echo".into());
    protocols.extend(
        (0x00..0x20)
            .chain(0x7f..0x100)
            .map(|c| format!("a{}b", char::from_u32(c).unwrap())),
    );
    protocols.push("chât".into());
    for protocol in protocols {
        // WPT: constructor/004.html: "" and a char below U+0020 or above U+007E is a SyntaxError
        // WPT: constructor/007.html: U+0000 is a SyntaxError
        // WPT: Create-nonAscii-protocol-string.any.js: "\u0080echo" is a SyntaxError
        // WPT: Create-protocol-with-space.any.js: "ec ho" is a SyntaxError
        // WPT: Create-asciiSep-protocol-string.any.js: "/echo" (a separator) is a SyntaxError
        assert_eq!(
            refused_before_any_socket(&url, &["echo", &protocol]).await,
            Error::InvalidProtocol {
                protocol: protocol.clone()
            },
            "{protocol:?}"
        );
    }
}

/// Create-protocols-repeated.any.js, constructor/021.html,
/// Create-protocols-repeated-case-insensitive.any.js.
#[wasm_bindgen_test]
async fn repeated_protocols() {
    for (url, protocol) in [(wpt("/echo"), "echo"), (wpt("/protocols"), "foobar")] {
        // WPT: Create-protocols-repeated.any.js, constructor/021.html: a repeated protocol is a SyntaxError
        assert_eq!(
            refused_before_any_socket(&url, &[protocol, protocol]).await,
            Error::DuplicateProtocol {
                protocol: protocol.into()
            }
        );
    }
    // WPT: Create-protocols-repeated-case-insensitive.any.js: ["echo", "eCho"] is a SyntaxError
    // ours: accepted. Neither the standard nor RFC 6455 compares subprotocols
    // case-insensitively (whatwg/websockets#47) and no engine throws; the
    // crate compares them as written, and the socket opens with "echo".
    let mut socket = connect_with("/protocols", &["echo", "eCho"], BinaryType::ArrayBuffer).await;
    assert_eq!(socket.protocol(), "echo");
    assert_eq!(next(&mut socket).await, Message::Text("echo, eCho".into()));
}

/// Create-valid-url-protocol.any.js, Create-valid-url-array-protocols.any.js,
/// Create-Secure-valid-url-protocol-setCorrectly.any.js,
/// Create-Secure-valid-url-protocol-string.any.js, constructor/009.html,
/// constructor/022.html.
#[wasm_bindgen_test]
async fn offered_protocols_are_selected_and_reported() {
    for protocols in [&["echo"][..], &["echo", "chat"][..]] {
        let socket = connect_with("/echo", protocols, BinaryType::ArrayBuffer).await;
        // WPT: Create-valid-url-protocol.any.js, Create-valid-url-array-protocols.any.js: readyState is OPEN in onopen
        assert_eq!(socket.ready_state(), ReadyState::Open);
        // WPT: Create-Secure-valid-url-protocol-setCorrectly.any.js: protocol is "echo"
        assert_eq!(socket.protocol(), "echo");
        // WPT: Create-valid-url-protocol.any.js: the close is clean
        close_cleanly(&socket).await;
    }
    let mut socket = connect_with("/protocols", &["foobar"], BinaryType::ArrayBuffer).await;
    // WPT: constructor/009.html: protocol is the one the server selected
    assert_eq!(socket.protocol(), "foobar");
    assert_eq!(next(&mut socket).await, Message::Text("foobar".into()));
    let mut socket = connect_with(
        "/protocols",
        &["foobar", "foobar2"],
        BinaryType::ArrayBuffer,
    )
    .await;
    // WPT: constructor/022.html: with an array the server's choice (the first) is reported
    assert_eq!(socket.protocol(), "foobar");
    // The list reaches the server in order, as one header.
    assert_eq!(
        next(&mut socket).await,
        Message::Text("foobar, foobar2".into())
    );
    close_cleanly(&socket).await;

    // Every token character is allowed.
    let every = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut socket = connect_with("/protocols", &[every, "b"], BinaryType::ArrayBuffer).await;
    assert_eq!(socket.protocol(), every);
    assert_eq!(
        next(&mut socket).await,
        Message::Text(format!("{every}, b"))
    );
}

/// Create-valid-url-protocol-empty.any.js, interfaces/WebSocket/protocol/001.html,
/// extensions/001.html, readyState/001.html, bufferedAmount/001.html: what a
/// connecting socket reports. Create-Secure-extensions-empty.any.js: a server
/// without extensions gives "" once open.
#[wasm_bindgen_test]
async fn a_connecting_socket_reports_nothing_yet() {
    let handle = connecting(&wpt("/echo"), &["echo", "chat"]);
    // WPT: Create-valid-url-protocol-empty.any.js, protocol/001.html: protocol is "" before open
    assert_eq!(handle.protocol(), "");
    // WPT: extensions/001.html: extensions is "" before open
    assert_eq!(handle.extensions(), "");
    // WPT: readyState/001.html: readyState is CONNECTING
    assert_eq!(handle.ready_state(), ReadyState::Connecting);
    // WPT: bufferedAmount/001.html: bufferedAmount is 0
    assert_eq!(handle.buffered_amount(), 0);
    assert_eq!(handle.close_event(), None);

    let socket = connect_with("/echo", &["echo"], BinaryType::ArrayBuffer).await;
    // WPT: Create-Secure-extensions-empty.any.js: extensions is "" after open
    assert_eq!(socket.extensions(), "");
    // WPT: Create-Secure-extensions-empty.any.js: the close is clean
    close_cleanly(&socket).await;
}

// ---------------------------------------------------------------------------
// Handshakes that fail, and what each API reports.
// ---------------------------------------------------------------------------

/// opening-handshake/001.html (not an HTTP response), a wrong
/// Sec-WebSocket-Accept (the WPT handler wrong_accept_key_wsh.py), a path
/// with no handler (404) and a refused upgrade (403): `connect` fails with
/// 1006, not clean.
#[wasm_bindgen_test]
async fn invalid_handshakes_fail_alike_on_every_path() {
    for path in ["/not-http", "/wrong-accept", "/no-such-handler", "/reject"] {
        // WPT: opening-handshake/001.html: close with wasClean false, no open, no message
        assert_reports(&wpt(path), &[], Act::Wait, &failed()).await;
    }
    // WPT: opening-handshake/002.html, 005.html: a valid handshake opens and closes cleanly
    let expected = [opened(""), clean(1000, "")];
    assert_reports(&wpt("/echo"), &[], Act::Close, &expected).await;
}

/// constructor/010.html: the server selects a subprotocol the client did not
/// offer (none). The standard (and RFC 6455) fail the connection; the WPT
/// test expects it to open.
#[wasm_bindgen_test]
async fn server_selects_a_protocol_when_none_was_offered() {
    let expected = match engine() {
        // engine: Firefox opens, and reports protocol "" (not the server's choice).
        Engine::Firefox => vec![opened(""), text("open"), clean(1000, "")],
        // engine: Chromium and WebKit fail the connection.
        Engine::Chromium | Engine::WebKit => failed(),
    };
    // WPT: constructor/010.html: protocol in the response but none requested
    let url = wpt("/unoffered-protocol");
    let stream = stream_report(&url, &[], Act::Wait).await;
    let callbacks = callbacks_report(&url, &[], Act::Wait).await;
    assert_eq!(
        (stream, callbacks),
        (expected.clone(), expected),
        "{:?}",
        engine()
    );
}

/// constructor/011.html: the server selects a subprotocol other than the one
/// offered ("FOOBAR" offered, "foobar" selected: names compare as written).
#[wasm_bindgen_test]
async fn server_selects_an_unoffered_protocol() {
    // WPT: constructor/011.html: protocol mismatch fails the connection (error, close)
    let url = wpt("/unoffered-protocol?protocol=foobar");
    let expected = match engine() {
        // engine: WebKit compares the selection with the offer ignoring case,
        // and opens with "foobar".
        Engine::WebKit => vec![opened("foobar"), text("open"), clean(1000, "")],
        Engine::Chromium | Engine::Firefox => failed(),
    };
    assert_reports(&url, &["FOOBAR"], Act::Wait, &expected).await;
    assert_reports(&url, &["chat", "superchat"], Act::Wait, &failed()).await;
}

/// constructor/012.html: the client offered a subprotocol and the server
/// selected none. The standard fails the connection.
#[wasm_bindgen_test]
async fn server_selects_no_protocol_when_some_were_offered() {
    let expected = match engine() {
        // engine: Chromium fails the connection.
        Engine::Chromium => failed(),
        // engine: Firefox and WebKit open with protocol "".
        Engine::Firefox | Engine::WebKit => vec![opened(""), text("open"), clean(1000, "")],
    };
    // WPT: constructor/012.html: no message, and close fires once
    let url = wpt("/no-protocol");
    let stream = stream_report(&url, &["foobar"], Act::Wait).await;
    let callbacks = callbacks_report(&url, &["foobar"], Act::Wait).await;
    assert_eq!(
        (stream, callbacks),
        (expected.clone(), expected),
        "{:?}",
        engine()
    );
}

/// close/close-connecting.html, close/006.html: `close()` while the handshake
/// is pending (the server waits 2 s before answering).
#[wasm_bindgen_test]
async fn close_while_connecting() {
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let (done, finished) = futures_channel::oneshot::channel();
    let mut done = Some(done);
    let (opens, errors, closes) = (log.clone(), log.clone(), log.clone());
    let callbacks = Callbacks::new()
        .on_open(move |_| opens.borrow_mut().push("open".into()))
        .on_error(move |_, error| errors.borrow_mut().push(format!("error {error}")))
        .on_close(move |socket, event| {
            let state = socket.ready_state();
            closes
                .borrow_mut()
                .push(format!("close {event} in state {state}"));
            if let Some(done) = done.take() {
                let _ = done.send(());
            }
        });
    let handle = WebSocket::builder(&wpt("/handshake-sleep?ms=2000"))
        .open_with_callbacks(callbacks)
        .unwrap();
    sleep(500).await;
    // WPT: close-connecting.html: readyState is CONNECTING before close()
    assert_eq!(handle.ready_state(), ReadyState::Connecting);
    handle.close_normal().unwrap();
    // WPT: close-connecting.html: readyState is CLOSING after close()
    assert_eq!(handle.ready_state(), ReadyState::Closing);
    within(15_000, "on_close", finished).await.unwrap();
    sleep(50).await;
    // WPT: close-connecting.html: close is not clean, and open never fires
    // WPT: close-connecting.html: readyState is CLOSED in onclose
    // ours: no on_error either: the app asked for the close.
    assert_eq!(
        *log.borrow(),
        vec![format!("close {} in state closed", abnormal())]
    );
}

/// A refused port (as events/020.html's unreachable host): `error`, then `close`.
#[wasm_bindgen_test]
async fn refused_connection_fails_alike_on_every_path() {
    // WPT: events/020.html: an error event fires for an unreachable server
    let refused = format!("ws://127.0.0.1:{REFUSED_PORT}/");
    assert_reports(&refused, &[], Act::Wait, &failed()).await;
}

// ---------------------------------------------------------------------------
// Closing from the app: codes, reasons, states.
// ---------------------------------------------------------------------------

/// Codes a browser may not send, as in close-invalid.any.js, Close-0.htm,
/// Secure-Close-1005.any.js, Secure-Close-2999-reason.any.js: every code
/// class but 1000 and 3000-4999.
const UNSENDABLE: &[u16] = &[
    0, 500, 999, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
    1014, 1015, 1016, 2000, 2999, 5000, 65535,
];

/// close-invalid.any.js, Close-0.htm, Secure-Close-1005.any.js,
/// Secure-Close-2999-reason.any.js. The browser throws `InvalidAccessError`,
/// also while connecting; ours: `InvalidCloseCode`, and the socket is left as
/// it was. (`close(NaN)`, `close(null)`, `close("string")` and
/// `close(2**16+1000)` convert to 0 or 65535 in JS; a `u16` cannot be NaN or
/// past 65535, so 0 and 65535 stand for them.)
#[wasm_bindgen_test]
async fn unsendable_close_codes_are_typed_errors() {
    let handle = connecting(&wpt("/echo"), &[]);
    for &code in UNSENDABLE {
        // WPT: close-invalid.any.js: close(code) on a connecting socket throws InvalidAccessError
        assert_eq!(
            handle.close_with(code, ""),
            Err(Error::InvalidCloseCode { code })
        );
    }
    assert_eq!(handle.ready_state(), ReadyState::Connecting);

    let mut socket = connect("/echo").await;
    for &code in UNSENDABLE {
        // WPT: Close-0.htm, Secure-Close-1005.any.js, Secure-Close-2999-reason.any.js: InvalidAccessError
        assert_eq!(
            socket.close_with(code, "Close not in range 3000-4999"),
            Err(Error::InvalidCloseCode { code })
        );
    }
    assert_eq!(socket.ready_state(), ReadyState::Open);
    socket.send_text("still open").unwrap();
    assert_eq!(next(&mut socket).await, Message::Text("still open".into()));
}

/// Close-1000.any.js, Close-1000-reason.any.js, Secure-Close-1000-verify-code.any.js,
/// Secure-Close-3000-reason.any.js, Secure-Close-3000-verify-code.any.js,
/// Secure-Close-4999-reason.any.js: the echo server repeats the code and
/// reason it received in its close frame, so `closed()` shows what it got.
#[wasm_bindgen_test]
async fn sendable_close_codes_reach_the_server() {
    for (code, reason) in [
        (1000, ""),
        (1000, "Clean Close"),
        (3000, "Clean Close with code - 3000"),
        (3999, "x"),
        (4000, "y"),
        (4999, "Clean Close with code - 4999"),
    ] {
        let socket = connect("/echo").await;
        // WPT: close/004.html: close() returns nothing (ours: Ok)
        assert_eq!(socket.close_with(code, reason), Ok(()));
        // WPT: Secure-Close-readyState-Closing.any.js: readyState is CLOSING just after close
        assert_eq!(socket.ready_state(), ReadyState::Closing);
        let event = within(15_000, "closed()", socket.closed()).await;
        // WPT: Secure-Close-1000-verify-code.any.js, Secure-Close-3000-verify-code.any.js: event.code is the code sent
        // WPT: Secure-Close-1000-verify-code.any.js: event.reason is the reason sent
        // WPT: Close-1000.any.js, Secure-Close-3000-reason.any.js, Secure-Close-4999-reason.any.js: wasClean
        assert_eq!(
            event,
            CloseEvent {
                code: CloseCode::from(code),
                reason: reason.into(),
                was_clean: true
            }
        );
        // WPT: Close-1000-reason.any.js, Secure-Close-readyState-Closed.any.js: readyState is CLOSED in onclose
        assert_eq!(socket.ready_state(), ReadyState::Closed);
    }
}

/// Secure-Close-1005-verify-code.any.js, closing-handshake/003.html: the
/// browser's `close()` sends no code, which the server sees as 1005.
/// Secure-Close-onlyReason.any.js: `close("reason")` throws
/// `InvalidAccessError` (the string converts to code 0). Close-undefined.any.js:
/// `close(undefined)` is a plain close.
#[wasm_bindgen_test]
async fn plain_close_and_reason_only_send_1000() {
    let socket = connect("/echo").await;
    // WPT: Close-undefined.any.js: close(undefined) does not throw
    socket.close_normal().unwrap();
    let event = within(15_000, "closed()", socket.closed()).await;
    // WPT: Secure-Close-1005-verify-code.any.js: event.code is 1005, reason ""
    // WPT: closing-handshake/003.html: code 1005 and wasClean
    // ours: close() sends 1000, so the server sees (and echoes) 1000.
    assert_eq!(event.code, CloseCode::Normal);
    assert_eq!(event.reason, "");
    assert!(event.was_clean);

    let socket = connect("/echo").await;
    // WPT: Secure-Close-onlyReason.any.js: close("Close with only reason") throws InvalidAccessError
    // ours: the reason goes with 1000, which is the code to give.
    socket
        .close_with(CloseCode::Normal, "Close with only reason")
        .unwrap();
    let event = within(15_000, "closed()", socket.closed()).await;
    assert_eq!(
        (event.code, event.reason.as_str()),
        (CloseCode::Normal, "Close with only reason")
    );
}

/// Close-Reason-124Bytes.any.js: a reason over 123 bytes of UTF-8 throws
/// `SyntaxError`; ours: `ReasonTooLong` with its length, checked in bytes, at
/// the boundary with one-, two-, three- and four-byte characters.
/// Close-reason-unpaired-surrogates.any.js: a lone surrogate is sent as
/// U+FFFD; a Rust `&str` cannot hold a lone surrogate, so the nearest our API
/// can express is U+FFFD itself, which must come back unchanged.
#[wasm_bindgen_test]
async fn close_reasons_are_checked_in_utf8_bytes() {
    let socket = connect("/echo").await;
    let too_long = [
        "0123456789".repeat(12) + "0123",
        "é".repeat(62),
        "é".repeat(61) + "ab",
        "€".repeat(41) + "a",
        "😀".repeat(31),
        "😀".repeat(30) + "abcd",
    ];
    for reason in too_long {
        // WPT: Close-Reason-124Bytes.any.js: a 124-byte reason throws SyntaxError
        assert_eq!(
            socket.close_with(1000, &reason),
            Err(Error::ReasonTooLong {
                bytes: reason.len()
            }),
            "{reason}"
        );
    }
    assert_eq!(socket.ready_state(), ReadyState::Open);
    drop(socket);

    for reason in [
        "x".repeat(123),
        "é".repeat(61) + "a",
        "€".repeat(41),
        "😀".repeat(30) + "abc",
        "\u{FFFD}".into(),
    ] {
        assert!(reason.len() <= 123);
        let socket = connect("/echo").await;
        socket.close_with(4000, &reason).unwrap();
        let event = within(15_000, "closed()", socket.closed()).await;
        // WPT: Close-reason-unpaired-surrogates.any.js: the reason comes back as sent (U+FFFD)
        assert_eq!(
            (event.code, event.reason),
            (CloseCode::Private(4000), reason)
        );
    }
}

/// close/close-multiple.html, close/003.html: `close()` three times, one
/// close event. close/close-nested.html, close/005.html: `close()` inside
/// the close handler. The browser ignores the extra calls; ours: they are
/// `NotOpen` errors, and `on_close` still runs once.
#[wasm_bindgen_test]
async fn close_twice_and_close_in_on_close() {
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let (done, finished) = futures_channel::oneshot::channel();
    let mut done = Some(done);
    let (opens, closes) = (log.clone(), log.clone());
    let callbacks = Callbacks::new()
        .on_open(move |socket| {
            let results = [
                socket.close_normal(),
                socket.close_normal(),
                socket.close_normal(),
            ];
            opens.borrow_mut().push(format!("close() x3: {results:?}"));
        })
        .on_close(move |socket, event| {
            let before = socket.ready_state();
            let again = socket.close_normal();
            let after = socket.ready_state();
            closes
                .borrow_mut()
                .push(format!("close {event}: {before} {again:?} {after}"));
            if let Some(done) = done.take() {
                let _ = done.send(());
            }
        });
    let _handle = WebSocket::builder(&wpt("/echo"))
        .open_with_callbacks(callbacks)
        .unwrap();
    within(15_000, "on_close", finished).await.unwrap();
    sleep(50).await;
    let closing: Result<(), Error> = Err(Error::NotOpen {
        state: ReadyState::Closing,
    });
    let closed: Result<(), Error> = Err(Error::NotOpen {
        state: ReadyState::Closed,
    });
    // WPT: close-multiple.html: three close() calls give one close event
    // WPT: close-nested.html: readyState is CLOSED in onclose, and stays CLOSED after close() there
    // WPT: close-nested.html: the close event fires once
    assert_eq!(
        *log.borrow(),
        vec![
            format!("close() x3: {:?}", [Ok(()), closing.clone(), closing]),
            format!("{}: closed {closed:?} closed", clean(1000, "")),
        ]
    );
}

/// CloseEvent/clean-close.html, CloseEvent/004.html: send, and close on the
/// echo: clean. events/016.html: open, then the message, then close, in order.
#[wasm_bindgen_test]
async fn close_after_an_echo_is_clean() {
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let (done, finished) = futures_channel::oneshot::channel();
    let mut done = Some(done);
    let (opens, messages, closes) = (log.clone(), log.clone(), log.clone());
    let callbacks = Callbacks::new()
        .on_open(move |socket| {
            // WPT: readyState/006.html: readyState is OPEN in onopen
            opens
                .borrow_mut()
                .push(format!("open {}", socket.ready_state()));
            socket.send_text("Test").unwrap();
        })
        .on_message(move |socket, message| {
            messages.borrow_mut().push(describe(&message));
            socket.close_normal().unwrap();
        })
        .on_close(move |_, event| {
            closes.borrow_mut().push(format!("close {event}"));
            if let Some(done) = done.take() {
                let _ = done.send(());
            }
        });
    let _handle = WebSocket::builder(&wpt("/echo"))
        .open_with_callbacks(callbacks)
        .unwrap();
    within(15_000, "on_close", finished).await.unwrap();
    // WPT: CloseEvent/clean-close.html: wasClean is true
    // WPT: events/016.html: open, message, close, in that order
    assert_eq!(
        *log.borrow(),
        vec!["open open".to_owned(), text("Test"), clean(1000, "")]
    );
}

// ---------------------------------------------------------------------------
// Closing from the server.
// ---------------------------------------------------------------------------

/// Secure-Close-server-initiated-close.any.js, closing-handshake/002.html:
/// the server closes after "Goodbye"; the client answers; clean.
/// closing-handshake/004.html: a frame after the server's close frame is
/// ignored.
#[wasm_bindgen_test]
async fn server_initiated_close_is_clean_on_every_path() {
    // WPT: Secure-Close-server-initiated-close.any.js: readyState CLOSED and wasClean in onclose
    // WPT: closing-handshake/002.html: wasClean, no error
    let expected = [opened(""), text("Goodbye"), clean(1000, "")];
    assert_reports(&wpt("/echo"), &[], Act::Send("Goodbye"), &expected).await;
    // WPT: closing-handshake/004.html: data after the closing handshake: no message, wasClean
    // (The WPT handler in fact sends nothing after its close; this one does,
    // and RFC 6455 1.4 says the client discards it.)
    let expected = match engine() {
        Engine::Firefox | Engine::WebKit => vec![opened(""), clean(1000, "bye")],
        // engine: Chromium fails the connection on a frame after the close.
        Engine::Chromium => [vec![opened("")], broke().to_vec()].concat(),
    };
    assert_reports(
        &wpt("/data-after-close"),
        &[],
        Act::Send("Goodbye"),
        &expected,
    )
    .await;
    // A server that closes as soon as the connection is open.
    let expected = [opened(""), clean(1000, "")];
    assert_reports(&wpt("/close-at-once"), &[], Act::Wait, &expected).await;
}

/// Every close code a server can send, and none (1005), with reasons up to
/// 123 bytes: what `closed()` and the callbacks report. Codes the protocol
/// forbids on the wire fail the connection.
#[wasm_bindgen_test]
async fn server_close_codes_of_every_class() {
    let reason_123 = "€".repeat(40) + "abc";
    let mut wrong = Vec::new();
    let cases: Vec<(Option<u16>, &str)> = [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000,
        4999,
    ]
    .iter()
    .map(|&code| (Some(code), "bye"))
    .chain([
        (Some(4000), reason_123.as_str()),
        (Some(1000), ""),
        (None, ""),
    ])
    .chain(
        [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]
            .iter()
            .map(|&code| (Some(code), "bye")),
    )
    .collect();
    for (code, reason) in cases {
        let url = match code {
            Some(code) => wpt(&format!(
                "/close?code={code}&reason={}",
                percent_encode(reason)
            )),
            None => wpt("/close"),
        };
        let reported = vec![opened(""), clean(code.unwrap_or(1005), reason)];
        let failed = [vec![opened("")], broke().to_vec()].concat();
        let expected = match (engine(), code) {
            // WPT: Secure-Close-1005-verify-code.any.js: a close frame without a code is reported as 1005
            (_, None) => reported,
            // engine: WebKitGTK fails the connection when a server closes with
            // 1012, 1013 or 1014 (1010 and 1011 come through).
            (Engine::WebKit, Some(1012..=1014)) => failed,
            (_, Some(1000..=1003 | 1007..=1014 | 3000..=4999)) => reported,
            // Codes that may not appear on the wire (RFC 6455 7.4): WebKit
            // fails the connection.
            (Engine::WebKit, Some(_)) => failed,
            // engine: Chromium fails it for 1005, 1006 and 1015, and reports
            // the other forbidden codes (0, 999, 1004, 1016, 2999, 5000, 65535)
            // as a clean close with that code.
            (Engine::Chromium, Some(1005 | 1006 | 1015)) => failed,
            (Engine::Chromium, Some(_)) => reported,
            // engine: Firefox reports every forbidden code, even 1005, 1006 and
            // 1015, as a clean close with that code.
            (Engine::Firefox, Some(_)) => reported,
        };
        let stream = stream_report(&url, &[], Act::Wait).await;
        let callbacks = callbacks_report(&url, &[], Act::Wait).await;
        if stream != expected || callbacks != expected {
            wrong.push(format!(
                "code {code:?}: expected {expected:?}, stream {stream:?}, callbacks {callbacks:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{:?}:\n{}", engine(), wrong.join("\n"));
}

/// UTF-8 percent-encoding for a query value.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// events/015.html, 017.html, 018.html: the server sends a text frame, then
/// a frame with the reserved opcode 3, which fails the connection: message,
/// then `error` (readyState CLOSED), then `close`. Invalid UTF-8 in a text
/// frame fails it the same way (RFC 6455 8.1). A server that drops TCP.
#[wasm_bindgen_test]
async fn broken_connections_fail_alike_on_every_path() {
    // WPT: events/015.html: a message, then error (readyState CLOSED), then close
    let expected = [vec![opened(""), text("test")], broke().to_vec()].concat();
    assert_reports(&wpt("/reserved-opcode"), &[], Act::Send("go"), &expected).await;
    let expected = [vec![opened(""), text("valid")], broke().to_vec()].concat();
    assert_reports(&wpt("/invalid-utf8"), &[], Act::Send("go"), &expected).await;
    let expected = [vec![opened(""), text("bye")], broke().to_vec()].concat();
    assert_reports(&wpt("/drop"), &[], Act::Send("go"), &expected).await;

    // The state seen from on_error.
    let state: Rc<RefCell<Option<ReadyState>>> = Rc::default();
    let seen = state.clone();
    let (done, finished) = futures_channel::oneshot::channel();
    let mut done = Some(done);
    let _handle = WebSocket::builder(&wpt("/reserved-opcode"))
        .open_with_callbacks(
            Callbacks::new()
                .on_open(|socket| socket.send_text("go").unwrap())
                .on_error(move |socket, _| *seen.borrow_mut() = Some(socket.ready_state()))
                .on_close(move |_, _| {
                    if let Some(done) = done.take() {
                        let _ = done.send(());
                    }
                }),
        )
        .unwrap();
    within(15_000, "on_close", finished).await.unwrap();
    // WPT: events/015.html: readyState is CLOSED in onerror
    assert_eq!(*state.borrow(), Some(ReadyState::Closed));
}

// ---------------------------------------------------------------------------
// Sending and receiving.
// ---------------------------------------------------------------------------

/// Send-data.any.js, Send-0byte-data.any.js, Send-65K-data.any.js,
/// Send-unicode-data.any.js, Send-paired-surrogates.any.js, send/011.html,
/// extended-payload-length.any.js, bufferedAmount/009.html, 010.html,
/// bufferedAmount-large.html, bufferedAmount-unicode.html: text round trips,
/// with `bufferedAmount` the UTF-8 length right after the send.
#[wasm_bindgen_test]
async fn text_round_trips_with_buffered_amount() {
    let texts = [
        "Message to send".to_owned(),
        String::new(),
        "c".repeat(65000),
        "¥¥¥¥¥¥".to_owned(),
        "\u{10407}".to_owned(),
        "\u{E5} a\u{30A} \u{1047E}".to_owned(),
        "a".repeat(125),
        "a".repeat(126),
        "a".repeat(0xFFFF),
        "a".repeat(0x10000),
    ];
    let mut socket = connect("/echo").await;
    for sent in texts {
        socket.send_text(&sent).unwrap();
        // WPT: Send-data.any.js, Send-65K-data.any.js: bufferedAmount is the length sent
        // WPT: Send-unicode-data.any.js, Send-paired-surrogates.any.js: bufferedAmount counts UTF-8 bytes
        assert_eq!(
            socket.buffered_amount(),
            sent.len() as u32,
            "{}",
            sent.len()
        );
        // WPT: Send-data.any.js, Send-0byte-data.any.js, send/011.html, extended-payload-length.any.js: the echo is equal
        assert_eq!(next(&mut socket).await, Message::Text(sent));
    }
    // WPT: Send-data.any.js: the close is clean
    close_cleanly(&socket).await;
}

/// bufferedAmount/003.html, bufferedAmount-getting.html: `bufferedAmount`
/// grows with each send (by UTF-8 bytes: 1, 2, 3, 4) and is 0 once all
/// echoes are back.
#[wasm_bindgen_test]
async fn buffered_amount_grows_by_utf8_length() {
    let mut socket = connect("/echo").await;
    let texts = ["x", "\u{E5}", "\u{5336}", "\u{1047E}"];
    let mut total = 0;
    for sent in texts {
        socket.send_text(sent).unwrap();
        total += sent.len() as u32;
        // WPT: bufferedAmount-getting.html: bufferedAmount after sending "x", "å", "匶", "𐑾" is 1, 3, 6, 10
        assert_eq!(socket.buffered_amount(), total);
    }
    let mut left = total;
    for sent in texts {
        // WPT: bufferedAmount-getting.html: messages come back in order
        assert_eq!(next(&mut socket).await, Message::Text(sent.into()));
        left -= sent.len() as u32;
        // WPT: bufferedAmount-getting.html: bufferedAmount shrinks as echoes come back
        assert!(
            socket.buffered_amount() <= left,
            "{}",
            socket.buffered_amount()
        );
    }
    // WPT: bufferedAmount-getting.html: 0 after the last echo
    assert_eq!(socket.buffered_amount(), 0);
}

/// send/009.html: `send("")` sends an empty text message.
/// Send-Unpaired-Surrogates.any.js, send/006.html: lone surrogates are sent
/// as U+FFFD; a Rust `&str` cannot hold one, so the nearest our API can
/// express is U+FFFD itself, which must come back unchanged.
#[wasm_bindgen_test]
async fn empty_and_replacement_character_texts() {
    let mut socket = connect("/empty-message").await;
    socket.send_text("").unwrap();
    // WPT: send/009.html: the server received an empty text message
    assert_eq!(next(&mut socket).await, Message::Text("pass".into()));

    let mut socket = connect("/echo").await;
    let sent = "a\u{FFFD}xb\u{FFFD}xc\u{FFFD}\u{FFFD}x";
    socket.send_text(sent).unwrap();
    // WPT: send/006.html, Send-Unpaired-Surrogates.any.js: U+FFFD comes back
    assert_eq!(next(&mut socket).await, Message::Text(sent.into()));
}

/// Send-binary-arraybuffer.any.js (15 bytes), Send-binary-65K-arraybuffer.any.js,
/// binary/004.html and 005.html, bufferedAmount/008.html,
/// bufferedAmount-arraybuffer.html, and 16 MiB: bytes round trip as
/// `Message::Binary` with `binary_type(ArrayBuffer)`.
#[wasm_bindgen_test]
async fn bytes_round_trip_with_buffered_amount() {
    let mut socket = connect("/echo").await;
    // WPT: Send-binary-arraybuffer.any.js (via the default): binaryType arraybuffer
    assert_eq!(socket.binary_type(), BinaryType::ArrayBuffer);
    for size in [0, 10, 15, 65000, 100_000, 16 << 20] {
        let sent: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        socket.send_bytes(&sent).unwrap();
        if size <= 100_000 {
            // WPT: Send-binary-arraybuffer.any.js, bufferedAmount/008.html: bufferedAmount is the byteLength
            assert_eq!(socket.buffered_amount(), size as u32, "{size}");
        }
        let received = within(60_000, "the echo", socket.next()).await;
        // WPT: Send-binary-arraybuffer.any.js, Send-binary-65K-arraybuffer.any.js, binary/004.html: same byteLength back
        match received {
            Some(Ok(Message::Binary(bytes))) => {
                assert!(bytes == sent, "{size}: {} bytes back", bytes.len())
            }
            other => panic!("{size}: {other:?}"),
        }
    }
    close_cleanly(&socket).await;
}

/// Send-binary-arraybufferview-int8.any.js, -int16-offset, Secure-Send-binary-
/// arraybufferview-uint8-offset, -uint8-offset-length, -uint16-offset-length,
/// -uint32-offset, -int32, -float32, -float64: a typed-array view sends only
/// its own bytes. Ours: `send_bytes(&buffer[offset..offset + length])`.
#[wasm_bindgen_test]
async fn views_at_offsets_send_their_own_bytes() {
    // An 8-byte buffer, and each view as (element size, byte offset, element count)
    // filled with 0, 1, 2, … as the WPT test fills it (little-endian, as in JS here).
    let views: [(&str, usize, usize, usize); 9] = [
        ("Int8Array", 1, 0, 8),
        ("Int16Array(buffer, 2)", 2, 2, 3),
        ("Uint8Array(buffer, 2)", 1, 2, 6),
        ("Uint8Array(buffer, 2, 4)", 1, 2, 4),
        ("Uint16Array(buffer, 2, 2)", 2, 2, 2),
        ("Uint32Array(buffer, 0)", 4, 0, 2),
        ("Int32Array", 4, 0, 2),
        ("Float32Array", 4, 0, 2),
        ("Float64Array", 8, 0, 1),
    ];
    let mut socket = connect("/echo").await;
    for (name, size, offset, count) in views {
        let mut buffer = [0u8; 8];
        for i in 0..count {
            let at = offset + i * size;
            let element: Vec<u8> = match name {
                n if n.starts_with("Float32") => (i as f32).to_le_bytes().to_vec(),
                n if n.starts_with("Float64") => (i as f64).to_le_bytes().to_vec(),
                _ => (i as u64).to_le_bytes()[..size].to_vec(),
            };
            buffer[at..at + size].copy_from_slice(&element);
        }
        let view = &buffer[offset..offset + size * count];
        socket.send_bytes(view).unwrap();
        // WPT: Send-binary-arraybufferview-int16-offset.any.js (and the others): the echo holds the view's values
        assert_eq!(
            next(&mut socket).await,
            Message::Binary(view.to_vec()),
            "{name}"
        );
    }
}

/// Send-binary-blob.any.js (65000 bytes), Create-Secure-valid-url-binaryType-blob.any.js,
/// bufferedAmount/007.html, bufferedAmount-blob.html, binary/001.html,
/// binary/002.html: with `binary_type(Blob)` binary messages arrive as Blobs
/// of the size sent; a Blob can be sent.
#[wasm_bindgen_test]
async fn blobs_sent_and_received() {
    let mut socket = connect_with("/echo", &[], BinaryType::Blob).await;
    // WPT: Create-Secure-valid-url-binaryType-blob.any.js: binaryType is "blob" after open
    // ours: only when asked (`binary_type(Blob)`); the crate's default is ArrayBuffer.
    assert_eq!(socket.binary_type(), BinaryType::Blob);
    for size in [10usize, 100_000] {
        socket.send_bytes(&vec![7; size]).unwrap();
        // WPT: bufferedAmount/007.html, bufferedAmount-blob.html: bufferedAmount is the byteLength
        assert_eq!(socket.buffered_amount(), size as u32);
        // WPT: binary/001.html, binary/002.html: a Blob of the size sent comes back
        match next(&mut socket).await {
            Message::Blob(blob) => {
                assert_eq!(blob.size() as usize, size);
                assert_eq!(
                    browser_websocket::read_blob(&blob).await.unwrap(),
                    vec![7; size]
                );
            }
            other => panic!("expected a Blob, got {other:?}"),
        }
    }
    let bytes = js_sys::Uint8Array::from(&vec![0u8; 65000][..]);
    let blob = web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&bytes)).unwrap();
    socket.send_blob(&blob).unwrap();
    // WPT: Send-binary-blob.any.js: the echo is a Blob of 65000 bytes
    match next(&mut socket).await {
        Message::Blob(echo) => assert_eq!(echo.size(), 65000.0),
        other => panic!("expected a Blob, got {other:?}"),
    }
    // WPT: Send-binary-blob.any.js: the close is clean
    close_cleanly(&socket).await;
}

/// A 65 KiB message from the server, text and binary, with both binary types.
#[wasm_bindgen_test]
async fn server_sends_65_kib_messages() {
    let mut socket = connect("/large?bytes=65536&type=text").await;
    assert_eq!(next(&mut socket).await, Message::Text("x".repeat(65536)));
    let expected: Vec<u8> = (0..65536).map(|i| (i % 256) as u8).collect();
    let mut socket = connect("/large?bytes=65536&type=binary").await;
    assert_eq!(next(&mut socket).await, Message::Binary(expected.clone()));
    let mut socket = connect_with("/large?bytes=65536&type=binary", &[], BinaryType::Blob).await;
    match next(&mut socket).await {
        Message::Blob(blob) => {
            assert_eq!(browser_websocket::read_blob(&blob).await.unwrap(), expected)
        }
        other => panic!("expected a Blob, got {other:?}"),
    }
}

/// Send-before-open.any.js, send/003.html, send/004.html: `send` while
/// connecting throws `InvalidStateError`; ours: `NotOpen { Connecting }`,
/// for every kind of message, and nothing is buffered.
#[wasm_bindgen_test]
async fn sends_before_open_are_not_open_errors() {
    let handle = connecting(&wpt("/handshake-sleep?ms=1000"), &[]);
    let not_open = Err(Error::NotOpen {
        state: ReadyState::Connecting,
    });
    // WPT: Send-before-open.any.js, send/003.html: send() while CONNECTING throws InvalidStateError
    assert_eq!(handle.send_text("Message to send"), not_open);
    // WPT: send/004.html: also with (here: replaced) unpaired surrogates
    assert_eq!(handle.send_text("a\u{FFFD}x"), not_open);
    assert_eq!(handle.send_bytes(&[1, 2, 3]), not_open);
    assert_eq!(handle.send_blob(&web_sys::Blob::new().unwrap()), not_open);
    assert_eq!(handle.send_message(&Message::from("m")), not_open);
    // WPT: bufferedAmount/001.html: bufferedAmount stays 0
    assert_eq!(handle.buffered_amount(), 0);
}

/// send/007.html: `send` after `close()` returns nothing and sends nothing;
/// send/008.html: `send` in the close handler. The standard drops the data
/// silently and grows `bufferedAmount`; ours: `NotOpen`, and nothing is
/// buffered.
#[wasm_bindgen_test]
async fn sends_after_close_are_not_open_errors() {
    let socket = connect("/echo").await;
    socket.close_normal().unwrap();
    let closing = Err(Error::NotOpen {
        state: ReadyState::Closing,
    });
    // WPT: send/007.html: send() after close() does not throw (ours: NotOpen { Closing })
    assert_eq!(socket.send_text("test"), closing);
    assert_eq!(socket.send_bytes(&[0; 1024]), closing);
    assert_eq!(socket.buffered_amount(), 0);
    // WPT: send/007.html: no message and no error, one clean close
    let event = within(15_000, "closed()", socket.closed()).await;
    assert!(event.was_clean);
    // WPT: send/008.html: send() in onclose does not throw (ours: NotOpen { Closed })
    assert_eq!(
        socket.send_text("test"),
        Err(Error::NotOpen {
            state: ReadyState::Closed
        })
    );
    assert_eq!(socket.buffered_amount(), 0);
    // WPT: send/005.html: send() on an open socket returns nothing (ours: Ok)
    let socket = connect("/echo").await;
    assert_eq!(socket.send_text("test"), Ok(()));
}

/// constructor/013.html: 25 sockets at once, each sends its number, gets it
/// back and closes: 25 opens, 25 messages, 25 clean closes, no error.
#[wasm_bindgen_test]
async fn twenty_five_sockets_at_once() {
    let sockets = (0..25).map(|i| async move {
        let mut socket = connect("/echo").await;
        socket.send_text(&i.to_string()).unwrap();
        let echo = next(&mut socket).await;
        let event = close_cleanly(&socket).await;
        (echo, event.code)
    });
    let results = futures_util::future::join_all(sockets).await;
    for (i, (echo, code)) in results.into_iter().enumerate() {
        // WPT: constructor/013.html: each socket gets its own id back, then closes
        assert_eq!(
            (echo, code),
            (Message::Text(i.to_string()), CloseCode::Normal)
        );
    }
}

/// constructor/014.html: four sockets to a server that takes 1 s to answer
/// each handshake. RFC 6455 4.1 allows one connection in CONNECTING per host,
/// so the opens come at least ~1 s apart.
#[wasm_bindgen_test]
async fn handshakes_to_one_host_are_serialized() {
    let started = js_sys::Date::now();
    let sockets = (0..4).map(|_| async move {
        let socket = connect("/handshake-sleep?ms=1000").await;
        let opened = js_sys::Date::now() - started;
        drop(socket);
        opened
    });
    let mut opens = futures_util::future::join_all(sockets).await;
    opens.sort_by(f64::total_cmp);
    let gaps: Vec<f64> = opens.windows(2).map(|pair| pair[1] - pair[0]).collect();
    web_sys::console::log_1(
        &format!("{:?}: opens at {opens:?} ms, gaps {gaps:?}", engine()).into(),
    );
    // WPT: constructor/014.html: each open comes about 1 s (the server's delay) after the
    // previous one. The open event's dispatch jitters by tens of ms (a gap of 986 ms was seen
    // in Firefox on a loaded machine), so a gap counts as serialized above 900 ms; handshakes
    // run at once give gaps near 0.
    let serialized = gaps.iter().all(|gap| *gap > 900.0);
    let together = opens[3] - opens[0] < 500.0;
    match engine() {
        Engine::Chromium | Engine::Firefox => assert!(serialized, "opens at {opens:?} ms"),
        // engine: WebKit runs the four handshakes at once: all open about 1 s
        // after the start.
        Engine::WebKit => assert!(together, "opens at {opens:?} ms"),
    }
}

/// The counterpart of Create-Secure-extensions-empty.any.js: a server that
/// accepts permessage-deflate, and what `extensions()` reports.
#[wasm_bindgen_test]
async fn extensions_report_the_negotiated_deflate() {
    let mut socket = connect("/deflate-echo").await;
    let extensions = socket.extensions();
    web_sys::console::log_1(&format!("{:?}: extensions {extensions:?}", engine()).into());
    // The three engines offer deflate differently; this server answers each
    // with the bare name.
    assert_eq!(extensions, "permessage-deflate");
    let sent = "compressible ".repeat(1000);
    socket.send_text(&sent).unwrap();
    assert_eq!(next(&mut socket).await, Message::Text(sent));
    close_cleanly(&socket).await;
}
