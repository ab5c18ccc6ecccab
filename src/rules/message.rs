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
#[derive(Clone, Debug, PartialEq)]
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

/// How binary messages are delivered: the socket's `binaryType`.
///
/// # Example
///
/// ```
/// use browser_websocket::BinaryType;
/// assert_eq!(BinaryType::default(), BinaryType::ArrayBuffer);
/// assert_eq!(BinaryType::Blob.to_string(), "blob");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BinaryType {
    /// As [`Message::Binary`], copied once from the `ArrayBuffer` (the default).
    #[default]
    ArrayBuffer,
    /// As [`Message::Blob`]: the bytes stay in the browser until read.
    Blob,
}

impl fmt::Display for BinaryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ArrayBuffer => "arraybuffer",
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
