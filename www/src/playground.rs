//! The playground: connect anywhere, send text or hex bytes, close with a code
//! and reason, and watch every message and event. It uses the library's callback
//! API (`onopen`/`onmessage`/`onerror`/`onclose`), the examples use async.

use std::cell::RefCell;
use std::rc::Rc;

use browser_websocket::{BinaryType, Callbacks, CloseEvent, Error, Handle, Message, ReadyState};
use gloo_events::{EventListener, EventListenerOptions};
use gloo_timers::callback::Interval;

use crate::dom;

/// The page's playground: its socket, and the listeners and timer that live as
/// long as the page.
pub struct Playground {
    socket: RefCell<Option<Handle>>,
    listeners: RefCell<Vec<EventListener>>,
    _status_timer: RefCell<Option<Interval>>,
}

thread_local! {
    static PLAYGROUND: RefCell<Option<Rc<Playground>>> = const { RefCell::new(None) };
}

/// Wires the playground's forms and starts the status display.
pub fn install() {
    let playground = Rc::new(Playground {
        socket: RefCell::new(None),
        listeners: RefCell::new(Vec::new()),
        _status_timer: RefCell::new(None),
    });
    on_submit(&playground, "connect-form", Playground::connect);
    on_submit(&playground, "close-form", Playground::close);
    on_submit(&playground, "text-form", Playground::send_text);
    on_submit(&playground, "binary-form", Playground::send_binary);
    let weak = Rc::downgrade(&playground);
    let timer = Interval::new(100, move || {
        if let Some(playground) = weak.upgrade() {
            playground.show_status();
        }
    });
    *playground._status_timer.borrow_mut() = Some(timer);
    playground.show_status();
    PLAYGROUND.with(|slot| *slot.borrow_mut() = Some(playground));
}

/// Runs `action` when the form is submitted (button or Enter), without reloading.
fn on_submit(playground: &Rc<Playground>, form_id: &str, action: fn(&Playground)) {
    let Some(form) = dom::by_id::<web_sys::HtmlFormElement>(form_id) else {
        return;
    };
    let weak = Rc::downgrade(playground);
    let options = EventListenerOptions::enable_prevent_default();
    let listener = EventListener::new_with_options(&form, "submit", options, move |event| {
        event.prevent_default();
        if let Some(playground) = weak.upgrade() {
            action(&playground);
        }
    });
    playground.listeners.borrow_mut().push(listener);
}

impl Playground {
    fn connect(&self) {
        let url = dom::value_of("url");
        let protocols: Vec<String> = dom::value_of("protocols")
            .split([',', ' '])
            .filter(|protocol| !protocol.is_empty())
            .map(str::to_owned)
            .collect();
        let binary_type = match dom::value_of("binary-type").as_str() {
            "blob" => BinaryType::Blob,
            _ => BinaryType::ArrayBuffer,
        };
        // Replacing the socket drops the old one, which closes it with 1000.
        self.socket.borrow_mut().take();
        let opened = browser_websocket::WebSocket::builder(&url)
            .protocols(protocols)
            .binary_type(binary_type)
            .open_with_callbacks(callbacks());
        match opened {
            Ok(socket) => {
                log_event("connecting", &socket.url());
                *self.socket.borrow_mut() = Some(socket);
            }
            Err(error) => log_error(&error),
        }
        self.show_status();
    }

    fn close(&self) {
        let Some(socket) = self.open_socket() else {
            return;
        };
        let code_text = dom::value_of("close-code");
        let Ok(code) = code_text.trim().parse::<u16>() else {
            log_row(
                "error",
                "•",
                "error",
                "",
                &format!("close code {code_text:?} is not a number from 0 to 65535"),
            );
            return;
        };
        match socket.close_with(code, &dom::value_of("close-reason")) {
            Ok(()) => log_event("closing", &format!("code {code}")),
            Err(error) => log_error(&error),
        }
        self.show_status();
    }

    fn send_text(&self) {
        let Some(socket) = self.open_socket() else {
            return;
        };
        let text = dom::value_of("text-message");
        match socket.send_text(&text) {
            Ok(()) => log_message("→", &Message::Text(text)),
            Err(error) => log_error(&error),
        }
    }

    fn send_binary(&self) {
        let Some(socket) = self.open_socket() else {
            return;
        };
        let bytes = match parse_hex(&dom::value_of("binary-message")) {
            Ok(bytes) => bytes,
            Err(problem) => return log_row("error", "•", "error", "", &problem),
        };
        match socket.send_bytes(&bytes) {
            Ok(()) => log_message("→", &Message::Binary(bytes)),
            Err(error) => log_error(&error),
        }
    }

