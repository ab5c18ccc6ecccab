//! A tiny chat with wasm-bindgen and web-sys only: messages go out as JSON to
//! the test server's `/echo` and come back into the list. The markup is in
//! `index.html`; this wires it to a `ReconnectingWebSocket`.
//!
//! - `on_event` shows the connection state;
//! - the receiving half is a `Stream`, read in one `spawn_local` task;
//! - the sending half is a `Sink`, fed from a channel in another task: the
//!   form's listener only pushes into the channel, so it needs no access to
//!   the (`!Send`, single-owner) sender.

use browser_websocket::{Message, ReconnectEvent, ReconnectingWebSocket};
use futures_channel::mpsc;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Document, HtmlInputElement};

/// What goes over the socket, as JSON.
#[derive(Serialize, Deserialize)]
struct ChatMessage {
    author: String,
    text: String,
}

fn main() {
    if let Err(error) = run() {
        web_sys::console::error_1(&error);
    }
}

fn run() -> Result<(), JsValue> {
    let document = web_sys::window()
        .and_then(|window| window.document())
        .ok_or("no document")?;
    let status = element(&document, "status")?;
    let messages = element(&document, "messages")?;
    let input: HtmlInputElement = element(&document, "message")?.dyn_into()?;
    let form = element(&document, "chat")?;

    // Relative URLs are resolved against the page: this is ws://<host>/echo.
    // It starts connecting at once; sends are queued until it is open.
    let socket = ReconnectingWebSocket::builder("/echo")
        .on_event(move |event| {
            if let Some(text) = describe(event) {
                status.set_text_content(Some(&text));
            }
        })
        .connect();
    let (sender, mut receiver) = socket.into_split();

    // Received messages: a Stream, across reconnections.
    spawn_local(async move {
        while let Some(received) = receiver.next().await {
            let line = match received.and_then(|message| message.parse_json::<ChatMessage>()) {
                Ok(chat) => format!("{}: {}", chat.author, chat.text),
                Err(error) => format!("error: {error}"),
            };
            if let Err(error) = append(&document, &messages, &line) {
                web_sys::console::error_1(&error);
            }
        }
    });

    // Messages to send: the Sink, fed from a channel. `forward` waits while the
    // browser's buffer is full (or, while disconnected, the queue), and closes
    // the socket when the channel's last sender is dropped.
    let (outgoing, to_send) = mpsc::unbounded::<ChatMessage>();
    spawn_local(async move {
        let sent = to_send
            .map(|chat| Message::json(&chat))
            .forward(sender)
            .await;
        if let Err(error) = sent {
            web_sys::console::error_1(&error.into());
        }
    });

    // The form: Enter or the Send button.
    let on_submit = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        event.prevent_default();
        let text = input.value();
        if text.is_empty() {
            return;
        }
        let chat = ChatMessage {
            author: "you".to_owned(),
            text,
        };
        if outgoing.unbounded_send(chat).is_ok() {
            input.set_value("");
        }
    });
    form.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref())?;
    // The listener lives as long as the page.
    on_submit.forget();
    Ok(())
}

/// The connection state, for people; `None` for events that do not change it.
fn describe(event: &ReconnectEvent) -> Option<String> {
    Some(match event {
        ReconnectEvent::Connecting { delay, .. } if delay.is_zero() => "connecting…".to_owned(),
        ReconnectEvent::Connecting { delay, .. } => format!("reconnecting in {delay:.1?}"),
        ReconnectEvent::Open { .. } => "connected".to_owned(),
        ReconnectEvent::Closed { close, .. } => format!("disconnected: {close}"),
        ReconnectEvent::GaveUp { attempts } => format!("gave up after {attempts} attempts"),
        ReconnectEvent::Suspended { .. } => {
            "paused while the page is in the back/forward cache".to_owned()
        }
        ReconnectEvent::Offline => "offline".to_owned(),
        // Checks, answers and the rest change nothing a person needs to see.
        _ => return None,
    })
}

fn element(document: &Document, id: &str) -> Result<web_sys::Element, JsValue> {
    document
        .get_element_by_id(id)
        .ok_or_else(|| format!("no #{id} in the page").into())
}

fn append(document: &Document, list: &web_sys::Element, text: &str) -> Result<(), JsValue> {
    let item = document.create_element("li")?;
    item.set_text_content(Some(text));
    list.append_child(&item)?;
    Ok(())
}
