//! The routes. WebSocket routes answer any path below with an upgrade; the fault
//! routes reproduce what browsers meet in the wild.
//!
//! | route | does |
//! |---|---|
//! | `/echo[?id=ID]` | echoes each message with its type; with `id`, records the close the client sent |
//! | `/closes?id=ID` | sends `"CODE REASON"` of the close recorded for `ID` (waits up to 10 s), then closes |
//! | `/close?code=C&reason=R` | the server closes at once with `C` and `R` |
//! | `/burst?n=N` | sends N messages, even ones text `"i"`, odd ones binary `i` as u32 big-endian, then closes 1000 |
//! | `/flood?n=N&size=S` | on the client's first message, sends N binary messages of S bytes, then closes 1000 |
//! | `/large?size=S` | sends one binary message of S bytes (byte i = i mod 251), then echoes |
//! | `/abrupt` | sends `"bye"`, waits for one message, then drops the TCP connection with no close frame |
//! | `/reject` | answers the upgrade with HTTP 403 |
//! | `/plain` | a plain HTTP page, not a WebSocket server |
//! | `/slow?rate=R` | reads at most R bytes/s (default 64 MiB/s); messages are numbered from 0 across both types: binary message i (a Blob arrives as binary) must be i as u64 big-endian then bytes of value i mod 251, text message i (any text but `done`) must be i as 16 lowercase hex digits then characters `a` + i mod 26; on text `done` replies `messages=N bytes=B in_order=true|false` (B counts payload bytes, UTF-8 for text) |
//! | `/protocols` | selects the first of `chat.v1`, `chat.v2` the client offered, sends it as text, then echoes |
//! | `/bench` | the benchmark page (`bench.html`), with `--www` |
//! | `/flaky?id=ID&reject=N&close=C` | attempts 1..=N for `ID` get HTTP 403; the next, if `close` is given, is closed at once with code C; later ones echo |
//! | `/silent` | accepts, then never sends anything (a server that stopped answering) |
//! | `/hang` | accepts the TCP connection and does not answer the upgrade (for a minute, then 504) |
//! | `/record?id=ID` | one session per connection for `ID` (numbered from 1): records each text message (binary as `binary N`) and echoes it, and at the end `close CODE REASON` (or `dropped`); text `ping` is answered `pong` (not recorded), `mute` makes it stop answering without closing (half-open), `drop` drops TCP with no close frame |
//! | `/record-log?id=ID` | sends the sessions of `ID` as JSON (`[["first", ...], ...]`, one list per session), then closes 1000 |
//! | `/record-log.json?id=ID` | the same JSON over plain HTTP (for `cargo xtask figures`, which reads what the tests measured) |
//! | `/restart?down_ms=D` | on the client's first message, sends `"restarting"`, then the server drops every WebSocket (no close frame), stops listening for D ms (default 1000), and listens again on the same port |
//! | `/instance` | starts another server (this binary, on a free port, without `--www`), sends its origin `ws://127.0.0.1:PORT` as text, and stops it when this socket closes: a test that restarts its server restarts its own, and leaves the connections of the tests (and browsers) running beside it alone |
//! | anything else | the demo page's files, with `--www` |

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::SinkExt;
use serde::Deserialize;
use tokio::sync::{broadcast, Notify};

/// Large enough for the 16 MiB (and larger) round trips; tungstenite's default
/// limit is 16 MiB.
const MAX_MESSAGE: usize = 256 << 20;

#[derive(Clone, Default)]
pub struct AppState {
    closes: Arc<Mutex<HashMap<String, (u16, String)>>>,
    recorded: Arc<Notify>,
    /// Connection attempts per `/flaky` id.
    attempts: Arc<Mutex<HashMap<String, u32>>>,
    /// What each `/record` session received, per id.
    sessions: Arc<Mutex<HashMap<String, Vec<Vec<String>>>>>,
    /// A restart asked for by `/restart`, with how long to stay down (ms).
    pub restart: Arc<Mutex<Option<u64>>>,
    pub restart_requested: Arc<Notify>,
}

impl AppState {
    /// Drops every open WebSocket connection now.
    pub fn drop_all_sockets() {
        let _ = restarts().send(());
    }
}

