//! The in-page mock socket behind the `testing` feature's mock server: a JS object with the
//! browser `WebSocket`'s interface (an `EventTarget` with `send`, `close`,
//! `readyState`, `bufferedAmount`, `protocol`, `extensions`, `url` and
//! `binaryType`), which the crate's one socket type drives exactly as it drives
//! the browser's, listeners included.
//!
//! Every event it fires is a task of its own (`setTimeout`), never dispatched
//! inside a call from the app, and a socket's events keep the order they were
//! scripted in. The orders are the engines' (see the crate's table "What each
//! API reports"): a refused connection fires `error` then `close(1006, "",
//! false)`; a clean close `close(code, reason, true)`; an abrupt drop
//! `close(1006, "", false)` with no `error`. It registers no Rust closure, so
//! it adds nothing to [`crate::live_js_callbacks`].

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::rules::message::{Message, ReadyState};

#[wasm_bindgen(inline_js = r#"
const utf8Length = (text) => new TextEncoder().encode(text).length;

class MockWebSocket extends EventTarget {
  constructor(url, offered) {
    super();
    this._m = {
      url, offered, state: 0, protocol: "", buffered: 0, dropped: 0,
      tasks: [], busy: false, sent: [], waiters: [], ended: false, endWaiters: [],
      clientClose: null, stalled: false, answers: new Map(),
    };
    this.binaryType = "blob";
  }
  get url() { return this._m.url; }
  get readyState() { return this._m.state; }
  get protocol() { return this._m.protocol; }
  get extensions() { return ""; }
  get bufferedAmount() { return this._m.buffered + this._m.dropped; }

  send(data) {
    const m = this._m;
    if (m.state === 0) throw new DOMException("Still in CONNECTING state.", "InvalidStateError");
    let copy, size;
    if (typeof data === "string") { copy = data; size = utf8Length(data); }
    else if (data instanceof Blob) { copy = data; size = data.size; }
    else if (data instanceof ArrayBuffer) { copy = data.slice(0); size = copy.byteLength; }
    else if (ArrayBuffer.isView(data)) {
      copy = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer;
      size = copy.byteLength;
    } else { copy = String(data); size = utf8Length(copy); }
    // As browsers do: after close(), sent data is dropped and counted.
    if (m.state !== 1) { m.dropped += size; return; }
    const waiter = m.waiters.shift();
    if (waiter) waiter(copy); else m.sent.push(copy);
    if (!m.stalled && typeof copy === "string" && m.answers.has(copy)) {
      this.serverSend(m.answers.get(copy));
    }
  }

