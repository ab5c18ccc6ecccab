//! The crate's one error type.

use crate::rules::close::CloseEvent;
use crate::rules::message::ReadyState;
use crate::rules::url::RedactedUrl;

/// A `Result` whose error is this crate's [`Error`].
///
/// # Example
///
/// ```
/// fn check(code: u16) -> browser_websocket::Result<()> {
///     browser_websocket::CloseCode::from(code).check_sendable()
/// }
/// assert!(check(1000).is_ok());
/// assert!(check(1001).is_err());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, as a value: no panics, no bare `JsValue`s.
///
/// Input errors (`Invalid*`, `UrlHasFragment`, `ReasonTooLong`, `DuplicateProtocol`)
/// are found in Rust before the browser is asked, carry the bad input, and leave the
/// socket untouched. Connection errors carry the [`CloseEvent`] the browser reported.
///
/// # Example
///
/// ```
/// use browser_websocket::{CloseCode, Error};
///
/// let err = CloseCode::from(1001).check_sendable().unwrap_err();
/// assert_eq!(err, Error::InvalidCloseCode { code: 1001 });
/// assert_eq!(
///     err.to_string(),
///     "close code 1001 cannot be sent by a browser: use 1000 or 3000-4999",
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL could not be parsed, even against the page's or worker's base URL.
    /// Fix the URL; nothing was sent. (Shown with its secrets hidden: see
    /// [`RedactedUrl`].)
    #[error("invalid WebSocket URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: RedactedUrl,
        /// What the URL parser said (where it quoted the URL, `(the URL)` in
        /// its place: the URL shows once, redacted, as `url`).
        reason: String,
    },

    /// The URL's scheme is not `ws:`, `wss:`, `http:` or `https:`.
    #[error("invalid WebSocket URL {url:?}: scheme {scheme:?} is not ws, wss, http or https")]
    InvalidScheme {
        /// The URL as given (shown with its secrets hidden).
        url: RedactedUrl,
        /// The scheme found, without the colon.
        scheme: String,
    },

    /// The URL has a fragment (`#...`), which WebSocket URLs may not have.
    #[error("invalid WebSocket URL {url:?}: a WebSocket URL cannot have a fragment")]
    UrlHasFragment {
        /// The URL as given (shown with its secrets hidden).
        url: RedactedUrl,
    },

    /// A subprotocol name is empty or has a character that is not allowed in an
    /// HTTP token (RFC 7230), such as a space, comma or non-ASCII letter.
    #[error("invalid subprotocol {protocol:?}: must be a non-empty HTTP token")]
    InvalidProtocol {
        /// The offending protocol name.
        protocol: String,
    },

    /// The same subprotocol was offered twice.
    #[error("subprotocol {protocol:?} is offered more than once")]
    DuplicateProtocol {
        /// The repeated protocol name.
        protocol: String,
    },

    /// A close code a browser may not send: only 1000 and 3000-4999 are allowed.
    #[error("close code {code} cannot be sent by a browser: use 1000 or 3000-4999")]
    InvalidCloseCode {
        /// The rejected code.
        code: u16,
    },

    /// A close reason longer than 123 bytes of UTF-8.
    #[error("close reason is {bytes} bytes of UTF-8, the limit is 123")]
    ReasonTooLong {
        /// Its length in UTF-8 bytes.
        bytes: usize,
    },

    /// Flow-control watermarks with `low` above `high`.
    #[error("invalid flow control: low watermark {low} is above high watermark {high}")]
    InvalidWatermarks {
        /// The high watermark given.
        high: u32,
        /// The low watermark given.
        low: u32,
    },

    /// A [`ReconnectingWebSocket`](crate::ReconnectingWebSocket) is disconnected
    /// and its queue of messages to send on reconnect is full. Nothing was
    /// dropped: this message was not queued, the queued ones are kept.
    #[error(
        "the reconnect queue is full ({messages} messages, {bytes} bytes): message not queued"
    )]
    QueueFull {
        /// Messages already queued.
        messages: usize,
        /// Bytes already queued.
        bytes: usize,
    },

    /// Incoming messages waited unread past the receive limit (see
    /// `WebSocketBuilder::receive_limit`): the app reads slower than the server
    /// sends. The socket was closed with code 4009 ("receive limit exceeded");
    /// every message received before is still delivered, this error comes after
    /// them, and the stream then ends. Read faster, raise the limit, or turn it off.
    #[error("more than {limit} bytes of received messages were left unread: the socket was closed with 4009")]
    ReceiveLimitExceeded {
        /// The limit, in bytes.
        limit: usize,
    },

    /// The connection could not be opened: refused, rejected during the HTTP
    /// upgrade (e.g. 403), not a WebSocket server, or a protocol mismatch. Browsers
    /// hide which: the event carries code 1006. Retry later or report it.
    #[error("connection failed: {0}")]
    ConnectionFailed(CloseEvent),

    /// An open connection ended abnormally (e.g. the network dropped, code 1006).
    /// The stream yields this once, then ends.
    #[error("connection closed abnormally: {0}")]
    ConnectionClosed(CloseEvent),

    /// A send or close was attempted while the socket was not open. The browser
    /// would silently drop the data; here nothing was sent.
    #[error("the socket is {state}, not open: nothing was sent")]
    NotOpen {
        /// The state the socket was in.
        state: ReadyState,
    },

    /// The browser refused the connection for security reasons, by throwing
    /// from its constructor (e.g. `ws:` from an `https:` page where mixed
    /// content is blocked). A blocked port (such as 6000) is not this: engines
    /// report it as a failed connection ([`Error::ConnectionFailed`]).
    #[error("the browser refused the connection: {message}")]
    Security {
        /// The browser's message.
        message: String,
    },

    /// The bytes of a `Blob` message could not be read.
    #[error("could not read Blob: {message}")]
    BlobRead {
        /// The browser's message.
        message: String,
    },

    /// A message arrived whose data is neither text, `ArrayBuffer` nor `Blob`.
    /// Browsers do not do this; it is reported rather than assumed away.
    #[error("received a message of unexpected type {type_name}")]
    UnexpectedMessageType {
        /// The JavaScript type found.
        type_name: String,
    },

    /// The socket types need a browser's `WebSocket`, and this build targets
    /// something else (e.g. a native server sharing code with its client).
    /// The pure types ([`Message`](crate::Message), [`CloseCode`](crate::CloseCode),
    /// [`FlowControl`](crate::FlowControl), [`ReconnectPolicy`](crate::ReconnectPolicy)
    /// ...) work on every target.
    #[error("WebSockets of this crate need a browser: this build targets {target}, not wasm32")]
    UnsupportedTarget {
        /// The target architecture of this build.
        target: &'static str,
    },

    /// Natively: what only a browser has (Blob and `JsBinary` messages,
    /// [`BinaryType::Blob`](crate::BinaryType::Blob) and `JsArrayBuffer`, the
    /// request layer's outbox kept in IndexedDB). Not in wasm32 builds.
    #[cfg(not(target_arch = "wasm32"))]
    #[error("{feature} needs a browser; this build is native")]
    NeedsBrowser {
        /// What was asked for.
        feature: &'static str,
    },

    /// Natively: a header given for the upgrade request is not a valid HTTP
    /// header, or is one the WebSocket handshake sets itself. Its value is
    /// never shown (it is often a token). Not in wasm32 builds.
    #[cfg(not(target_arch = "wasm32"))]
    #[error("header {name:?} cannot be sent: {reason}")]
    InvalidHeader {
        /// The header's name, as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Natively: a certificate given to trust could not be read (neither DER
    /// nor PEM) or used as a root. Not in wasm32 builds.
    #[cfg(not(target_arch = "wasm32"))]
    #[error("certificate cannot be trusted: {reason}")]
    InvalidCertificate {
        /// What rustls or the PEM reader said.
        reason: String,
    },

    /// A value could not be encoded to JSON or a message decoded from it
    /// (feature `json`).
    #[cfg(feature = "json")]
    #[error("JSON: {message}")]
    Json {
        /// What serde_json said.
        message: String,
    },

    /// Any other JavaScript exception, by its `DOMException` name and message.
    #[error("{name}: {message}")]
    Js {
        /// The exception's name (e.g. `InvalidStateError`).
        name: String,
        /// The exception's message.
        message: String,
    },
}