    fn open_socket(&self) -> Option<Handle> {
        let socket = self.socket.borrow().clone();
        if socket.is_none() {
            log_row(
                "error",
                "•",
                "error",
                "",
                "not connected: press Connect first",
            );
        }
        socket
    }

    fn show_status(&self) {
        show_status_of(self.socket.borrow().as_ref());
    }
}

/// Shows `readyState` and `bufferedAmount`; called by the timer and, so that no
/// change waits for it, on every event.
fn show_status_of(socket: Option<&Handle>) {
    let (state, buffered) = match socket {
        Some(socket) => (
            describe_state(socket.ready_state()),
            socket.buffered_amount().to_string(),
        ),
        None => ("not connected".to_owned(), "0".to_owned()),
    };
    dom::set_text("ready-state", &state);
    dom::set_text("buffered-amount", &buffered);
}

fn describe_state(state: ReadyState) -> String {
    let number = match state {
        ReadyState::Connecting => 0,
        ReadyState::Open => 1,
        ReadyState::Closing => 2,
        ReadyState::Closed => 3,
    };
    format!("{} ({number})", state.to_string().to_uppercase())
}

fn callbacks() -> Callbacks {
    Callbacks::new()
        .on_open(|socket| {
            let detail = format!(
                "protocol {:?}, extensions {:?}",
                socket.protocol(),
                socket.extensions()
            );
            log_event("open", &detail);
            show_status_of(Some(socket));
        })
        .on_message(|_, message| log_message("←", &message))
        .on_error(|_, error| log_error(error))
        .on_close(|socket, event| {
            log_close(&event);
            show_status_of(Some(socket));
        })
}

fn log_message(direction: &str, message: &Message) {
    let (kind, size, data) = match message {
        Message::Text(text) => ("text", text.len().to_string(), preview_text(text)),
        Message::Binary(bytes) => ("binary", bytes.len().to_string(), preview_hex(bytes)),
        Message::Blob(blob) => ("blob", blob.size().to_string(), "(Blob)".to_owned()),
        Message::JsBinary(view) => (
            "binary",
            view.length().to_string(),
            preview_hex(&view.to_vec()),
        ),
        other => ("other", String::new(), format!("{other:?}")),
    };
    log_row("message", direction, kind, &size, &data);
}

fn log_event(what: &str, detail: &str) {
    log_row("event", "•", what, "", detail);
}

fn log_error(error: &Error) {
    log_row("error", "•", "error", "", &error.to_string());
}

fn log_close(event: &CloseEvent) {
    let text = format!(
        "CloseEvent code {} reason {:?} wasClean {}",
        event.code, event.reason, event.was_clean
    );
    log_row("event", "•", "close", "", &text);
}

fn log_row(class: &str, direction: &str, kind: &str, size: &str, data: &str) {
    let time = js_sys::Date::new_0()
        .to_iso_string()
        .as_string()
        .unwrap_or_default();
    let time = time.get(11..23).unwrap_or(&time).to_owned();
    dom::append_row("log-body", class, &[&time, direction, kind, size, data]);
    dom::console_log(&format!(
        "[playground] {time} {direction} {kind} {size} {data}"
    ));
}

fn preview_text(text: &str) -> String {
    const LIMIT: usize = 120;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn preview_hex(bytes: &[u8]) -> String {
    const LIMIT: usize = 32;
    let shown: Vec<String> = bytes
        .iter()
        .take(LIMIT)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let more = if bytes.len() > LIMIT { " …" } else { "" };
    format!("{}{more}", shown.join(" "))
}

/// `"de ad be ef"`, `"deadbeef"` or `"0xde,0xad"` → bytes.
pub fn parse_hex(input: &str) -> Result<Vec<u8>, String> {
    let digits: String = input
        .split([' ', ',', '\n', '\t'])
        .map(|part| part.trim_start_matches("0x").trim_start_matches("0X"))
        .collect();
    if digits.len() % 2 != 0 {
        return Err(format!("hex {input:?} has an odd number of digits"));
    }
    (0..digits.len())
        .step_by(2)
        .map(|at| {
            digits
                .get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("{input:?} is not hex bytes (e.g. \"de ad be ef\")"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_hex;

    #[test]
    fn hex_in_the_usual_spellings() {
        assert_eq!(parse_hex("de ad be ef"), Ok(vec![0xde, 0xad, 0xbe, 0xef]));
        assert_eq!(parse_hex("DEADbeef"), Ok(vec![0xde, 0xad, 0xbe, 0xef]));
        assert_eq!(parse_hex("0x01,0x7f"), Ok(vec![1, 127]));
        assert_eq!(parse_hex(""), Ok(vec![]));
        assert!(parse_hex("abc").is_err());
        assert!(parse_hex("zz").is_err());
        assert!(parse_hex("é1").is_err());
    }
}