pub fn router(www: Option<PathBuf>, state: AppState) -> Router {
    let router = Router::new()
        .route("/echo", get(echo))
        .route("/closes", get(closes))
        .route("/close", get(server_close))
        .route("/burst", get(burst))
        .route("/flood", get(flood))
        .route("/large", get(large))
        .route("/abrupt", get(abrupt))
        .route(
            "/reject",
            get(|| async { (StatusCode::FORBIDDEN, "forbidden") }),
        )
        .route(
            "/plain",
            get(|| async { "a plain HTTP page, not a WebSocket server" }),
        )
        .route("/protocols", get(protocols))
        .route("/slow", get(slow_reader))
        .route("/flaky", get(flaky))
        .route("/silent", get(silent))
        .route("/hang", get(hang))
        .route("/restart", get(restart))
        .route("/instance", get(instance))
        .route("/record", get(record))
        .route("/record-log", get(record_log))
        .route("/record-log.json", get(record_log_json))
        .with_state(state);
    match www {
        Some(dir) => router
            .route_service(
                "/bench",
                tower_http::services::ServeFile::new(dir.join("bench.html")),
            )
            .fallback_service(tower_http::services::ServeDir::new(dir)),
        None => router,
    }
}

fn upgrade(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_message_size(MAX_MESSAGE).max_frame_size(MAX_MESSAGE)
}

/// Server restarts: every open WebSocket hears it and drops its connection at
/// once, with no close frame, as a crashed or redeployed server would.
static RESTARTS: OnceLock<broadcast::Sender<()>> = OnceLock::new();

fn restarts() -> &'static broadcast::Sender<()> {
    RESTARTS.get_or_init(|| broadcast::channel(4).0)
}

/// Upgrades with the size limits, and runs `handler` until it ends or the
/// server restarts.
fn on_socket<F, Fut>(ws: WebSocketUpgrade, handler: F) -> Response
where
    F: FnOnce(WebSocket) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut restart = restarts().subscribe();
    upgrade(ws).on_upgrade(move |socket| async move {
        tokio::select! {
            () = handler(socket) => {}
            _ = restart.recv() => {}
        }
    })
}

#[derive(Deserialize)]
struct IdQuery {
    id: Option<String>,
}

async fn echo(
    ws: WebSocketUpgrade,
    Query(query): Query<IdQuery>,
    State(state): State<AppState>,
) -> Response {
    on_socket(ws, move |socket| async move {
        let close = echo_until_close(socket).await;
        if let Some(id) = query.id {
            record_close(&state, id, close);
        }
    })
}

