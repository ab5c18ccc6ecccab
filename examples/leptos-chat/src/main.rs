//! A tiny chat in Leptos (client-side rendering): messages go out as JSON to the
//! test server's `/echo` and come back into the list.
//!
//! - `on_event` writes the connection state into a signal;
//! - a task owns the receiving half (a `Stream`) and pushes each message into a
//!   signal the view reads (the halves are `!Send`, and it awaits across
//!   messages, so a task owns it);
//! - the form's handler sends through a `SendHandle`, which is `Send + Sync`
//!   and so lives in a `StoredValue` (Leptos's reactive storage takes only
//!   `Send + Sync` values); the socket's thread carries its sends out, in
//!   order, queued while disconnected.
//!
//! When the component is unmounted the task is cancelled and the stored
//! handle disposed of, which drops the last of the socket and closes it.

use browser_websocket::{ReconnectEvent, ReconnectingWebSocket};
use futures_util::StreamExt;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local_scoped_with_cancellation;
use serde::{Deserialize, Serialize};

/// What goes over the socket, as JSON.
#[derive(Serialize, Deserialize)]
struct ChatMessage {
    author: String,
    text: String,
}

fn main() {
    leptos::mount::mount_to_body(Chat);
}

#[component]
fn Chat() -> impl IntoView {
    let (status, set_status) = signal("loading…".to_owned());
    let (lines, set_lines) = signal(Vec::<String>::new());
    let (draft, set_draft) = signal(String::new());

    // Relative URLs are resolved against the page: this is ws://<host>/echo.
    // It starts connecting at once; sends are queued until it is open.
    let socket = ReconnectingWebSocket::builder("/echo")
        .on_event(move |event| {
            if let Some(status) = describe(event) {
                set_status.set(status);
            }
        })
        .connect();
    // Sends, from the form's handler: a handle that Leptos can store.
    let sending = StoredValue::new(socket.send_handle());
    let (_, mut receiver) = socket.into_split();

    // Received messages: a Stream, across reconnections.
    spawn_local_scoped_with_cancellation(async move {
        while let Some(received) = receiver.next().await {
            let line = match received.and_then(|message| message.parse_json::<ChatMessage>()) {
                Ok(chat) => format!("{}: {}", chat.author, chat.text),
                Err(error) => format!("error: {error}"),
            };
            set_lines.update(|lines| lines.push(line));
        }
    });

    let send = move |event: SubmitEvent| {
        event.prevent_default();
        let text = draft.get_untracked();
        if text.is_empty() {
            return;
        }
        let chat = ChatMessage {
            author: "you".to_owned(),
            text,
        };
        match sending.with_value(|handle| handle.send_json(&chat)) {
            Ok(()) => set_draft.set(String::new()),
            Err(error) => leptos::logging::error!("{error}"),
        }
    };

    view! {
        <h1>"Chat (Leptos)"</h1>
        <p>"State: " <output id="status">{status}</output></p>
        <ul id="messages">
            <For each=move || lines.get().into_iter().enumerate() key=|(index, _)| *index let((_, line))>
                <li>{line}</li>
            </For>
        </ul>
        <form id="chat" on:submit=send>
            <input id="message" autocomplete="off" placeholder="Say something" aria-label="Message"
                bind:value=(draft, set_draft) />
            <button id="send">"Send"</button>
        </form>
    }
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
