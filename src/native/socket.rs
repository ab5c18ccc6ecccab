//! The socket natively, in place of the browser's: the same calls
//! ([`NativeSocket`] is what `BrowserSocket` is in a browser) and the same
//! events, in the order a browser gives them, over tokio-tungstenite.
//!
//! The connection lives in two tasks on the IO runtime (one reads, one
//! writes), which report to the socket's thread through its loop's inbox; the
//! socket's state as the app sees it (`readyState`) changes on the socket's
//! thread, as each event is handed over, as in a browser.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WireCloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message as WireMessage};
use tokio_tungstenite::Connector;

use crate::js::socket::Outgoing;
use crate::js::Registration;
use crate::native::event_loop::{self, Inbox, Job};
use crate::native::options::NativeOptions;
use crate::native::runtime;
use crate::rules::close::{CloseCode, CloseEvent};
use crate::rules::error::{Error, Result};
use crate::rules::lifecycle::BrowserEvent;
use crate::rules::message::{BinaryType, Message, ReadyState};

/// How long a close handshake may take before the connection is dropped
/// (Firefox's `network.websocket.timeout.close`: browsers do not wait for
/// ever either).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(20);

/// Listeners counted per socket, as in a browser (open, message, error,
/// close), so [`crate::live_js_callbacks`] reads the same on both targets.
const LISTENERS_PER_SOCKET: usize = 4;

/// What the connection reports, as plain `Send` values.
pub(crate) enum SocketEvent {
    Open,
    Text(String),
    Binary(Vec<u8>),
    Close(CloseEvent),
}

impl SocketEvent {
    pub(crate) fn into_browser_event(self) -> BrowserEvent {
        match self {
            Self::Open => BrowserEvent::Open,
            Self::Text(text) => BrowserEvent::Message(Ok(Message::Text(text))),
            Self::Binary(bytes) => BrowserEvent::Message(Ok(Message::Binary(bytes))),
            Self::Close(event) => BrowserEvent::Close(event),
        }
    }
}

/// What the socket's thread asks of the writing task.
enum Command {
    /// A message, and the bytes it adds to `bufferedAmount`.
    Send(WireMessage, u64),
    Close(u16, String),
}

/// What both sides read: the bytes handed over and not yet written, and what
/// the server chose.
#[derive(Default)]
struct Status {
    buffered: AtomicU64,
    protocol: Mutex<String>,
}

/// A native socket; closed with 1000 when dropped, as a browser socket is.
pub(crate) struct NativeSocket {
    id: u64,
    url: String,
    commands: mpsc::UnboundedSender<Command>,
    status: Arc<Status>,
    ready_state: Rc<Cell<ReadyState>>,
}

impl NativeSocket {
    /// Starts connecting to an already checked URL with `protocols`.
    pub(crate) fn open(
        url: &str,
        protocols: &[String],
        binary_type: BinaryType,
        options: &NativeOptions,
    ) -> Result<Self> {
        match binary_type {
            BinaryType::ArrayBuffer => {}
            BinaryType::Blob => return Err(needs_browser("BinaryType::Blob")),
            BinaryType::JsArrayBuffer => return Err(needs_browser("BinaryType::JsArrayBuffer")),
        }
        let request = options.request(url, protocols)?;
        let tls = options.tls()?;
        let runtime = runtime::handle()?;
        let id = event_loop::next_id();
        let status = Arc::new(Status::default());
        let (commands, receiver) = mpsc::unbounded_channel();
        runtime.spawn(connection(
            Reporter {
                id,
                inbox: event_loop::inbox(),
            },
            request,
            tls,
            receiver,
            Arc::clone(&status),
        ));
        Ok(Self {
            id,
            url: url.to_owned(),
            commands,
            status,
            ready_state: Rc::new(Cell::new(ReadyState::Connecting)),
        })
    }

    /// Hands each event to `on_event` on this thread, after updating the
    /// state as a browser does before it fires the event.
    pub(crate) fn listen(&self, on_event: Rc<dyn Fn(BrowserEvent)>) -> NativeListeners {
        let ready_state = Rc::clone(&self.ready_state);
        event_loop::listen(
            self.id,
            Rc::new(move |event: BrowserEvent| {
                match &event {
                    BrowserEvent::Open => ready_state.set(ReadyState::Open),
                    BrowserEvent::Close(_) => ready_state.set(ReadyState::Closed),
                    _ => {}
                }
                on_event(event);
            }),
        );
        NativeListeners {
            socket: self.id,
            _registration: Registration::new(LISTENERS_PER_SOCKET),
        }
    }

