//! A tiny chat in Yew (client-side rendering): messages go out as JSON to the
//! test server's `/echo` and come back into the list.
//!
//! - the socket is opened in an effect that runs once, on mount, and is closed
//!   by the effect's clean-up, on unmount;
//! - `on_event` and a task that owns the receiving half (a `Stream`) dispatch
//!   to a reducer: a dispatcher is `'static` and never sees stale state;
//! - another task owns the sending half (a `Sink`), fed from a channel whose
//!   sender the component keeps in a `use_mut_ref` (an `Rc<RefCell<..>>`), where
//!   the form's callback finds it.

use std::rc::Rc;

use browser_websocket::{Message, ReconnectEvent, ReconnectingWebSocket};
use futures_channel::mpsc;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use web_sys::HtmlInputElement;
use yew::platform::spawn_local;
use yew::prelude::*;

/// What goes over the socket, as JSON.
#[derive(Serialize, Deserialize)]
struct ChatMessage {
    author: String,
    text: String,
}

fn main() {
    yew::Renderer::<Chat>::new().render();
}

/// What the page shows.
#[derive(Clone, Default)]
struct ChatState {
    status: String,
    lines: Vec<String>,
}

enum Update {
    Status(String),
    Line(String),
}

impl Reducible for ChatState {
    type Action = Update;

    fn reduce(self: Rc<Self>, update: Update) -> Rc<Self> {
        let mut state = Rc::unwrap_or_clone(self);
        match update {
            Update::Status(status) => state.status = status,
            Update::Line(line) => state.lines.push(line),
        }
        Rc::new(state)
    }
}

#[function_component]
fn Chat() -> Html {
    let state = use_reducer(|| ChatState {
        status: "loading…".to_owned(),
        lines: Vec::new(),
    });
    // The way to the task that owns the Sink; set once the effect has run.
    let outgoing = use_mut_ref(|| None::<mpsc::UnboundedSender<ChatMessage>>);
    let input = use_node_ref();

    {
        let update = state.dispatcher();
        let outgoing = outgoing.clone();
        use_effect_with((), move |()| {
            let on_event = update.clone();
            // Relative URLs are resolved against the page: this is
            // ws://<host>/echo. It starts connecting at once; sends are queued
            // until it is open.
            let socket = ReconnectingWebSocket::builder("/echo")
                .on_event(move |event| {
                    if let Some(status) = describe(event) {
                        on_event.dispatch(Update::Status(status));
                    }
                })
                .connect();
            let (sender, mut receiver) = socket.into_split();
            let handle = receiver.handle();

            // Received messages: a Stream, across reconnections.
            spawn_local(async move {
                while let Some(received) = receiver.next().await {
                    let line =
                        match received.and_then(|message| message.parse_json::<ChatMessage>()) {
                            Ok(chat) => format!("{}: {}", chat.author, chat.text),
                            Err(error) => format!("error: {error}"),
                        };
                    update.dispatch(Update::Line(line));
                }
            });

            // Messages to send: the Sink, fed from a channel. `forward` waits
            // while the browser's buffer is full (or, while disconnected, the
            // queue).
            let (sender_in, to_send) = mpsc::unbounded::<ChatMessage>();
            *outgoing.borrow_mut() = Some(sender_in);
            spawn_local(async move {
                let sent = to_send
                    .map(|chat| Message::json(&chat))
                    .forward(sender)
                    .await;
                if let Err(error) = sent {
                    web_sys::console::error_1(&error.into());
                }
            });

            // On unmount: close for good, which ends both tasks.
            move || {
                outgoing.borrow_mut().take();
                let _ = handle.close_normal();
            }
        });
    }

    let onsubmit = {
        let input = input.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(input) = input.cast::<HtmlInputElement>() else {
                return;
            };
            let text = input.value();
            if text.is_empty() {
                return;
            }
            let chat = ChatMessage {
                author: "you".to_owned(),
                text,
            };
            let sent = outgoing
                .borrow()
                .as_ref()
                .is_some_and(|outgoing| outgoing.unbounded_send(chat).is_ok());
            if sent {
                input.set_value("");
            }
        })
    };

    html! {
        <>
            <h1>{ "Chat (Yew)" }</h1>
            <p>{ "State: " }<output id="status">{ &state.status }</output></p>
            <ul id="messages">
                { for state.lines.iter().map(|line| html! { <li>{ line }</li> }) }
            </ul>
            <form id="chat" {onsubmit}>
                <input id="message" ref={input} autocomplete="off"
                    placeholder="Say something" aria-label="Message" />
                <button id="send">{ "Send" }</button>
            </form>
        </>
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
