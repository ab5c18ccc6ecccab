//! What only the native backend has, and what only a browser has as typed
//! errors natively.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use browser_websocket::{
    BinaryType, Error, Message, ReconnectingWebSocket, RequestClient, WebSocket,
};
use futures_util::{SinkExt, StreamExt};
use tokio_rustls::rustls;
use tokio_tungstenite::tungstenite;

use super::run;
use super::scenarios::{url, within};

/// A server of the test's own on a thread of its own: each connection gets
/// `serve` after the upgrade, which `accept` may wrap (TLS).
fn start_server<F, Fut>(tls: Option<rustls::ServerConfig>, serve: F) -> SocketAddr
where
    F: Fn(tungstenite::handshake::server::Request) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<String>> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    let acceptor = tls.map(|config| tokio_rustls::TlsAcceptor::from(Arc::new(config)));
    let serve = Arc::new(serve);
    std::thread::spawn(move || {
        runtime.block_on(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, serve) = (acceptor.clone(), serve.clone());
                tokio::spawn(async move {
                    match acceptor {
                        Some(acceptor) => {
                            if let Ok(tls) = acceptor.accept(tcp).await {
                                greet_and_echo(tls, serve).await;
                            }
                        }
                        None => greet_and_echo(tcp, serve).await,
                    }
                });
            }
        });
    });
    address
}

