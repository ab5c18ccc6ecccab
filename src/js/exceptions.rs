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