  close(code, reason) {
    const m = this._m;
    if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999)) {
      throw new DOMException("The close code must be 1000 or 3000-4999.", "InvalidAccessError");
    }
    if (reason !== undefined && utf8Length(reason) > 123) {
      throw new DOMException("The close reason must not be longer than 123 bytes.", "SyntaxError");
    }
    if (m.state >= 2) return;
    if (m.state === 0) {
      // Closing before open fails the connection.
      m.state = 2;
      this._task(() => this._end(1006, "", false, true));
      return;
    }
    m.state = 2;
    m.clientClose = [code === undefined ? 1005 : code, reason ?? ""];
    if (!m.stalled) {
      this._task(() => this._end(code === undefined ? 1005 : code, reason ?? "", true, false));
    }
  }

  _task(run, delay = 0) {
    this._m.tasks.push([run, delay]);
    if (!this._m.busy) this._pump();
  }
  _pump() {
    const m = this._m;
    const next = m.tasks.shift();
    if (!next) { m.busy = false; return; }
    m.busy = true;
    setTimeout(async () => {
      try { await next[0](); } finally { this._pump(); }
    }, next[1]);
  }
  _end(code, reason, wasClean, withError) {
    const m = this._m;
    if (m.state === 3) return;
    m.state = 3;
    m.ended = true;
    if (withError) this.dispatchEvent(new Event("error"));
    this.dispatchEvent(new CloseEvent("close", { code, reason, wasClean }));
    for (const waiter of m.waiters.splice(0)) waiter(null);
    for (const waiter of m.endWaiters.splice(0)) waiter(m.clientClose);
  }

  serverAccept(protocol, delay) {
    this._task(() => {
      const m = this._m;
      if (m.state !== 0) return;
      m.state = 1;
      m.protocol = protocol;
      this.dispatchEvent(new Event("open"));
    }, delay);
  }
  serverRefuse(delay) {
    this._task(() => this._end(1006, "", false, true), delay);
  }
  serverSend(data) {
    const copy = ArrayBuffer.isView(data) ? data.slice() : data;
    this._task(async () => {
      let payload = copy;
      if (copy instanceof Uint8Array) {
        payload = this.binaryType === "blob" ? new Blob([copy]) : copy.buffer;
      } else if (copy instanceof Blob && this.binaryType !== "blob") {
        payload = await copy.arrayBuffer();
      }
      if (this._m.state !== 1) return;
      this.dispatchEvent(new MessageEvent("message", { data: payload }));
    });
  }
  serverClose(code, reason) {
    this._task(() => {
      if (this._m.state === 0) this._end(1006, "", false, true);
      else this._end(code, reason, true, false);
    });
  }
  serverDrop(withError) {
    this._task(() => this._end(1006, "", false, withError || this._m.state === 0));
  }
  serverStall() { this._m.stalled = true; }
  serverAnswer(request, reply) { this._m.answers.set(request, reply); }
  serverSetBuffered(amount) { this._m.buffered = amount; }
  serverOffered() { return this._m.offered; }
  serverEnded() { return this._m.ended; }
  serverTakeSent() { return this._m.sent.splice(0); }
  serverNextSent() {
    const m = this._m;
    if (m.sent.length > 0) return Promise.resolve(m.sent.shift());
    if (m.ended) return Promise.resolve(null);
    return new Promise((resolve) => m.waiters.push(resolve));
  }
  serverWhenEnded() {
    const m = this._m;
    if (m.ended) return Promise.resolve(m.clientClose);
    return new Promise((resolve) => m.endWaiters.push(resolve));
  }
}

export function mockSocket(url, offered) {
  return new MockWebSocket(url, offered);
}
"#)]
extern "C" {
    /// The JS mock socket.
    #[derive(Clone, Debug)]
    pub(crate) type MockWebSocket;

    #[wasm_bindgen(js_name = mockSocket)]
    fn mock_socket(url: &str, offered: js_sys::Array) -> MockWebSocket;

    #[wasm_bindgen(method, getter, js_name = readyState)]
    fn ready_state(this: &MockWebSocket) -> u16;
    #[wasm_bindgen(method, getter)]
    fn url(this: &MockWebSocket) -> String;
    #[wasm_bindgen(method, js_name = serverAccept)]
    fn server_accept(this: &MockWebSocket, protocol: &str, delay: u32);
    #[wasm_bindgen(method, js_name = serverRefuse)]
    fn server_refuse(this: &MockWebSocket, delay: u32);
    #[wasm_bindgen(method, js_name = serverSend)]
    fn server_send_str(this: &MockWebSocket, data: &str);
    #[wasm_bindgen(method, js_name = serverSend)]
    fn server_send_bytes(this: &MockWebSocket, data: &[u8]);
    #[wasm_bindgen(method, js_name = serverSend)]
    fn server_send_blob(this: &MockWebSocket, data: &web_sys::Blob);
    #[wasm_bindgen(method, js_name = serverClose)]
    fn server_close(this: &MockWebSocket, code: u16, reason: &str);
    #[wasm_bindgen(method, js_name = serverDrop)]
    fn server_drop(this: &MockWebSocket, with_error: bool);
    #[wasm_bindgen(method, js_name = serverStall)]
    fn server_stall(this: &MockWebSocket);
    #[wasm_bindgen(method, js_name = serverAnswer)]
    fn server_answer(this: &MockWebSocket, request: &str, reply: &str);
    #[wasm_bindgen(method, js_name = serverSetBuffered)]
    fn server_set_buffered(this: &MockWebSocket, amount: u32);
    #[wasm_bindgen(method, js_name = serverOffered)]
    fn server_offered(this: &MockWebSocket) -> js_sys::Array;
    #[wasm_bindgen(method, js_name = serverEnded)]
    fn server_ended(this: &MockWebSocket) -> bool;
    #[wasm_bindgen(method, js_name = serverTakeSent)]
    fn server_take_sent(this: &MockWebSocket) -> js_sys::Array;
    #[wasm_bindgen(method, js_name = serverNextSent)]
    fn server_next_sent(this: &MockWebSocket) -> js_sys::Promise;
    #[wasm_bindgen(method, js_name = serverWhenEnded)]
    fn server_when_ended(this: &MockWebSocket) -> js_sys::Promise;
}