/// Upgrades, sends what `serve` makes of the request (if anything), then
/// echoes until the close; a greeting ending in `!` is followed by the
/// server's close (1012, service restart).
async fn greet_and_echo<S, F, Fut>(stream: S, serve: Arc<F>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    F: Fn(tungstenite::handshake::server::Request) -> Fut,
    Fut: std::future::Future<Output = Option<String>>,
{
    let request = Arc::new(Mutex::new(None));
    let seen = request.clone();
    #[allow(clippy::result_large_err)] // tungstenite's callback type
    let callback = move |request: &tungstenite::handshake::server::Request, response| {
        let mut copy = tungstenite::handshake::server::Request::new(());
        *copy.headers_mut() = request.headers().clone();
        *seen.lock().unwrap() = Some(copy);
        Ok(response)
    };
    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    let request = request.lock().unwrap().take().unwrap();
    if let Some(greeting) = serve(request).await {
        let _ = socket
            .send(tungstenite::Message::text(greeting.clone()))
            .await;
        if greeting.ends_with('!') {
            let frame = tungstenite::protocol::CloseFrame {
                code: 1012.into(),
                reason: "restart".into(),
            };
            let _ = socket.close(Some(frame)).await;
        }
    }
    while let Some(Ok(message)) = socket.next().await {
        if message.is_text() || message.is_binary() {
            let _ = socket.send(message).await;
        }
    }
}

// ----------------------------------------------------------------- headers

#[test]
fn headers_reach_the_upgrade_request_in_order() {
    let address = start_server(None, |request| async move {
        let values: Vec<String> = request
            .headers()
            .get_all("x-token")
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect();
        let authorization = request.headers().get("authorization").cloned();
        Some(format!(
            "{} | {}",
            authorization.map_or(String::new(), |value| value.to_str().unwrap().to_owned()),
            values.join(",")
        ))
    });
    run(async move {
        let mut socket = WebSocket::builder(&format!("ws://{address}/"))
            .header("Authorization", "Bearer token-123")
            .header("X-Token", "a")
            .header("x-token", "b")
            .connect()
            .await
            .unwrap();
        let greeting = socket.next().await.unwrap().unwrap();
        assert_eq!(greeting, Message::from("Bearer token-123 | a,b"));
    });
}

#[test]
fn the_reconnecting_socket_sends_its_headers_on_every_attempt() {
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let seen = attempts.clone();
    let address = start_server(None, move |request| {
        let seen = seen.clone();
        async move {
            let token = request.headers().get("authorization").cloned();
            let mut seen = seen.lock().unwrap();
            seen.push(token.map(|value| value.to_str().unwrap().to_owned()));
            // The first connection is closed by the server: the second
            // must carry the header too.
            Some(if seen.len() == 1 { "first!" } else { "second" }.to_owned())
        }
    });
    run(async move {
        let mut socket = ReconnectingWebSocket::builder(format!("ws://{address}/"))
            .policy(
                browser_websocket::ReconnectPolicy::default()
                    .delays(Duration::from_millis(10), Duration::from_millis(50))
                    .reconnect_if(|_| true),
            )
            .header("Authorization", "Bearer again")
            .connect();
        let first = within(10_000, "the first", socket.next()).await;
        assert_eq!(first.unwrap().unwrap(), Message::from("first!"));
        let second = within(10_000, "the second", socket.next()).await;
        assert_eq!(second.unwrap().unwrap(), Message::from("second"));
    });
    assert_eq!(
        *attempts.lock().unwrap(),
        [
            Some("Bearer again".to_owned()),
            Some("Bearer again".to_owned())
        ]
    );
}

#[test]
fn bad_headers_are_typed_errors_that_hide_the_value() {
    run(async {
        for (name, value, reason) in [
            ("Bad Name", "x", "not a valid header name"),
            (
                "Authorization",
                "secret\nvalue",
                "its value has a character",
            ),
            ("Sec-WebSocket-Key", "x", "the WebSocket handshake sets it"),
            ("Host", "example.com", "the WebSocket handshake sets it"),
        ] {
            let outcome = WebSocket::builder(&url("/echo"))
                .header(name, value)
                .connect()
                .await;
            let Err(error @ Error::InvalidHeader { .. }) = outcome else {
                panic!("expected InvalidHeader for {name}, got {outcome:?}");
            };
            let shown = error.to_string();
            assert!(shown.contains(reason), "{shown}");
            assert!(!shown.contains("secret"), "the value shows: {shown}");
        }
        // The reconnecting socket stops on it: no attempt could work.
        let mut socket = ReconnectingWebSocket::builder(url("/echo"))
            .header("Bad Name", "x")
            .connect();
        let first = within(10_000, "the error", socket.next()).await;
        assert!(
            matches!(first, Some(Err(Error::InvalidHeader { .. }))),
            "{first:?}"
        );
        assert!(within(10_000, "the end", socket.next()).await.is_none());
    });
}

#[test]
fn a_close_the_server_never_answers_ends_after_20_seconds() {
    // The server upgrades, then never reads again: the close frame is never
    // answered and the connection never ends by itself.
    let address = start_server(None, |_| std::future::pending::<Option<String>>());
    run(async move {
        let socket = WebSocket::connect(&format!("ws://{address}/"))
            .await
            .unwrap();
        socket.close_with(4000, "bye").unwrap();
        let started = std::time::Instant::now();
        let event = within(30_000, "the close", socket.closed()).await;
        let waited = started.elapsed();
        assert_eq!(
            (event.code, event.was_clean),
            (browser_websocket::CloseCode::Abnormal, false)
        );
        assert_eq!(event.reason, "the close handshake timed out");
        assert!(
            (Duration::from_secs(19)..Duration::from_secs(25)).contains(&waited),
            "{waited:?}"
        );
    });
}

#[test]
fn a_failed_connection_says_why_in_its_close_event() {
    run(async {
        let reason_of = |outcome: browser_websocket::Result<WebSocket>| match outcome {
            Err(Error::ConnectionFailed(event)) => event.reason,
            other => panic!("expected ConnectionFailed, got {other:?}"),
        };
        let refused = reason_of(WebSocket::connect(&url("/reject")).await);
        assert_eq!(refused, "HTTP 403 Forbidden");
        let port = super::scenarios::REFUSED_PORT;
        let nobody = reason_of(WebSocket::connect(&format!("ws://127.0.0.1:{port}/")).await);
        assert!(nobody.contains("refused"), "{nobody}");
        let plain = reason_of(WebSocket::connect(&url("/plain")).await);
        assert!(plain.starts_with("HTTP "), "{plain}");
    });
}

// --------------------------------------------------------------------- TLS

/// A CA made now, and a certificate for `localhost` and 127.0.0.1 it signed.
fn test_ca() -> (String, rustls::ServerConfig) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    (ca.pem(), config)
}

