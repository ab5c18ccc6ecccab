//! Messages, and the socket's binary type and ready state.

use std::fmt;

/// One WebSocket message, as received or to send.
///
/// Browsers expose no ping, pong or close frames, so there are none here.
///
/// # Example
///
/// ```
/// use browser_websocket::Message;
///
/// let text = Message::from("an example message");
/// assert!(text.is_text());
/// assert_eq!(text.as_text(), Some("an example message"));
///
/// let binary = Message::from(vec![0x40, 0x49, 0x0f, 0xdb, 127]);
/// assert_eq!(binary.len(), Some(5));
/// ```
///
/// New kinds may be added (`JsBinary` was): a `match` needs a `_` arm.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message received as an `ArrayBuffer` (copied once into the
    /// `Vec`), or bytes to send.
    Binary(Vec<u8>),
    /// A binary message received with [`BinaryType::Blob`], or a `Blob` to send.
    /// Read its bytes with [`read_blob`](crate::read_blob) or
    /// [`Message::into_bytes`]; on a stream, [`read_blobs`](crate::ReadBlobsExt::read_blobs)
    /// keeps the order.
    Blob(web_sys::Blob),
    /// A binary message whose bytes stay in JavaScript memory: received with
    /// [`BinaryType::JsArrayBuffer`] (a view of the browser's `ArrayBuffer`,
    /// never copied into wasm memory, which never shrinks), or a JS view to
    /// send without a copy through wasm. [`Message::to_vec`] copies it into
    /// wasm when the app asks.
    JsBinary(js_sys::Uint8Array),
}

impl Message {
    /// Whether this is [`Message::Text`].
    ///
    /// ```
    /// assert!(browser_websocket::Message::from("hi").is_text());
    /// ```
    pub fn is_text(&self) -> bool {
        matches!(self, Self::Text(_))
    }

    /// Whether this is [`Message::Binary`] or [`Message::Blob`].
    ///
    /// ```
    /// assert!(browser_websocket::Message::from(vec![1, 2]).is_binary());
    /// ```
    pub fn is_binary(&self) -> bool {
        !self.is_text()
    }

    /// The text, if this is a text message.
    ///
    /// ```
    /// use browser_websocket::Message;
    /// assert_eq!(Message::from("hi").as_text(), Some("hi"));
    /// assert_eq!(Message::from(vec![1]).as_text(), None);
    /// ```
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The bytes, if this is a [`Message::Binary`].
    ///
    /// ```
    /// use browser_websocket::Message;
    /// assert_eq!(Message::from(vec![1, 2]).as_bytes(), Some(&[1, 2][..]));
    /// assert_eq!(Message::from("hi").as_bytes(), None);
    /// ```
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Binary(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The bytes of a [`Message::Binary`] or [`Message::JsBinary`] (copied
    /// out of JS memory), or the UTF-8 of a text; `None` for a Blob, which
    /// must be read ([`Message::into_bytes`]).
    ///
    /// ```
    /// use browser_websocket::Message;
    /// assert_eq!(Message::from("hi").to_vec(), Some(b"hi".to_vec()));
    /// ```
    pub fn to_vec(&self) -> Option<Vec<u8>> {
        match self {
            Self::Text(text) => Some(text.as_bytes().to_vec()),
            Self::Binary(bytes) => Some(bytes.clone()),
            Self::JsBinary(view) => Some(view.to_vec()),
            Self::Blob(_) => None,
        }
    }

    /// The size in bytes (UTF-8 bytes for text), if known without reading a Blob
    /// (a Blob's size is known too, but only in the browser).
    ///
    /// ```
    /// use browser_websocket::Message;
    /// assert_eq!(Message::from("é").len(), Some(2));
    /// ```
    pub fn len(&self) -> Option<usize> {
        match self {
            Self::Text(text) => Some(text.len()),
            Self::Binary(bytes) => Some(bytes.len()),
            Self::JsBinary(view) => Some(view.length() as usize),
            Self::Blob(_) => None,
        }
    }

    /// Whether the message is known to be empty.
    ///
    /// ```
    /// use browser_websocket::Message;
    /// assert!(Message::from("").is_empty());
    /// assert!(!Message::from("x").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }
}

/// Variants equal variants of their kind: texts and bytes by content, JS views
/// by their bytes (copied out to compare), Blobs by identity.
impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Text(a), Self::Text(b)) => a == b,
            (Self::Binary(a), Self::Binary(b)) => a == b,
            (Self::Blob(a), Self::Blob(b)) => a == b,
            (Self::JsBinary(a), Self::JsBinary(b)) => {
                a.byte_length() == b.byte_length() && a.to_vec() == b.to_vec()
            }
            _ => false,
        }
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&String> for Message {
    fn from(text: &String) -> Self {
        Self::Text(text.clone())
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Binary(bytes)
    }
}

impl From<&[u8]> for Message {
    fn from(bytes: &[u8]) -> Self {
        Self::Binary(bytes.to_vec())
    }
}

impl From<web_sys::Blob> for Message {
    fn from(blob: web_sys::Blob) -> Self {
        Self::Blob(blob)
    }
}

impl From<js_sys::Uint8Array> for Message {
    fn from(view: js_sys::Uint8Array) -> Self {
        Self::JsBinary(view)
    }
}

/// How binary messages are delivered: the socket's `binaryType`.
///
/// # Example
///
/// ```
/// use browser_websocket::BinaryType;
/// assert_eq!(BinaryType::default(), BinaryType::ArrayBuffer);
/// assert_eq!(BinaryType::Blob.to_string(), "blob");
/// ```
///
/// New types may be added (`JsArrayBuffer` was): a `match` needs a `_` arm.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BinaryType {
    /// As [`Message::Binary`], copied once from the `ArrayBuffer` (the default).
    #[default]
    ArrayBuffer,
    /// As [`Message::Blob`]: the bytes stay in the browser until read.
    Blob,
    /// As [`Message::JsBinary`]: a view of the browser's `ArrayBuffer`, left
    /// in JS memory until the app copies it (the socket's `binaryType` is
    /// `"arraybuffer"`). For large messages: wasm memory never shrinks, so
    /// one 16 MiB message received as [`Message::Binary`] keeps its pages for
    /// good.
    JsArrayBuffer,
}

impl fmt::Display for BinaryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ArrayBuffer | Self::JsArrayBuffer => "arraybuffer",
            Self::Blob => "blob",
        })
    }
}

/// The socket's `readyState`.
///
/// # Example
///
/// ```
/// use browser_websocket::ReadyState;
/// assert_eq!(ReadyState::from(1), ReadyState::Open);
/// assert_eq!(ReadyState::Closing.to_string(), "closing");
/// ```
///
/// Exhaustive: the standard fixes these four states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadyState {
    /// 0: the connection is being opened.
    Connecting,
    /// 1: open; messages can be sent.
    Open,
    /// 2: the closing handshake has started.
    Closing,
    /// 3: closed, or never opened.
    Closed,
}

impl From<u16> for ReadyState {
    /// Maps the browser's number; anything unknown counts as closed.
    fn from(state: u16) -> Self {
        match state {
            0 => Self::Connecting,
            1 => Self::Open,
            2 => Self::Closing,
            _ => Self::Closed,
        }
    }
}

impl fmt::Display for ReadyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connecting => "connecting",
            Self::Open => "open",
            Self::Closing => "closing",
            Self::Closed => "closed",
        })
    }
}