    /// Hands one message to the writing task. The caller has checked the
    /// state.
    pub(crate) fn send(&self, message: Outgoing<'_>) -> Result<()> {
        let wire = match message {
            Outgoing::Text(text) => WireMessage::text(text),
            Outgoing::Bytes(bytes) => WireMessage::binary(bytes.to_vec()),
            Outgoing::Blob(_) => return Err(needs_browser("a Blob message")),
            Outgoing::JsBytes(_) => return Err(needs_browser("a JsBinary message")),
        };
        let bytes = message.byte_len();
        self.status.buffered.fetch_add(bytes, Ordering::Relaxed);
        // The writing task ends only after the connection has: its close
        // event is on its way, so a message it no longer takes is not lost
        // silently (as in a browser, a message sent as the connection drops
        // is gone).
        let _ = self.commands.send(Command::Send(wire, bytes));
        Ok(())
    }

    /// Starts the closing handshake. The caller has checked code and reason.
    pub(crate) fn close(&self, code: CloseCode, reason: &str) -> Result<()> {
        if matches!(
            self.ready_state.get(),
            ReadyState::Connecting | ReadyState::Open
        ) {
            self.ready_state.set(ReadyState::Closing);
            let _ = self
                .commands
                .send(Command::Close(u16::from(code), reason.to_owned()));
        }
        Ok(())
    }

    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    pub(crate) fn protocol(&self) -> String {
        self.status
            .protocol
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// No extension is negotiated natively (tungstenite offers none).
    pub(crate) fn extensions(&self) -> String {
        String::new()
    }

    pub(crate) fn ready_state(&self) -> ReadyState {
        self.ready_state.get()
    }

    /// The bytes handed over and not yet written to the connection, as
    /// `bufferedAmount` (saturated at `u32::MAX`).
    pub(crate) fn buffered_amount(&self) -> u32 {
        let buffered = self.status.buffered.load(Ordering::Relaxed);
        u32::try_from(buffered).unwrap_or(u32::MAX)
    }

    pub(crate) fn binary_type(&self) -> BinaryType {
        BinaryType::ArrayBuffer
    }
}

impl Drop for NativeSocket {
    fn drop(&mut self) {
        let _ = self.close(CloseCode::Normal, "");
    }
}

/// The socket's listener on its thread's loop; dropping it stops the events.
#[must_use = "the listeners are removed when dropped"]
pub(crate) struct NativeListeners {
    socket: u64,
    _registration: Registration,
}

impl Drop for NativeListeners {
    fn drop(&mut self) {
        event_loop::unlisten(self.socket);
    }
}

fn needs_browser(feature: &'static str) -> Error {
    Error::NeedsBrowser { feature }
}

/// Reports one socket's events to its thread.
struct Reporter {
    id: u64,
    inbox: Arc<Inbox>,
}

impl Reporter {
    fn report(&self, event: SocketEvent) {
        self.inbox.push(Job::Socket(self.id, event));
    }

    /// A connection that failed: `close` 1006, which the lifecycle reports
    /// as a browser's `error` + `close` (a connection that never opened
    /// failed). Natively the reason says why, where a browser says nothing;
    /// an `error` event first would end the lifecycle without it.
    fn failed(&self, reason: String) {
        self.closed(unclean(reason));
    }

    fn closed(&self, event: CloseEvent) {
        self.report(SocketEvent::Close(event));
    }
}

/// Browsers take messages of any size; so does this. (The receive limit
/// bounds what waits unread.)
fn wire_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(None)
        .max_frame_size(None)
}

/// One connection, from the upgrade request to its close event.
async fn connection(
    reporter: Reporter,
    request: tungstenite::handshake::client::Request,
    tls: Arc<rustls::ClientConfig>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    status: Arc<Status>,
) {
    let connecting = tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(wire_config()),
        true,
        Some(Connector::Rustls(tls)),
    );
    let stream = tokio::select! {
        connected = connecting => match connected {
            Ok((stream, response)) => {
                let protocol = response
                    .headers()
                    .get("Sec-WebSocket-Protocol")
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default();
                *status.protocol.lock().unwrap_or_else(PoisonError::into_inner) = protocol.to_owned();
                stream
            }
            Err(error) => return reporter.failed(describe_connect_error(&error)),
        },
        // Before it opens, the only command is a close (or the socket's
        // drop): a browser fails the connection.
        _ = commands.recv() => return reporter.failed(String::from("closed before the connection opened")),
    };
    reporter.report(SocketEvent::Open);
    let (sink, stream) = stream.split();
    let (close_sent, close_deadline) = oneshot::channel();
    tokio::spawn(write(sink, commands, status, close_sent));
    read(stream, &reporter, close_deadline).await;
}

type WireStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Writes each command in order, flushing when none waits (one write for a
/// burst); `bufferedAmount` drops as they reach the connection. When the
/// socket is dropped without a close, closes with 1000. Tells the reader when
/// its close has gone, so it waits at most [`CLOSE_TIMEOUT`].
async fn write(
    mut sink: futures_util::stream::SplitSink<WireStream, WireMessage>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    status: Arc<Status>,
    close_sent: oneshot::Sender<()>,
) {
    let mut failed = false;
    let mut unflushed = 0;
    let (code, reason) = loop {
        let command = match commands.try_recv() {
            Ok(command) => Some(command),
            Err(_) => {
                failed = failed || sink.flush().await.is_err();
                status.buffered.fetch_sub(unflushed, Ordering::Relaxed);
                unflushed = 0;
                commands.recv().await
            }
        };
        match command {
            Some(Command::Send(message, bytes)) => {
                failed = failed || sink.feed(message).await.is_err();
                unflushed += bytes;
            }
            Some(Command::Close(code, reason)) => break (code, reason),
            None => break (1000, String::new()),
        }
    };
    status.buffered.fetch_sub(unflushed, Ordering::Relaxed);
    if !failed {
        let frame = CloseFrame {
            code: WireCloseCode::from(code),
            reason: reason.into(),
        };
        let _ = sink.send(WireMessage::Close(Some(frame))).await;
    }
    let _ = close_sent.send(());
}

/// Reads until the connection ends, reporting each message and then the one
/// close event.
async fn read(
    mut stream: futures_util::stream::SplitStream<WireStream>,
    reporter: &Reporter,
    close_sent: oneshot::Receiver<()>,
) {
    // The server's close frame: code (1005 when it gave none) and reason.
    let mut close_frame: Option<(u16, String)> = None;
    // Armed once a close frame has gone either way: a peer that never ends
    // the connection is left after CLOSE_TIMEOUT.
    let mut deadline = None;
    let mut close_sent = Some(close_sent);
    let close = loop {
        let next = tokio::select! {
            next = stream.next() => next,
            () = settled(&mut close_sent) => {
                close_sent = None;
                deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(CLOSE_TIMEOUT)));
                continue;
            }
            () = expired(&mut deadline) => {
                break unclean(String::from("the close handshake timed out"));
            }
        };
        if matches!(next, Some(Ok(WireMessage::Close(_)))) {
            deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(CLOSE_TIMEOUT)));
        }
        match next {
            Some(Ok(WireMessage::Text(text))) => {
                reporter.report(SocketEvent::Text(text.as_str().to_owned()));
            }
            Some(Ok(WireMessage::Binary(bytes))) => {
                reporter.report(SocketEvent::Binary(bytes.to_vec()));
            }
            Some(Ok(WireMessage::Close(frame))) => {
                close_frame = Some(frame.map_or((1005, String::new()), |frame| {
                    (u16::from(frame.code), frame.reason.as_str().to_owned())
                }));
            }
            // Pings are answered by tungstenite; pongs and raw frames are
            // not the app's.
            Some(Ok(_)) => {}
            // The end of the connection. Once the server's close frame has
            // come, the closing handshake is done (tungstenite answers it at
            // once): clean, however TCP (or TLS, often without its
            // close_notify) ends afterwards.
            None | Some(Err(_)) if close_frame.is_some() => {
                let (code, reason) = close_frame.take().unwrap_or((1005, String::new()));
                break CloseEvent {
                    code: CloseCode::from(code),
                    reason,
                    was_clean: true,
                };
            }
            // Without it: not clean, and why (a TCP reset, a frame the
            // standard forbids, text that is not UTF-8).
            None => break unclean(String::from("the connection ended without a close frame")),
            Some(Err(error)) => break unclean(error.to_string()),
        }
    };
    reporter.closed(close);
}

/// Once the writer has sent its close (or ended); never while `None`.
async fn settled(close_sent: &mut Option<oneshot::Receiver<()>>) {
    match close_sent {
        Some(receiver) => {
            let _ = receiver.await;
        }
        None => std::future::pending().await,
    }
}

/// Once the deadline has passed; never while unarmed.
async fn expired(deadline: &mut Option<std::pin::Pin<Box<tokio::time::Sleep>>>) {
    match deadline {
        Some(sleep) => sleep.await,
        None => std::future::pending().await,
    }
}

fn unclean(reason: String) -> CloseEvent {
    CloseEvent {
        code: CloseCode::Abnormal,
        reason,
        was_clean: false,
    }
}

/// Why the connection could not be opened, for the close event's reason:
/// the HTTP status of a refused upgrade, or what the network, TLS or the
/// handshake said.
fn describe_connect_error(error: &tungstenite::Error) -> String {
    match error {
        tungstenite::Error::Http(response) => format!("HTTP {}", response.status()),
        other => other.to_string(),
    }
}
