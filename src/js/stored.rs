//! The outbox kept in IndexedDB (database `browser-websocket-outbox`, store
//! `messages`, keyed by the outbox's name and the message's id): acknowledged
//! messages not yet acknowledged, so that a page loaded again sends them
//! again. The JS half is in the global scope's snippet.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::js::exceptions::error_from_js;
use crate::js::global::{outbox_delete, outbox_load, outbox_put};
use crate::rules::error::{Error, Result};
use crate::rules::message::Message;

/// One kept message: its id and what was sent.
pub(crate) struct Kept {
    pub(crate) id: u64,
    pub(crate) message: Message,
}

/// Every message kept under `name`, in id order.
pub(crate) async fn load(name: &str) -> Result<Vec<Kept>> {
    let rows = JsFuture::from(outbox_load(name))
        .await
        .map_err(error_from_js)?;
    let rows: js_sys::Array = rows.dyn_into().map_err(|_| Error::Js {
        name: "TypeError".to_owned(),
        message: "the outbox's rows are not an array".to_owned(),
    })?;
    Ok(rows.iter().filter_map(|row| kept(&row)).collect())
}

fn kept(row: &JsValue) -> Option<Kept> {
    let id = js_sys::Reflect::get(row, &"id".into()).ok()?.as_f64()?;
    let data = js_sys::Reflect::get(row, &"data".into()).ok()?;
    let message = match data.as_string() {
        Some(text) => Message::Text(text),
        None => Message::Binary(js_sys::Uint8Array::new(&data).to_vec()),
    };
    Some(Kept {
        id: id as u64,
        message,
    })
}

/// Keeps `message` (text or bytes) under `name` and `id`.
pub(crate) async fn put(name: &str, id: u64, message: &Message) -> Result<()> {
    let data = match message {
        Message::Text(text) => JsValue::from_str(text),
        Message::Binary(bytes) => js_sys::Uint8Array::from(bytes.as_slice()).into(),
        Message::JsBinary(view) => js_sys::Uint8Array::from(view.to_vec().as_slice()).into(),
        Message::Blob(_) => {
            return Err(Error::Js {
                name: "DataCloneError".to_owned(),
                message: "a Blob message is not kept in the outbox".to_owned(),
            })
        }
    };
    JsFuture::from(outbox_put(name, id as f64, &data))
        .await
        .map(drop)
        .map_err(error_from_js)
}

/// Forgets the message kept under `name` and `id`.
pub(crate) async fn delete(name: &str, id: u64) -> Result<()> {
    JsFuture::from(outbox_delete(name, id as f64))
        .await
        .map(drop)
        .map_err(error_from_js)
}