#[test]
fn wss_with_a_trusted_test_ca_echoes() {
    let (ca_pem, config) = test_ca();
    let address = start_server(Some(config), |_| async { None });
    run(async move {
        for host in ["localhost", "127.0.0.1"] {
            let mut socket = WebSocket::builder(&format!("wss://{host}:{}/", address.port()))
                .trust_certificate(ca_pem.clone())
                .connect()
                .await
                .unwrap();
            socket.send(Message::from("over TLS")).await.unwrap();
            assert_eq!(
                socket.next().await.unwrap().unwrap(),
                Message::from("over TLS")
            );
            socket.close_normal().unwrap();
            assert!(socket.closed().await.was_clean);
        }
    });
}

#[test]
fn wss_to_an_unknown_ca_fails_and_says_why() {
    let (_, config) = test_ca();
    let address = start_server(Some(config), |_| async { None });
    run(async move {
        let outcome = WebSocket::connect(&format!("wss://localhost:{}/", address.port())).await;
        let Err(Error::ConnectionFailed(event)) = outcome else {
            panic!("expected ConnectionFailed, got {outcome:?}");
        };
        assert!(!event.was_clean);
        assert!(
            event.reason.to_lowercase().contains("certificate"),
            "{}",
            event.reason
        );
    });
}

#[test]
fn a_certificate_that_is_not_one_is_a_typed_error() {
    run(async {
        for given in [
            b"not a certificate".to_vec(),
            b"-----BEGIN NOTHING-----\n".to_vec(),
        ] {
            let outcome = WebSocket::builder("wss://localhost:1/")
                .trust_certificate(given)
                .connect()
                .await;
            assert!(
                matches!(outcome, Err(Error::InvalidCertificate { .. })),
                "{outcome:?}"
            );
        }
    });
}

// ----------------------------------------------------------------- threads

