//! Close codes, close reasons and the close event: the rules of the WHATWG
//! `close(code, reason)` method, as pure Rust.

use std::fmt;

use crate::rules::error::{Error, Result};

/// The longest close reason a browser accepts, in bytes of UTF-8.
///
/// ```
/// assert!(browser_websocket::check_close_reason(&"x".repeat(browser_websocket::MAX_REASON_BYTES)).is_ok());
/// ```
pub const MAX_REASON_BYTES: usize = 123;

/// A WebSocket close code (RFC 6455 §7.4), with a lossless `u16` round trip.
///
/// Every code can be *received*; only [`CloseCode::Normal`] (1000),
/// [`CloseCode::Library`] (3000–3999) and [`CloseCode::Private`] (4000–4999) can be
/// *sent* by a browser, which [`CloseCode::check_sendable`] tells.
///
/// # Example
///
/// ```
/// use browser_websocket::CloseCode;
///
/// assert_eq!(CloseCode::from(1000), CloseCode::Normal);
/// assert_eq!(CloseCode::from(4001), CloseCode::Private(4001));
/// assert_eq!(u16::from(CloseCode::Abnormal), 1006);
/// assert!(CloseCode::Private(4001) == 4001);
/// ```
///
/// A code registered later may get a variant of its own: a `match` needs a `_` arm.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    Normal,
    /// 1001: the server is going down or the page is navigating away.
    GoingAway,
    /// 1002: protocol error.
    ProtocolError,
    /// 1003: a data type the endpoint cannot accept.
    Unsupported,
    /// 1005: the close frame had no status code (never sent on the wire).
    NoStatus,
    /// 1006: closed without a close frame (network drop, failed connection).
    Abnormal,
    /// 1007: data inconsistent with the message type (e.g. bad UTF-8).
    InvalidData,
    /// 1008: a policy was violated.
    PolicyViolation,
    /// 1009: a message was too big.
    TooBig,
    /// 1010: the client expected an extension the server did not offer.
    MissingExtension,
    /// 1011: the server hit an unexpected condition.
    InternalError,
    /// 1012: the server is restarting.
    ServiceRestart,
    /// 1013: try again later.
    TryAgainLater,
    /// 1014: a gateway got an invalid response upstream.
    BadGateway,
    /// 1015: the TLS handshake failed (never sent on the wire).
    TlsHandshake,
    /// 3000–3999: registered for libraries and frameworks.
    Library(u16),
    /// 4000–4999: for private use by applications.
    Private(u16),
    /// Any other code (reserved or out of range), kept as received.
    Other(u16),
}

impl CloseCode {
    /// Whether a browser may send this code: 1000 or 3000–4999.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCloseCode`] with the code otherwise.
    ///
    /// # Example
    ///
    /// ```
    /// use browser_websocket::CloseCode;
    ///
    /// assert!(CloseCode::Private(4001).check_sendable().is_ok());
    /// assert!(CloseCode::GoingAway.check_sendable().is_err());
    /// ```
    pub fn check_sendable(self) -> Result<()> {
        let code = u16::from(self);
        if code == 1000 || (3000..=4999).contains(&code) {
            Ok(())
        } else {
            Err(Error::InvalidCloseCode { code })
        }
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        match code {
            1000 => Self::Normal,
            1001 => Self::GoingAway,
            1002 => Self::ProtocolError,
            1003 => Self::Unsupported,
            1005 => Self::NoStatus,
            1006 => Self::Abnormal,
            1007 => Self::InvalidData,
            1008 => Self::PolicyViolation,
            1009 => Self::TooBig,
            1010 => Self::MissingExtension,
            1011 => Self::InternalError,
            1012 => Self::ServiceRestart,
            1013 => Self::TryAgainLater,
            1014 => Self::BadGateway,
            1015 => Self::TlsHandshake,
            3000..=3999 => Self::Library(code),
            4000..=4999 => Self::Private(code),
            other => Self::Other(other),
        }
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        match code {
            CloseCode::Normal => 1000,
            CloseCode::GoingAway => 1001,
            CloseCode::ProtocolError => 1002,
            CloseCode::Unsupported => 1003,
            CloseCode::NoStatus => 1005,
            CloseCode::Abnormal => 1006,
            CloseCode::InvalidData => 1007,
            CloseCode::PolicyViolation => 1008,
            CloseCode::TooBig => 1009,
            CloseCode::MissingExtension => 1010,
            CloseCode::InternalError => 1011,
            CloseCode::ServiceRestart => 1012,
            CloseCode::TryAgainLater => 1013,
            CloseCode::BadGateway => 1014,
            CloseCode::TlsHandshake => 1015,
            CloseCode::Library(code) | CloseCode::Private(code) | CloseCode::Other(code) => code,
        }
    }
}

