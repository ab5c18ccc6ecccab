//! The JSON scenarios: the same document echoed `count` times and parsed on
//! arrival into a Rust type (into a JS object for raw JS). `json_small` is a
//! one-item document of about 100 bytes, `json_large` one of 64 KiB.

use std::hint::black_box;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::contenders::peers;
use crate::sizes::{JSON_LARGE_COUNT, JSON_LARGE_SIZE, JSON_SMALL_COUNT};

/// A message of an app that lists things for sale.
#[derive(Serialize, Deserialize)]
pub struct Batch {
    pub sequence: u32,
    pub items: Vec<Item>,
}

#[derive(Serialize, Deserialize)]
pub struct Item {
    pub id: u32,
    pub name: String,
    pub price: f64,
    pub tags: Vec<String>,
}

fn item(id: u32) -> Item {
    Item {
        id,
        name: format!("item number {id}"),
        price: f64::from(id) * 1.25 + 0.99,
        tags: vec!["new".to_owned(), format!("group-{}", id % 7)],
    }
}

/// A document of one item, or of as many as fit in `bytes`.
fn document(bytes: usize) -> String {
    let mut batch = Batch {
        sequence: 1,
        items: vec![item(0)],
    };
    let mut text = serde_json::to_string(&batch).unwrap_or_default();
    while text.len() < bytes {
        batch.items.push(item(batch.items.len() as u32));
        text = serde_json::to_string(&batch).unwrap_or_default();
    }
    if text.len() > bytes && batch.items.len() > 1 {
        batch.items.pop();
        text = serde_json::to_string(&batch).unwrap_or_default();
    }
    text
}

/// The count and the document of a JSON scenario; `None` for the others.
pub fn scenario(name: &str) -> Option<(u32, String)> {
    match name {
        "json_small" => Some((JSON_SMALL_COUNT, document(0))),
        "json_large" => Some((JSON_LARGE_COUNT, document(JSON_LARGE_SIZE))),
        _ => None,
    }
}

/// How many items `count` copies of `payload` hold.
fn items_in(payload: &str, count: u32) -> Result<usize, String> {
    let batch: Batch = serde_json::from_str(payload).map_err(|error| error.to_string())?;
    Ok(batch.items.len() * count as usize)
}

/// Runs a JSON scenario once with `implementation`; checks that every item
/// arrived.
pub async fn once(
    url: &str,
    implementation: &str,
    count: u32,
    payload: &str,
) -> Result<f64, String> {
    let expected = items_in(payload, count)?;
    let (ms, items) = match implementation {
        "raw_js" => (
            crate::raw_ms(crate::raw_json_echo(url, count, payload).await)?,
            expected,
        ),
        "this_crate_js_parse" => {
            let items = std::rc::Rc::new(std::cell::Cell::new(0usize));
            let counted = std::rc::Rc::clone(&items);
            let to_wasm = Closure::<dyn FnMut(JsValue) -> u32>::new(move |value: JsValue| {
                let batch: Result<Batch, _> = serde_wasm_bindgen::from_value(value);
                let found = batch.map_or(0, |batch| black_box(batch).items.len());
                counted.set(counted.get() + found);
                found as u32
            });
            let ms =
                crate::raw_ms(crate::raw_json_echo_to_wasm(url, count, payload, &to_wasm).await)?;
            (ms, items.get())
        }
        "this_crate" => crate::contenders::this_crate::json_echo(url, count, payload).await?,
        "gloo_net" => peers::json_echo::<peers::Gloo>(url, count, payload).await?,
        "ws_stream_wasm" => peers::json_echo::<peers::WsStreamWasm>(url, count, payload).await?,
        "websocket_web" => peers::json_echo::<peers::WebsocketWeb>(url, count, payload).await?,
        _ => return Err(format!("unknown implementation {implementation:?}")),
    };
    if items == expected {
        Ok(ms)
    } else {
        Err(format!("parsed {items} items, expected {expected}"))
    }
}