#[test]
fn a_send_handle_sends_from_other_threads_in_order() {
    run(async {
        let mut socket = within(10_000, "connect", WebSocket::connect(&url("/echo")))
            .await
            .unwrap();
        let handle = socket.send_handle();
        let senders: Vec<_> = (0..2)
            .map(|thread| {
                let handle = handle.clone();
                std::thread::spawn(move || {
                    for index in 0..50 {
                        handle.send_text(format!("{thread}:{index}")).unwrap();
                    }
                    handle.send_bytes([thread; 70_000]).unwrap();
                })
            })
            .collect();
        let mut next = [0usize; 2];
        let mut bytes = 0;
        while next != [50, 50] || bytes < 2 {
            match within(10_000, "an echo", socket.next())
                .await
                .unwrap()
                .unwrap()
            {
                Message::Text(text) => {
                    let (thread, index) = text.split_once(':').unwrap();
                    let thread: usize = thread.parse().unwrap();
                    // In order per thread.
                    assert_eq!(index.parse::<usize>().unwrap(), next[thread]);
                    next[thread] += 1;
                }
                Message::Binary(data) => {
                    assert_eq!(data.len(), 70_000);
                    bytes += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        senders
            .into_iter()
            .for_each(|sender| sender.join().unwrap());
        handle.close_normal().unwrap();
        within(10_000, "the close", socket.closed()).await;
        assert!(matches!(
            handle.send_text("late"),
            Err(Error::NotOpen { .. })
        ));
    });
}

#[cfg(feature = "json")]
#[test]
fn a_request_handle_asks_from_another_thread() {
    use browser_websocket::{JsonRpc, JsonRpcCall};
    let rpc = option_env!("WS_RPC_SERVER").unwrap_or("ws://127.0.0.1:9005");
    run(async move {
        let socket = within(10_000, "connect", WebSocket::connect(&format!("{rpc}/")))
            .await
            .unwrap();
        let (client, _messages) = RequestClient::new(socket, JsonRpc);
        let handle = client.send_handle();
        let (done, answered) = futures_channel::oneshot::channel();
        std::thread::spawn(move || {
            // The other thread's own executor: no tokio there.
            let sum = block_on(handle.request(JsonRpcCall::new("sum", [20, 22]).unwrap()));
            let _ = done.send(sum);
        });
        // This thread waits on a channel, not a socket: `run` drives it.
        let sum = within(10_000, "the reply", answered)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sum, serde_json::json!(42));
    });
}

/// A minimal executor: parks the thread until woken.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

#[test]
fn awaiting_the_sockets_needs_no_drive() {
    // No `drive` and no runtime of the app's: each poll of the crate's own
    // futures runs the thread's events and timers, a plain and a
    // reconnecting socket alike.
    block_on(async {
        let mut socket = WebSocket::connect(&url("/echo")).await.unwrap();
        socket.send(Message::from("plain")).await.unwrap();
        assert_eq!(
            socket.next().await.unwrap().unwrap(),
            Message::from("plain")
        );
        let mut reconnecting = ReconnectingWebSocket::connect(url("/echo"));
        reconnecting.send_text("queued until open").unwrap();
        assert_eq!(
            reconnecting.next().await.unwrap().unwrap(),
            Message::from("queued until open")
        );
        reconnecting.close_normal().unwrap();
        assert!(reconnecting.next().await.is_none());
        socket.close_normal().unwrap();
        assert!(socket.closed().await.was_clean);
    });
}

#[test]
fn any_executor_runs_the_socket() {
    // No runtime of the app's at all: the minimal executor above.
    block_on(browser_websocket::drive(async {
        let mut socket = WebSocket::connect(&url("/echo")).await.unwrap();
        socket.send(Message::from("no tokio here")).await.unwrap();
        assert_eq!(
            socket.next().await.unwrap().unwrap(),
            Message::from("no tokio here")
        );
    }));
}

// ------------------------------------------- browser-only, as typed errors

#[test]
fn browser_only_things_are_typed_errors() {
    run(async {
        let outcome = WebSocket::connect("/echo").await;
        let Err(Error::InvalidUrl { reason, .. }) = outcome else {
            panic!("expected InvalidUrl, got {outcome:?}");
        };
        assert!(reason.contains("absolute"), "{reason}");
        for binary_type in [BinaryType::Blob, BinaryType::JsArrayBuffer] {
            let outcome = WebSocket::builder(&url("/echo"))
                .binary_type(binary_type)
                .connect()
                .await;
            assert!(
                matches!(outcome, Err(Error::NeedsBrowser { .. })),
                "{outcome:?}"
            );
        }
    });
}

#[cfg(feature = "json")]
#[test]
fn an_outbox_needs_a_browser() {
    use browser_websocket::JsonRpc;
    run(async {
        let socket = within(10_000, "connect", WebSocket::connect(&url("/echo")))
            .await
            .unwrap();
        let (client, _messages) = RequestClient::builder(JsonRpc).outbox("chat").build(socket);
        let restored = client.restored().await;
        assert!(
            matches!(restored, Err(Error::NeedsBrowser { .. })),
            "{restored:?}"
        );
    });
}

#[test]
fn a_shared_socket_is_a_connection_of_its_own_natively() {
    use browser_websocket::tabs::{SharedEvent, SharedWebSocket};
    run(async {
        let events = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let log = events.clone();
        let mut socket = SharedWebSocket::builder(url("/echo"))
            .name("native")
            .on_event(move |event| log.borrow_mut().push(event.clone()))
            .connect();
        socket.send_text("alone").unwrap();
        let echo = within(10_000, "the echo", socket.next()).await;
        assert_eq!(echo.unwrap().unwrap(), Message::from("alone"));
        assert_eq!(
            events.borrow().first(),
            Some(&SharedEvent::PerTab {
                missing: "BroadcastChannel"
            })
        );
        socket.leave();
    });
}
