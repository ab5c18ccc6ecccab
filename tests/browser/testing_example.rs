//! Testing an app's reconnect handling with `browser_websocket::testing`: the
//! guide's chapter "Testing your app" shows this file whole.
//!
//! In an app this is a test file of its own (`tests/chat.rs`, with the
//! `testing` feature in its dev-dependencies), run with `wasm-pack test
//! --headless --chrome`; here it is a module of the browser suite.
#![cfg(feature = "testing")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use browser_websocket::{ReconnectEvent, ReconnectPolicy, ReconnectingWebSocket};

/// The app under test: a chat client that shows a status line and joins its
/// room again after every reconnection. Its code is production code: only the
/// URL it is given points at the mock.
pub struct ChatClient {
    socket: ReconnectingWebSocket,
    status: Rc<RefCell<String>>,
}

/// What the app shows for a connection event; `None` keeps the line as it is.
pub fn status_line(event: &ReconnectEvent) -> Option<String> {
    Some(match event {
        ReconnectEvent::Open { .. } => "online".to_owned(),
        ReconnectEvent::Connecting { attempt, .. } => format!("connecting (attempt {attempt})"),
        ReconnectEvent::Closed { .. } => "offline".to_owned(),
        ReconnectEvent::GaveUp { .. } => "offline: reload the page".to_owned(),
        _ => return None,
    })
}

impl ChatClient {
    /// Connects to `url` and joins `room`, again after each reconnection.
    pub fn start(url: &str, room: &str) -> Self {
        let status = Rc::new(RefCell::new(String::new()));
        let shown = Rc::clone(&status);
        let join = format!("join {room}");
        let socket = ReconnectingWebSocket::builder(url)
            .policy(
                ReconnectPolicy::default()
                    .delays(Duration::from_millis(10), Duration::from_millis(100)),
            )
            .on_event(move |event| {
                if let Some(line) = status_line(event) {
                    *shown.borrow_mut() = line;
                }
            })
            // Every connection joins the room first, before queued lines.
            .on_open(move |socket, _session| {
                let _ = socket.send_text(&join);
            })
            .connect();
        Self { socket, status }
    }

    /// The status line to show.
    pub fn status(&self) -> String {
        self.status.borrow().clone()
    }

    /// Sends a chat line (queued while reconnecting).
    pub fn say(&self, text: &str) -> browser_websocket::Result<()> {
        self.socket.send_text(&format!("say {text}"))
    }
}

#[cfg(target_arch = "wasm32")]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::ChatClient;
    use browser_websocket::testing::MockServer;
    use browser_websocket::Message;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    async fn rejoins_the_room_and_shows_the_status_across_a_network_drop() {
        let server = MockServer::listen("ws://chat.example/live");
        server.refuse_next(1); // the first attempt fails, as on a flaky network

        let app = ChatClient::start("ws://chat.example/live", "rust");
        let first = server.next_connection().await;
        assert_eq!(app.status(), "connecting (attempt 2)");
        assert_eq!(
            first.next_received().await,
            Some(Message::from("join rust"))
        );
        assert_eq!(app.status(), "online");
        app.say("hello").unwrap();
        assert_eq!(
            first.next_received().await,
            Some(Message::from("say hello"))
        );

        first.drop_abruptly(); // the network goes away: close 1006, no close frame
        let second = server.next_connection().await;
        // The count goes on: it resets once a connection has stayed up 5 s.
        assert_eq!(app.status(), "connecting (attempt 3)");
        assert_eq!(
            second.next_received().await,
            Some(Message::from("join rust"))
        );
        assert_eq!(app.status(), "online");
        assert_eq!(server.attempts(), 3);
    }
}
