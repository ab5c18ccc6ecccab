//! The outbox page (`outbox.html`): acknowledged messages kept in IndexedDB
//! across reloads. Each message is sent as `ack-me <id> <text>` and the
//! server's echo of it is its acknowledgement; `?mute=1` first tells the
//! test server's `/record` route to stop answering, so what is sent stays
//! unacknowledged, and the next load of the page (with the same `?name=`)
//! sends it again.

use std::cell::RefCell;
use std::rc::Rc;

use browser_websocket::{
    Delivery, Incoming, Message, Messages, Protocol, ReconnectingWebSocket, RequestClient,
};
use gloo_events::{EventListener, EventListenerOptions};

use crate::dom;

/// Messages `ack-me <id> <text>`; the same text coming back acknowledges them.
struct EchoAck;

impl Protocol for EchoAck {
    type Request = String;
    type Reply = String;
    type Rejection = String;

    fn request_message(&self, id: u64, text: &String) -> browser_websocket::Result<Message> {
        Ok(Message::Text(format!("ack-me {id} {text}")))
    }

    fn classify(&self, message: &Message) -> Incoming<String, String> {
        let acked = message
            .as_text()
            .and_then(|text| text.strip_prefix("ack-me "))
            .and_then(|rest| rest.split_once(' '))
            .and_then(|(id, text)| Some((id.parse().ok()?, text)));
        match acked {
            Some((id, text)) => Incoming::Reply {
                id,
                reply: Ok(text.to_owned()),
            },
            None => Incoming::Other,
        }
    }
}

/// The page's client and its form's listener, kept for the page's life.
struct OutboxPage {
    client: RequestClient<EchoAck>,
    _messages: Messages<EchoAck>,
    _submit: EventListener,
}

thread_local! {
    static PAGE: RefCell<Option<Rc<OutboxPage>>> = const { RefCell::new(None) };
}

/// Whether this is the outbox page.
pub fn is_this_page() -> bool {
    dom::by_id::<web_sys::HtmlElement>("outbox").is_some()
}

/// Connects to `?path=` (default `/echo`) with the outbox `?name=` (default
/// `demo`), shows what the outbox gave back, and wires the form.
pub fn install() {
    let query = Query::read();
    let socket = ReconnectingWebSocket::builder(query.path.clone());
    let (client, messages) = RequestClient::builder(EchoAck)
        .outbox(&query.name)
        .build_reconnecting(socket);
    if query.mute {
        // Queued until connected, and sent before anything after it.
        let _ = client.send_message(&Message::from("mute"));
    }
    let Some(form) = dom::by_id::<web_sys::HtmlFormElement>("outbox-form") else {
        return;
    };
    let options = EventListenerOptions::enable_prevent_default();
    let submit = EventListener::new_with_options(&form, "submit", options, |event| {
        event.prevent_default();
        PAGE.with(|page| {
            if let Some(page) = page.borrow().as_ref() {
                let delivery = page.client.send_acked(dom::value_of("outbox-text"));
                show("outbox-sent", delivery);
            }
        });
    });
    wasm_bindgen_futures::spawn_local(show_restored(client.clone()));
    let page = Rc::new(OutboxPage {
        client,
        _messages: messages,
        _submit: submit,
    });
    PAGE.with(|slot| *slot.borrow_mut() = Some(page));
}

async fn show_restored(client: RequestClient<EchoAck>) {
    match client.restored().await {
        Ok(restored) => {
            dom::set_text("outbox-state", &format!("restored {}", restored.len()));
            for delivery in restored {
                show("outbox-restored", delivery);
            }
        }
        Err(error) => dom::set_text("outbox-state", &format!("error: {error}")),
    }
}

/// A line `<id> <status>` in the list `list_id`, kept up to date.
fn show(list_id: &str, delivery: Delivery<EchoAck>) {
    let line = |delivery: &Delivery<EchoAck>| {
        let id = delivery.id().map_or("-".to_owned(), |id| id.to_string());
        format!("{id} {:?}", delivery.status())
    };
    let Some(item) = dom::append(list_id, "li", "delivery", &line(&delivery)) else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        let _ = delivery.acked().await;
        item.set_text_content(Some(&line(&delivery)));
    });
}

struct Query {
    path: String,
    name: String,
    mute: bool,
}

impl Query {
    fn read() -> Self {
        let given = |key: &str| dom::query_param(key).filter(|value| !value.is_empty());
        Self {
            path: given("path").unwrap_or_else(|| "/echo".to_owned()),
            name: given("name").unwrap_or_else(|| "demo".to_owned()),
            mute: given("mute").is_some_and(|mute| mute == "1"),
        }
    }
}