impl Error {
    /// The variant's name, e.g. `"ConnectionFailed"`: the `name` of the JS
    /// `Error` this converts into, so JS code can tell errors apart.
    ///
    /// # Example
    ///
    /// ```
    /// use browser_websocket::Error;
    /// assert_eq!(Error::InvalidCloseCode { code: 1001 }.name(), "InvalidCloseCode");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => "InvalidUrl",
            Self::InvalidScheme { .. } => "InvalidScheme",
            Self::UrlHasFragment { .. } => "UrlHasFragment",
            Self::InvalidProtocol { .. } => "InvalidProtocol",
            Self::DuplicateProtocol { .. } => "DuplicateProtocol",
            Self::InvalidCloseCode { .. } => "InvalidCloseCode",
            Self::ReasonTooLong { .. } => "ReasonTooLong",
            Self::InvalidWatermarks { .. } => "InvalidWatermarks",
            Self::QueueFull { .. } => "QueueFull",
            Self::ReceiveLimitExceeded { .. } => "ReceiveLimitExceeded",
            Self::ConnectionFailed(_) => "ConnectionFailed",
            Self::ConnectionClosed(_) => "ConnectionClosed",
            Self::NotOpen { .. } => "NotOpen",
            Self::Security { .. } => "Security",
            Self::BlobRead { .. } => "BlobRead",
            Self::UnexpectedMessageType { .. } => "UnexpectedMessageType",
            Self::UnsupportedTarget { .. } => "UnsupportedTarget",
            #[cfg(not(target_arch = "wasm32"))]
            Self::NeedsBrowser { .. } => "NeedsBrowser",
            #[cfg(not(target_arch = "wasm32"))]
            Self::InvalidHeader { .. } => "InvalidHeader",
            #[cfg(not(target_arch = "wasm32"))]
            Self::InvalidCertificate { .. } => "InvalidCertificate",
            #[cfg(feature = "json")]
            Self::Json { .. } => "Json",
            Self::Js { .. } => "Js",
        }
    }

    /// Whether no attempt to connect can succeed after this error, whatever
    /// the server does: no browser in this build, or (natively) a header,
    /// certificate or browser-only option refused. A reconnecting socket
    /// stops on these instead of retrying.
    pub(crate) fn is_permanent_for_connecting(&self) -> bool {
        match self {
            Self::UnsupportedTarget { .. } => true,
            #[cfg(not(target_arch = "wasm32"))]
            Self::NeedsBrowser { .. }
            | Self::InvalidHeader { .. }
            | Self::InvalidCertificate { .. } => true,
            _ => false,
        }
    }

    /// The [`CloseEvent`] behind a connection error, if this is one.
    ///
    /// # Example
    ///
    /// ```
    /// use browser_websocket::{CloseCode, CloseEvent, Error};
    ///
    /// let event = CloseEvent { code: CloseCode::Abnormal, reason: String::new(), was_clean: false };
    /// let err = Error::ConnectionFailed(event.clone());
    /// assert_eq!(err.close_event(), Some(&event));
    /// ```
    pub fn close_event(&self) -> Option<&CloseEvent> {
        match self {
            Self::ConnectionFailed(event) | Self::ConnectionClosed(event) => Some(event),
            _ => None,
        }
    }
}
