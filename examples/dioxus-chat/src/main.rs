//! A tiny chat in Dioxus (web renderer): messages go out as JSON to the test
//! server's `/echo` and come back into the list.
//!
//! Dioxus keeps `!Send` values in its hooks and signals, so no channel is
//! needed between the form and the socket:
//!
//! - `use_hook` opens the socket once, on the first render, and hands the
//!   socket itself to a task (`spawn`, owned by the component) that reads it
//!   as a `Stream`; the hook keeps only a [`ReconnectingHandle`], which is
//!   `Clone`, for the form's handler to send with;
//! - `on_event` writes the connection state into a signal;
//! - sends go through the handle, which queues them while disconnected and
//!   delivers them, in order, once connected again;
//! - on unmount the component's task is cancelled, which drops the socket and
//!   so closes it; `use_drop` also closes it by the handle, with a normal
//!   close, in case the task is still parked.

use browser_websocket::{ReconnectEvent, ReconnectingHandle, ReconnectingWebSocket};
use dioxus::prelude::*;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

/// What goes over the socket, as JSON.
#[derive(Serialize, Deserialize)]
struct ChatMessage {
    author: String,
    text: String,
}

fn main() {
    dioxus::launch(Chat);
}

#[component]
fn Chat() -> Element {
    let mut status = use_signal(|| "loading…".to_owned());
    let lines = use_signal(Vec::<String>::new);
    let mut draft = use_signal(String::new);
    let socket = use_hook(|| open(status, lines));
    {
        let socket = socket.clone();
        use_drop(move || {
            let _ = socket.close_normal();
        });
    }

    let send = move |event: FormEvent| {
        event.prevent_default();
        let text = draft();
        if text.is_empty() {
            return;
        }
        let chat = ChatMessage {
            author: "you".to_owned(),
            text,
        };
        match socket.send_json(&chat) {
            Ok(()) => draft.set(String::new()),
            // Past the queue's bound, or after the socket gave up: say so.
            Err(error) => status.set(format!("not sent: {error}")),
        }
    };

    rsx! {
        h1 { "Chat (Dioxus)" }
        p { "State: " output { id: "status", "{status}" } }
        ul { id: "messages",
            for (index, line) in lines.read().iter().enumerate() {
                li { key: "{index}", "{line}" }
            }
        }
        form { id: "chat", onsubmit: send,
            input {
                id: "message",
                autocomplete: "off",
                placeholder: "Say something",
                aria_label: "Message",
                value: "{draft}",
                oninput: move |event| draft.set(event.value()),
            }
            button { id: "send", "Send" }
        }
    }
}

/// Opens the socket (relative URLs are resolved against the page: this is
/// ws://<host>/echo; it starts connecting at once), starts the task that
/// reads it, and returns the handle the form sends with.
fn open(mut status: Signal<String>, mut lines: Signal<Vec<String>>) -> ReconnectingHandle {
    let mut socket = ReconnectingWebSocket::builder("/echo")
        .on_event(move |event| {
            if let Some(described) = describe(event) {
                status.set(described);
            }
        })
        .connect();
    let handle = socket.handle();
    // Received messages: a Stream, across reconnections.
    spawn(async move {
        while let Some(received) = socket.next().await {
            let line = match received.and_then(|message| message.parse_json::<ChatMessage>()) {
                Ok(chat) => format!("{}: {}", chat.author, chat.text),
                Err(error) => format!("error: {error}"),
            };
            lines.write().push(line);
        }
    });
    handle
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
