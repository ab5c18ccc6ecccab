//! JSON messages (feature `json`): a value sent as a text message, and a text
//! or binary message parsed into a type, with typed errors.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::rules::error::{Error, Result};
use crate::rules::message::Message;

impl Message {
    /// A text message holding `value` as JSON.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if `value` cannot be serialized (e.g. a map with
    /// non-string keys).
    ///
    /// # Example
    ///
    /// ```
    /// use browser_websocket::Message;
    /// #[derive(serde::Serialize)]
    /// struct Join<'a> { room: &'a str }
    /// let message = Message::json(&Join { room: "rust" })?;
    /// assert_eq!(message.as_text(), Some(r#"{"room":"rust"}"#));
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self> {
        serde_json::to_string(value)
            .map(Self::Text)
            .map_err(json_error)
    }

    /// Parses a text or binary message as JSON into `T`.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] if the message is not valid JSON for `T`, or is a Blob
    /// (read Blobs first, e.g. with [`read_blobs`](crate::ReadBlobsExt::read_blobs)).
    ///
    /// # Example
    ///
    /// ```
    /// use browser_websocket::Message;
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// struct Said { text: String }
    /// let said: Said = Message::from(r#"{"text":"hi"}"#).parse_json()?;
    /// assert_eq!(said, Said { text: "hi".into() });
    /// assert!(Message::from("not json").parse_json::<Said>().is_err());
    /// # Ok::<(), browser_websocket::Error>(())
    /// ```
    pub fn parse_json<T: DeserializeOwned>(&self) -> Result<T> {
        match self {
            Self::Text(text) => serde_json::from_str(text).map_err(json_error),
            Self::Binary(bytes) => serde_json::from_slice(bytes).map_err(json_error),
            Self::JsBinary(view) => serde_json::from_slice(&view.to_vec()).map_err(json_error),
            Self::Blob(_) => Err(Error::Json {
                message: "a Blob message must be read before it is parsed".to_owned(),
            }),
        }
    }
}

fn json_error(error: serde_json::Error) -> Error {
    Error::Json {
        message: error.to_string(),
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Point {
        x: i32,
        y: i32,
    }

    #[test]
    fn round_trips_through_text_and_bytes() {
        let message = Message::json(&Point { x: 1, y: -2 }).unwrap();
        assert_eq!(message.as_text(), Some(r#"{"x":1,"y":-2}"#));
        assert_eq!(message.parse_json::<Point>(), Ok(Point { x: 1, y: -2 }));
        let binary = Message::from(br#"{"x":3,"y":4}"#.to_vec());
        assert_eq!(binary.parse_json::<Point>(), Ok(Point { x: 3, y: 4 }));
    }

    #[test]
    fn bad_json_is_a_typed_error() {
        let error = Message::from(r#"{"x":1}"#)
            .parse_json::<Point>()
            .unwrap_err();
        assert!(matches!(&error, Error::Json { message } if message.contains("missing field `y`")));
        assert_eq!(error.name(), "Json");
    }
}