/// Echoes until the client closes; returns the close it sent (1006 if none).
async fn echo_until_close(mut socket: WebSocket) -> (u16, String) {
    while let Some(Ok(message)) = socket.recv().await {
        let close = match message {
            Message::Text(_) | Message::Binary(_) => {
                if socket.send(message).await.is_err() {
                    break;
                }
                continue;
            }
            Message::Close(Some(frame)) => (frame.code, frame.reason.to_string()),
            Message::Close(None) => (1005, String::new()),
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        finish_close(socket).await;
        return close;
    }
    (1006, String::new())
}

/// After a close frame was received, reading on lets tungstenite send its reply
/// close frame, which makes the close clean for the browser.
async fn finish_close(mut socket: WebSocket) {
    while let Some(Ok(_)) = socket.recv().await {}
}

fn record_close(state: &AppState, id: String, close: (u16, String)) {
    if let Ok(mut closes) = state.closes.lock() {
        closes.insert(id, close);
    }
    state.recorded.notify_waiters();
}

async fn closes(
    ws: WebSocketUpgrade,
    Query(query): Query<IdQuery>,
    State(state): State<AppState>,
) -> Response {
    on_socket(ws, move |mut socket| async move {
        let id = query.id.unwrap_or_default();
        let report = tokio::time::timeout(Duration::from_secs(10), wait_for_close(&state, &id))
            .await
            .unwrap_or_else(|_| "none".to_owned());
        let _ = socket.send(Message::Text(report.into())).await;
        close_and_drain(socket, 1000, "").await;
    })
}

async fn wait_for_close(state: &AppState, id: &str) -> String {
    loop {
        let notified = state.recorded.notified();
        if let Some((code, reason)) = state
            .closes
            .lock()
            .ok()
            .and_then(|closes| closes.get(id).cloned())
        {
            return format!("{code} {reason}");
        }
        notified.await;
    }
}

/// Sends a close frame and waits for the client's, so the close is clean.
async fn close_and_drain(mut socket: WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if socket.send(Message::Close(Some(frame))).await.is_ok() {
        finish_close(socket).await;
    }
}

#[derive(Deserialize)]
struct CloseQuery {
    code: Option<u16>,
    reason: Option<String>,
}

async fn server_close(ws: WebSocketUpgrade, Query(query): Query<CloseQuery>) -> Response {
    on_socket(ws, move |socket| async move {
        let reason = query.reason.unwrap_or_default();
        close_and_drain(socket, query.code.unwrap_or(1000), &reason).await;
    })
}

#[derive(Deserialize)]
struct CountQuery {
    n: Option<u32>,
    size: Option<usize>,
}

async fn burst(ws: WebSocketUpgrade, Query(query): Query<CountQuery>) -> Response {
    on_socket(ws, move |mut socket| async move {
        for i in 0..query.n.unwrap_or(1000) {
            let message = if i % 2 == 0 {
                Message::Text(i.to_string().into())
            } else {
                Message::Binary(i.to_be_bytes().to_vec().into())
            };
            if socket.feed(message).await.is_err() {
                return;
            }
        }
        close_and_drain(socket, 1000, "done").await;
    })
}

async fn flood(ws: WebSocketUpgrade, Query(query): Query<CountQuery>) -> Response {
    on_socket(ws, move |mut socket| async move {
        // Start on the client's word, so a benchmark can time from it.
        if !matches!(
            socket.recv().await,
            Some(Ok(Message::Text(_) | Message::Binary(_)))
        ) {
            return;
        }
        let payload = axum::body::Bytes::from(vec![0xab; query.size.unwrap_or(64)]);
        for _ in 0..query.n.unwrap_or(1000) {
            // `feed` queues without a flush per message; the close flushes.
            if socket.feed(Message::Binary(payload.clone())).await.is_err() {
                return;
            }
        }
        close_and_drain(socket, 1000, "done").await;
    })
}

async fn large(ws: WebSocketUpgrade, Query(query): Query<CountQuery>) -> Response {
    on_socket(ws, move |mut socket| async move {
        let payload: Vec<u8> = (0..query.size.unwrap_or(1 << 20))
            .map(|i| (i % 251) as u8)
            .collect();
        if socket.send(Message::Binary(payload.into())).await.is_ok() {
            echo_until_close(socket).await;
        }
    })
}

async fn abrupt(ws: WebSocketUpgrade) -> Response {
    on_socket(ws, |mut socket| async move {
        // Wait for the client's first message, so the connection is surely open
        // on its side, then drop the TCP connection without a close frame.
        if socket.send(Message::Text("bye".into())).await.is_ok() {
            let _ = socket.recv().await;
        }
        drop(socket);
    })
}

async fn protocols(ws: WebSocketUpgrade) -> Response {
    let ws = upgrade(ws).protocols(["chat.v1", "chat.v2"]);
    let selected = ws
        .selected_protocol()
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    on_socket(ws, move |mut socket| async move {
        if socket.send(Message::Text(selected.into())).await.is_ok() {
            echo_until_close(socket).await;
        }
    })
    .into_response()
}

#[derive(Deserialize)]
struct RateQuery {
    rate: Option<u64>,
}

/// What the slow reader has checked so far.
#[derive(Default)]
struct Received {
    messages: u64,
    bytes: u64,
    in_order: bool,
}

impl Received {
    /// Binary message i must be i (u64 big-endian) followed by bytes of value i mod 251.
    fn check_binary(&mut self, data: &[u8]) {
        let expected = self.messages;
        let sequence = data
            .get(..8)
            .and_then(|head| head.try_into().ok())
            .map(u64::from_be_bytes);
        let fill = (expected % 251) as u8;
        let intact = sequence == Some(expected) && data[8..].iter().all(|&byte| byte == fill);
        self.record(intact, data.len());
    }

    /// Text message i must be i as 16 lowercase hex digits followed by
    /// characters `a` + i mod 26.
    fn check_text(&mut self, text: &str) {
        let expected = self.messages;
        let fill = b'a' + (expected % 26) as u8;
        let intact = text
            .strip_prefix(format!("{expected:016x}").as_str())
            .is_some_and(|rest| rest.bytes().all(|byte| byte == fill));
        self.record(intact, text.len());
    }

    fn record(&mut self, intact: bool, bytes: usize) {
        if self.messages == 0 {
            self.in_order = true;
        }
        self.in_order &= intact;
        self.messages += 1;
        self.bytes += bytes as u64;
    }

    fn report(&self) -> String {
        format!(
            "messages={} bytes={} in_order={}",
            self.messages, self.bytes, self.in_order
        )
    }
}

async fn slow_reader(ws: WebSocketUpgrade, Query(query): Query<RateQuery>) -> Response {
    let rate = query.rate.unwrap_or(64 << 20).max(1);
    on_socket(ws, move |mut socket| async move {
        let start = Instant::now();
        let mut received = Received::default();
        while let Some(Ok(message)) = socket.recv().await {
            match message {
                Message::Binary(data) => received.check_binary(&data),
                Message::Text(text) if text.as_str() == "done" => {
                    let report = Message::Text(received.report().into());
                    if socket.send(report).await.is_err() {
                        return;
                    }
                    continue;
                }
                Message::Text(text) => received.check_text(text.as_str()),
                Message::Close(_) => return finish_close(socket).await,
                Message::Ping(_) | Message::Pong(_) => continue,
            }
            // Read no faster than `rate`: the unread bytes back up into TCP and
            // then into the browser's bufferedAmount.
            let due = Duration::from_secs_f64(received.bytes as f64 / rate as f64);
            if let Some(ahead) = due.checked_sub(start.elapsed()) {
                tokio::time::sleep(ahead).await;
            }
        }
    })
}

#[derive(Deserialize)]
struct FlakyQuery {
    id: String,
    reject: Option<u32>,
    close: Option<u16>,
}

async fn flaky(
    ws: WebSocketUpgrade,
    Query(query): Query<FlakyQuery>,
    State(state): State<AppState>,
) -> Response {
    let attempt = match state.attempts.lock() {
        Ok(mut attempts) => {
            let count = attempts.entry(query.id.clone()).or_insert(0);
            *count += 1;
            *count
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let rejected = query.reject.unwrap_or(0);
    if attempt <= rejected {
        return (StatusCode::FORBIDDEN, "not yet").into_response();
    }
    let close_now = query.close.filter(|_| attempt == rejected + 1);
    on_socket(ws, move |socket| async move {
        match close_now {
            Some(code) => close_and_drain(socket, code, "closing as asked").await,
            None => {
                echo_until_close(socket).await;
            }
        }
    })
}

async fn silent(ws: WebSocketUpgrade) -> Response {
    on_socket(ws, |mut socket| async move {
        // Read (so TCP stays healthy) but never answer.
        while let Some(Ok(_)) = socket.recv().await {}
    })
}

#[derive(Deserialize)]
struct RestartQuery {
    down_ms: Option<u64>,
}

async fn restart(
    ws: WebSocketUpgrade,
    Query(query): Query<RestartQuery>,
    State(state): State<AppState>,
) -> Response {
    on_socket(ws, move |mut socket| async move {
        // Wait for the client's word, so that its side is surely open before
        // every connection drops (Firefox fails a handshake that is cut at once).
        if !matches!(
            socket.recv().await,
            Some(Ok(Message::Text(_) | Message::Binary(_)))
        ) {
            return;
        }
        let _ = socket.send(Message::Text("restarting".into())).await;
        if let Ok(mut restart) = state.restart.lock() {
            *restart = Some(query.down_ms.unwrap_or(1000));
        }
        state.restart_requested.notify_one();
        // This socket goes with the others when the server restarts.
        std::future::pending::<()>().await;
    })
}

async fn instance(ws: WebSocketUpgrade) -> Response {
    on_socket(ws, |mut socket| async move {
        let (_instance, origin) = match start_instance().await {
            Ok(started) => started,
            Err(error) => {
                eprintln!("/instance: {error}");
                close_and_drain(socket, 1011, "cannot start a server").await;
                return;
            }
        };
        if socket.send(Message::Text(origin.into())).await.is_err() {
            return;
        }
        // The instance lives as long as this socket (dropping it kills it).
        while let Some(Ok(_)) = socket.recv().await {}
    })
}

/// Starts this binary on a free port; returns it (killed when dropped) and its
/// origin. `--until-stdin-closes`: should this process die, the instance
/// sees its standard input close and stops too.
async fn start_instance() -> Result<(tokio::process::Child, String), String> {
    use tokio::io::AsyncBufReadExt;
    let binary = std::env::current_exe().map_err(|error| error.to_string())?;
    let mut child = tokio::process::Command::new(binary)
        .args(["--port", "0", "--until-stdin-closes"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| error.to_string())?;
    let stdout = child.stdout.take().ok_or("no standard output")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = lines.next_line().await.map_err(|error| error.to_string())?;
    let address = first
        .as_deref()
        .and_then(|line| line.strip_prefix("listening on http://"))
        .map(|address| address.trim_end_matches('/').to_owned())
        .ok_or_else(|| format!("the instance did not start: {first:?}"))?;
    // Its later lines (restarts) are read and dropped, so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, format!("ws://{address}")))
}

/// Appends `entry` to session `session` (from 0) of `id`.
fn log_entry(state: &AppState, id: &str, session: usize, entry: String) {
    if let Ok(mut sessions) = state.sessions.lock() {
        if let Some(log) = sessions.get_mut(id).and_then(|log| log.get_mut(session)) {
            log.push(entry);
        }
    }
}

async fn record(
    ws: WebSocketUpgrade,
    Query(query): Query<IdQuery>,
    State(state): State<AppState>,
) -> Response {
    let id = query.id.unwrap_or_default();
    on_socket(ws, move |mut socket| async move {
        let session = match state.sessions.lock() {
            Ok(mut sessions) => {
                let log = sessions.entry(id.clone()).or_default();
                log.push(Vec::new());
                log.len() - 1
            }
            Err(_) => return,
        };
        let end = loop {
            let Some(Ok(message)) = socket.recv().await else {
                break "dropped".to_owned();
            };
            let entry = match message {
                Message::Text(text) if text.as_str() == "ping" => {
                    let _ = socket.send(Message::Text("pong".into())).await;
                    continue;
                }
                Message::Text(text) if text.as_str() == "mute" => {
                    // Half-open: keep TCP, read, never answer, never close.
                    while let Some(Ok(_)) = socket.recv().await {}
                    break "dropped".to_owned();
                }
                Message::Text(text) if text.as_str() == "drop" => {
                    log_entry(&state, &id, session, "dropped".to_owned());
                    drop(socket);
                    return;
                }
                Message::Text(text) => text.to_string(),
                Message::Binary(bytes) => format!("binary {}", bytes.len()),
                Message::Close(Some(frame)) => {
                    break format!("close {} {}", frame.code, frame.reason)
                }
                Message::Close(None) => break "close 1005 ".to_owned(),
                Message::Ping(_) | Message::Pong(_) => continue,
            };
            log_entry(&state, &id, session, entry.clone());
            if socket.send(Message::Text(entry.into())).await.is_err() {
                break "dropped".to_owned();
            }
        };
        log_entry(&state, &id, session, end);
        finish_close(socket).await;
    })
}

async fn record_log(
    ws: WebSocketUpgrade,
    Query(query): Query<IdQuery>,
    State(state): State<AppState>,
) -> Response {
    let json = sessions_json(&state, query.id);
    on_socket(ws, move |mut socket| async move {
        let _ = socket.send(Message::Text(json.into())).await;
        close_and_drain(socket, 1000, "").await;
    })
}

async fn record_log_json(Query(query): Query<IdQuery>, State(state): State<AppState>) -> Response {
    let json = sessions_json(&state, query.id);
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response()
}

/// The sessions `/record` logged for `id`, as JSON.
fn sessions_json(state: &AppState, id: Option<String>) -> String {
    let id = id.unwrap_or_default();
    let log = state
        .sessions
        .lock()
        .ok()
        .and_then(|sessions| sessions.get(&id).cloned())
        .unwrap_or_default();
    serde_json::to_string(&log).unwrap_or_default()
}

async fn hang() -> StatusCode {
    tokio::time::sleep(Duration::from_secs(60)).await;
    StatusCode::GATEWAY_TIMEOUT
}
