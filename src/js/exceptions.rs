//! Thrown JS values as [`Error`]s.

use wasm_bindgen::{JsCast, JsValue};

use crate::rules::error::Error;

/// A thrown JS value as an [`Error`], keyed on the `DOMException` name, which
/// (unlike the message) is the same in every browser.
pub(crate) fn error_from_js(thrown: JsValue) -> Error {
    // DOMExceptions and TypeErrors are both `Error`s in JS.
    let (name, message) = match thrown.dyn_ref::<js_sys::Error>() {
        Some(error) => (String::from(error.name()), String::from(error.message())),
        None => ("Error".to_owned(), thrown.as_string().unwrap_or_default()),
    };
    if name == "SecurityError" {
        Error::Security { message }
    } else {
        Error::Js { name, message }
    }
}

/// A JS `Error` with this error's message, and its variant as `name` (see
/// [`Error::name`]), so that `?` works in a `#[wasm_bindgen]` function
/// returning `Result<T, JsValue>`.
///
/// # Example
///
/// ```no_run
/// use wasm_bindgen::prelude::*;
///
/// #[wasm_bindgen]
/// pub async fn greet(url: String) -> Result<(), JsValue> {
///     let socket = browser_websocket::WebSocket::connect(&url).await?;
///     socket.send_text("hello")?;
///     Ok(())
/// }
/// ```
impl From<Error> for JsValue {
    fn from(error: Error) -> Self {
        let js_error = js_sys::Error::new(&error.to_string());
        js_error.set_name(error.name());
        js_error.into()
    }
}
