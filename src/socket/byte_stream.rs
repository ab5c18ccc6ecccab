//! [`ByteStream`]: a socket as `AsyncRead` + `AsyncWrite` over binary
//! messages, for codecs and protocols that want a stream of bytes.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};
use futures_sink::Sink;

use crate::rules::message::Message;
use crate::socket::handle::Handle;
use crate::socket::websocket::WebSocket;

/// A [`WebSocket`] read and written as bytes: each write sends one binary
/// message (through the `Sink`, so flow control applies), and reads return the
/// bytes of received binary messages in order, with message boundaries erased.
/// A clean close reads as end of file; an abnormal close, a text or a Blob
/// message reads as an error (`InvalidData` for the messages, with the crate's
/// [`Error`](crate::Error) as the source otherwise).
///
/// # Example
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use futures_util::{AsyncReadExt, AsyncWriteExt};
/// let socket = browser_websocket::WebSocket::connect("/echo").await.map_err(std::io::Error::other)?;
/// let mut bytes = socket.into_byte_stream();
/// bytes.write_all(b"ping").await?;
/// let mut echo = [0u8; 4];
/// bytes.read_exact(&mut echo).await?;
/// assert_eq!(&echo, b"ping");
/// bytes.close().await?; // closes with 1000 and waits
/// # Ok(()) }
/// ```
#[must_use = "dropping it closes the socket"]
pub struct ByteStream {
    socket: WebSocket,
    unread: Vec<u8>,
    position: usize,
    ended: bool,
}

impl WebSocket {
    /// This socket as `AsyncRead` + `AsyncWrite` over binary messages; see
    /// [`ByteStream`].
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let bytes = browser_websocket::WebSocket::connect("/echo").await?.into_byte_stream();
    /// # Ok(()) }
    /// ```
    pub fn into_byte_stream(self) -> ByteStream {
        ByteStream {
            socket: self,
            unread: Vec::new(),
            position: 0,
            ended: false,
        }
    }
}

impl ByteStream {
    /// The socket back (bytes read from a message but not yet returned are lost).
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let bytes = browser_websocket::WebSocket::connect("/echo").await?.into_byte_stream();
    /// let socket = bytes.into_inner();
    /// # Ok(()) }
    /// ```
    pub fn into_inner(self) -> WebSocket {
        self.socket
    }

    /// A handle on the socket: its state, close with a code, `closed()`.
    ///
    /// ```no_run
    /// # async fn demo() -> browser_websocket::Result<()> {
    /// let bytes = browser_websocket::WebSocket::connect("/echo").await?.into_byte_stream();
    /// bytes.handle().close_with(4000, "done")?;
    /// # Ok(()) }
    /// ```
    pub fn handle(&self) -> Handle {
        self.socket.handle()
    }
}

impl std::fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteStream")
            .field("socket", &self.socket)
            .field("unread", &(self.unread.len() - self.position))
            .finish()
    }
}

impl AsyncRead for ByteStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buffer: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let available = &self.unread[self.position..];
            if !available.is_empty() || buffer.is_empty() {
                let count = available.len().min(buffer.len());
                buffer[..count].copy_from_slice(&available[..count]);
                self.position += count;
                return Poll::Ready(Ok(count));
            }
            if self.ended {
                return Poll::Ready(Ok(0));
            }
            match ready!(Pin::new(&mut self.socket).poll_next(cx)) {
                Some(Ok(Message::Binary(bytes))) => {
                    self.unread = bytes;
                    self.position = 0;
                }
                Some(Ok(Message::JsBinary(view))) => {
                    self.unread = view.to_vec();
                    self.position = 0;
                }
                Some(Ok(other)) => {
                    let kind = if other.is_text() { "text" } else { "Blob" };
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("a byte stream reads binary messages, not {kind} (use BinaryType::ArrayBuffer)"),
                    )));
                }
                Some(Err(error)) => return Poll::Ready(Err(io::Error::other(error))),
                None => self.ended = true,
            }
        }
    }
}

impl AsyncWrite for ByteStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buffer.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let socket = Pin::new(&mut self.socket);
        ready!(Sink::<Message>::poll_ready(socket, cx)).map_err(io::Error::other)?;
        Pin::new(&mut self.socket)
            .start_send(Message::Binary(buffer.to_vec()))
            .map_err(io::Error::other)?;
        Poll::Ready(Ok(buffer.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Sink::<Message>::poll_flush(Pin::new(&mut self.socket), cx).map_err(io::Error::other)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Sink::<Message>::poll_close(Pin::new(&mut self.socket), cx).map_err(io::Error::other)
    }
}