/// One mock connection, seen from the server's side.
#[derive(Clone, Debug)]
pub(crate) struct MockSocket(MockWebSocket);

impl MockSocket {
    /// A new mock socket in the `CONNECTING` state, for `url` with the
    /// subprotocols the client offered.
    pub(crate) fn new(url: &str, offered: &[String]) -> Self {
        let offered: js_sys::Array = offered
            .iter()
            .map(|p| js_sys::JsString::from(p.as_str()))
            .collect();
        Self(mock_socket(url, offered))
    }

    /// The object the crate's socket type drives in place of the browser's.
    pub(crate) fn as_browser_socket(&self) -> web_sys::WebSocket {
        self.0.clone().unchecked_into()
    }

    pub(crate) fn accept(&self, protocol: &str, delay_ms: u32) {
        self.0.server_accept(protocol, delay_ms);
    }

    pub(crate) fn refuse(&self, delay_ms: u32) {
        self.0.server_refuse(delay_ms);
    }

    pub(crate) fn send_text(&self, text: &str) {
        self.0.server_send_str(text);
    }

    pub(crate) fn send_bytes(&self, bytes: &[u8]) {
        self.0.server_send_bytes(bytes);
    }

    pub(crate) fn send_blob(&self, blob: &web_sys::Blob) {
        self.0.server_send_blob(blob);
    }

    pub(crate) fn close(&self, code: u16, reason: &str) {
        self.0.server_close(code, reason);
    }

    pub(crate) fn drop_connection(&self, with_error: bool) {
        self.0.server_drop(with_error);
    }

    pub(crate) fn stall(&self) {
        self.0.server_stall();
    }

    pub(crate) fn answer(&self, request: &str, reply: &str) {
        self.0.server_answer(request, reply);
    }

    pub(crate) fn set_buffered_amount(&self, amount: u32) {
        self.0.server_set_buffered(amount);
    }

    pub(crate) fn url(&self) -> String {
        self.0.url()
    }

    pub(crate) fn ready_state(&self) -> ReadyState {
        ReadyState::from(self.0.ready_state())
    }

    pub(crate) fn offered(&self) -> Vec<String> {
        self.0
            .server_offered()
            .iter()
            .filter_map(|p| p.as_string())
            .collect()
    }

    pub(crate) fn ended(&self) -> bool {
        self.0.server_ended()
    }

    /// What the client has sent and was not yet taken, oldest first.
    pub(crate) fn take_sent(&self) -> Vec<Message> {
        self.0.server_take_sent().iter().map(sent_message).collect()
    }

    /// The next message the client sends; `None` once the connection has
    /// ended with nothing left to take.
    pub(crate) async fn next_sent(&self) -> Option<Message> {
        let sent = wasm_bindgen_futures::JsFuture::from(self.0.server_next_sent())
            .await
            .ok()?;
        (!sent.is_null()).then(|| sent_message(sent))
    }

    /// Waits until the connection has ended; the code and reason of the
    /// client's `close()`, if it called it.
    pub(crate) async fn ended_with(&self) -> Option<(u16, String)> {
        let close = wasm_bindgen_futures::JsFuture::from(self.0.server_when_ended())
            .await
            .ok()?;
        let close: js_sys::Array = close.dyn_into().ok()?;
        let code = close.get(0).as_f64()?;
        // A close code is a u16: `close()` refused anything else.
        Some((code as u16, close.get(1).as_string().unwrap_or_default()))
    }
}

/// A value the client sent, copied by the mock: a string, an `ArrayBuffer`
/// or a `Blob`.
fn sent_message(value: JsValue) -> Message {
    if let Some(text) = value.as_string() {
        Message::Text(text)
    } else if value.is_instance_of::<web_sys::Blob>() {
        Message::Blob(value.unchecked_into())
    } else {
        Message::Binary(js_sys::Uint8Array::new(&value).to_vec())
    }
}
