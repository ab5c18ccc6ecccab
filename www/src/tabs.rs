//! The shared-socket page (`tabs.html`): every tab of it that is open shares
//! one connection. It shows this tab's role, the connection, what waits to be
//! sent, every message received and every event.

use std::cell::RefCell;
use std::rc::Rc;

use browser_websocket::tabs::{Role, SharedEvent, SharedWebSocket};
use browser_websocket::Message;
use gloo_events::{EventListener, EventListenerOptions};

use crate::dom;

/// The page's shared socket and its form's listener, kept for the page's life.
struct TabPage {
    socket: SharedWebSocket,
    _submit: EventListener,
}

thread_local! {
    static PAGE: RefCell<Option<Rc<TabPage>>> = const { RefCell::new(None) };
}

/// Whether this is the shared-socket page.
pub fn is_this_page() -> bool {
    dom::by_id::<web_sys::HtmlElement>("tabs").is_some()
}

/// Joins the connection named by `?name=` (default `demo`) to `?path=`
/// (default `/echo`), and wires the form.
pub fn install() {
    let (path, name) = query();
    let socket = SharedWebSocket::builder(path)
        .name(name)
        .on_message(|message| {
            let text = match &message {
                Message::Text(text) => text.clone(),
                other => format!("{other:?}"),
            };
            dom::append("tab-received", "li", "received", &text);
        })
        .on_event(show_event)
        .connect();
    let Some(form) = dom::by_id::<web_sys::HtmlFormElement>("tab-form") else {
        return;
    };
    let options = EventListenerOptions::enable_prevent_default();
    let submit = EventListener::new_with_options(&form, "submit", options, |event| {
        event.prevent_default();
        PAGE.with(|page| {
            if let Some(page) = page.borrow().as_ref() {
                if let Err(error) = page.socket.send_text(&dom::value_of("tab-text")) {
                    dom::append("tab-events", "li", "error", &error.to_string());
                }
                dom::set_text("tab-pending", &page.socket.pending().to_string());
            }
        });
    });
    let page = Rc::new(TabPage {
        socket,
        _submit: submit,
    });
    PAGE.with(|slot| *slot.borrow_mut() = Some(page));
}

fn show_event(event: &SharedEvent) {
    // The time lets a test measure a failover across windows.
    if let Some(item) = dom::append("tab-events", "li", "event", &format!("{event:?}")) {
        let _ = item.set_attribute("data-time", &js_sys::Date::now().to_string());
    }
    match event {
        SharedEvent::Leading => dom::set_text("tab-role", "leader"),
        SharedEvent::Following => dom::set_text("tab-role", "follower"),
        SharedEvent::PerTab { missing } => {
            dom::set_text("tab-role", &format!("own connection ({missing} missing)"));
        }
        SharedEvent::Connected => dom::set_text("tab-connected", "open"),
        SharedEvent::Disconnected => dom::set_text("tab-connected", "down"),
        SharedEvent::Ended { close } => {
            dom::set_text(
                "tab-connected",
                &format!("ended ({})", u16::from(close.code)),
            );
        }
        _ => {}
    }
    PAGE.with(|page| {
        if let Some(page) = page.borrow().as_ref() {
            dom::set_text("tab-pending", &page.socket.pending().to_string());
            if page.socket.role() == Role::Leader {
                dom::set_text("tab-role", "leader");
            }
        }
    });
}

/// `?path=` and `?name=`, with their defaults.
fn query() -> (String, String) {
    let get = |key: &str, default: &str| {
        dom::query_param(key)
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    (get("path", "/echo"), get("name", "demo"))
}