impl PartialEq<u16> for CloseCode {
    fn eq(&self, other: &u16) -> bool {
        u16::from(*self) == *other
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", u16::from(*self))
    }
}

/// Checks a close reason against the browser's limit of 123 UTF-8 bytes.
///
/// # Errors
///
/// [`Error::ReasonTooLong`] with the reason's length.
///
/// # Example
///
/// ```
/// use browser_websocket::check_close_reason;
///
/// assert!(check_close_reason(&"a".repeat(123)).is_ok());
/// assert!(check_close_reason(&"a".repeat(124)).is_err());
/// ```
pub fn check_close_reason(reason: &str) -> Result<()> {
    if reason.len() > MAX_REASON_BYTES {
        Err(Error::ReasonTooLong {
            bytes: reason.len(),
        })
    } else {
        Ok(())
    }
}

/// A close the app asks for, checked as the browser would: a code it may
/// send and a reason that fits. Every `close_with` checks with this.
pub(crate) fn checked_close(code: impl Into<CloseCode>, reason: &str) -> Result<CloseCode> {
    let code = code.into();
    code.check_sendable()?;
    check_close_reason(reason)?;
    Ok(code)
}

/// How a connection ended: the browser's `CloseEvent`, as a Rust value.
///
/// # Example
///
/// ```
/// use browser_websocket::{CloseCode, CloseEvent};
///
/// let event = CloseEvent { code: CloseCode::Private(4001), reason: "bye".into(), was_clean: true };
/// assert_eq!(event.to_string(), "code 4001 \"bye\", clean");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CloseEvent {
    /// The close code; [`CloseCode::Abnormal`] (1006) when no close frame arrived.
    pub code: CloseCode,
    /// The reason the closing side gave, possibly empty.
    pub reason: String,
    /// Whether the closing handshake completed.
    pub was_clean: bool,
}

impl CloseEvent {
    /// The event of a connection that ended with no close frame: code 1006.
    pub(crate) fn abnormal() -> Self {
        Self::abnormal_because("")
    }

    /// A 1006 event made by this crate, with why (e.g. "heartbeat timeout").
    pub(crate) fn abnormal_because(reason: &str) -> Self {
        Self {
            code: CloseCode::Abnormal,
            reason: reason.to_owned(),
            was_clean: false,
        }
    }
}

impl fmt::Display for CloseEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clean = if self.was_clean { "clean" } else { "not clean" };
        write!(f, "code {} {:?}, {clean}", self.code, self.reason)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn browsers_send_only_1000_and_3000_to_4999() {
        for code in [1000, 3000, 3999, 4000, 4999] {
            assert_eq!(CloseCode::from(code).check_sendable(), Ok(()), "{code}");
        }
        for code in [0, 999, 1001, 1005, 1006, 1015, 2999, 5000, u16::MAX] {
            assert_eq!(
                CloseCode::from(code).check_sendable(),
                Err(Error::InvalidCloseCode { code }),
                "{code}"
            );
        }
    }

    #[test]
    fn reason_limit_counts_utf8_bytes_not_chars() {
        // 41 three-byte characters are 123 bytes; one more is too many.
        assert_eq!(check_close_reason(&"€".repeat(41)), Ok(()));
        assert_eq!(
            check_close_reason(&"€".repeat(42)),
            Err(Error::ReasonTooLong { bytes: 126 })
        );
    }

    proptest! {
        #[test]
        fn close_code_round_trips_every_u16(code: u16) {
            prop_assert_eq!(u16::from(CloseCode::from(code)), code);
        }

        #[test]
        fn sendable_matches_the_standard(code: u16) {
            let allowed = code == 1000 || (3000..=4999).contains(&code);
            prop_assert_eq!(CloseCode::from(code).check_sendable().is_ok(), allowed);
        }

        #[test]
        fn reason_check_matches_byte_length(reason in "\\PC{0,80}") {
            prop_assert_eq!(check_close_reason(&reason).is_ok(), reason.len() <= MAX_REASON_BYTES);
        }
    }
}
