//! The link between the tabs of one origin: a `BroadcastChannel` to post
//! [`Envelope`]s on, and a Web Lock whose holder leads. Owns the two closures
//! the browser calls (a posted envelope, the lock granted), and the request
//! layer's topic locks: one Web Lock per topic, held in shared mode by every
//! tab that reads it, so the last tab to stop reading knows it is the last.
//!
//! Envelopes cross as arrays (`[kind, tab, a, b, data]`), with messages as a
//! string, a `Uint8Array` or a `Blob`: all three survive the browser's
//! structured clone intact, so binary messages and Blobs cross unchanged.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

use crate::js::socket::unshared;
use crate::js::Registration;
use crate::rules::close::{CloseCode, CloseEvent};
use crate::rules::message::{BinaryType, Message};
use crate::rules::tabs::Envelope;

#[wasm_bindgen(inline_js = r#"
export function openTabLink(name, onEnvelope, onElected) {
  const scope = globalThis;
  if (typeof scope.BroadcastChannel !== "function") return "BroadcastChannel";
  const locks = scope.navigator && scope.navigator.locks;
  if (!locks || typeof locks.request !== "function") return "Web Locks";
  let open = true;
  let release = () => {};
  const channel = new BroadcastChannel("browser-websocket:" + name);
  channel.onmessage = (event) => {
    const e = event.data;
    if (open && Array.isArray(e) && e.length === 5) onEnvelope(e[0], e[1], e[2], e[3], e[4]);
  };
  const abort = new AbortController();
  locks.request("browser-websocket:" + name, { signal: abort.signal }, () => {
    if (!open) return undefined;
    onElected();
    return new Promise((resolve) => { release = resolve; });
  }).catch(() => {});
  return {
    post(kind, tab, a, b, data) {
      try { channel.postMessage([kind, tab, a, b, data]); return true; } catch (_) { return false; }
    },
    close() {
      open = false;
      abort.abort();
      release();
      channel.onmessage = null;
      channel.close();
    },
  };
}

export function holdTopic(name) {
  const locks = globalThis.navigator && globalThis.navigator.locks;
  if (!locks || typeof locks.request !== "function") return null;
  let released = false;
  let release = () => {};
  // Settles once the lock is let go (or was never taken).
  const held = locks.request(name, { mode: "shared" }, () => {
    if (released) return undefined;
    return new Promise((resolve) => { release = resolve; });
  }).catch(() => {});
  return {
    // Lets go; then `onLast(true)` if no other tab holds the topic, called
    // while this tab holds it alone (a tab that starts reading it meanwhile
    // waits), else `onLast(false)`.
    releaseLast(onLast) {
      released = true;
      release();
      held
        .then(() => locks.request(name, { ifAvailable: true }, (lock) => { onLast(lock !== null); }))
        .catch(() => onLast(false));
    },
  };
}
"#)]
extern "C" {
    /// Joins the tabs of `name`; a string naming the missing API where the
    /// browser cannot share.
    #[wasm_bindgen(js_name = openTabLink)]
    fn open_tab_link(
        name: &str,
        on_envelope: &Closure<dyn FnMut(u8, String, f64, f64, JsValue)>,
        on_elected: &Closure<dyn FnMut()>,
    ) -> JsValue;

    type Link;

    #[wasm_bindgen(method)]
    fn post(this: &Link, kind: u8, tab: &str, a: f64, b: f64, data: &JsValue) -> bool;

    #[wasm_bindgen(method)]
    fn close(this: &Link);

    /// Holds the topic lock `name` in shared mode; null without Web Locks.
    #[wasm_bindgen(js_name = holdTopic)]
    fn hold_topic(name: &str) -> JsValue;

    type TopicLock;

    #[wasm_bindgen(method, js_name = releaseLast)]
    fn release_last(this: &TopicLock, on_last: JsValue);
}

/// This tab reads a topic of the request layer on a shared socket: a Web
/// Lock held in shared mode, released when it stops.
pub(crate) struct TopicHold {
    lock: TopicLock,
}

impl TopicHold {
    /// Holds the topic `topic` of the shared socket `name`; `None` where the
    /// browser lacks Web Locks (the shared socket is then per tab).
    pub(crate) fn take(name: &str, topic: &str) -> Option<Self> {
        if !cfg!(target_arch = "wasm32") {
            return None;
        }
        let lock = hold_topic(&format!("browser-websocket-topic:{name}:{topic}"));
        if lock.is_null() || lock.is_undefined() {
            return None;
        }
        Some(Self {
            lock: lock.unchecked_into(),
        })
    }

    /// Lets go; `on_last(true)` if no other tab reads the topic, called
    /// while the lock is this tab's alone (so the unsubscribe goes out before
    /// a tab that starts reading it subscribes). Called exactly once.
    pub(crate) fn release(self, on_last: impl FnOnce(bool) + 'static) {
        let on_last = Closure::once_into_js(on_last);
        self.lock.release_last(on_last);
    }
}

const SEND: u8 = 0;
const ACK: u8 = 1;
const INCOMING: u8 = 2;
const STATUS: u8 = 3;
const HELLO: u8 = 4;
const ENDED: u8 = 5;

/// This tab's membership of a name: posts envelopes, hears the others', and is
/// told once it leads. Dropping it leaves: the lock passes on.
#[must_use = "the tab leaves when this is dropped"]
pub(crate) struct TabLink {
    link: Link,
    _on_envelope: Closure<dyn FnMut(u8, String, f64, f64, JsValue)>,
    _on_elected: Closure<dyn FnMut()>,
    _registration: Registration,
}

impl TabLink {
    /// Joins; `Err(missing API)` where the browser cannot share (or off the web).
    pub(crate) fn open(
        name: &str,
        binary_type: BinaryType,
        mut on_envelope: impl FnMut(Envelope) + 'static,
        on_elected: impl FnMut() + 'static,
    ) -> Result<Self, &'static str> {
        if !cfg!(target_arch = "wasm32") {
            return Err("BroadcastChannel");
        }
        let on_envelope = Closure::<dyn FnMut(u8, String, f64, f64, JsValue)>::new(
            move |kind, tab, a, b, data| {
                if let Some(envelope) = decode(kind, tab, a, b, data, binary_type) {
                    on_envelope(envelope);
                }
            },
        );
        let on_elected = Closure::<dyn FnMut()>::new(on_elected);
        let link = open_tab_link(name, &on_envelope, &on_elected);
        if let Some(missing) = link.as_string() {
            return Err(if missing == "BroadcastChannel" {
                "BroadcastChannel"
            } else {
                "Web Locks"
            });
        }
        Ok(Self {
            link: link.unchecked_into(),
            _on_envelope: on_envelope,
            _on_elected: on_elected,
            _registration: Registration::new(2),
        })
    }

    /// Posts to every other tab of the name; false if the browser refused.
    pub(crate) fn post(&self, envelope: &Envelope) -> bool {
        let (kind, tab, a, b, data) = encode(envelope);
        self.link.post(kind, tab, a, b, &data)
    }
}

impl Drop for TabLink {
    fn drop(&mut self) {
        self.link.close();
    }
}

/// Sequence numbers cross as JS numbers: exact up to 2^53, far beyond any
/// tab's message count.
#[allow(clippy::cast_precision_loss)]
fn number(value: u64) -> f64 {
    value as f64
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn count(value: f64) -> u64 {
    if value.is_finite() && value >= 0.0 {
        value as u64
    } else {
        0
    }
}

fn encode(envelope: &Envelope) -> (u8, &str, f64, f64, JsValue) {
    match envelope {
        Envelope::Send {
            tab,
            seq,
            after,
            message,
        } => (SEND, tab, number(*seq), number(*after), to_js(message)),
        Envelope::Ack { tab, seq } => (ACK, tab, number(*seq), 0.0, JsValue::NULL),
        Envelope::Incoming { message } => (INCOMING, "", 0.0, 0.0, to_js(message)),
        Envelope::Status { leader, connected } => (
            STATUS,
            leader,
            f64::from(u8::from(*connected)),
            0.0,
            JsValue::NULL,
        ),
        Envelope::Hello { tab } => (HELLO, tab, 0.0, 0.0, JsValue::NULL),
        Envelope::Ended { close } => (
            ENDED,
            "",
            f64::from(u16::from(close.code)),
            f64::from(u8::from(close.was_clean)),
            JsValue::from_str(&close.reason),
        ),
    }
}

fn decode(
    kind: u8,
    tab: String,
    a: f64,
    b: f64,
    data: JsValue,
    binary_type: BinaryType,
) -> Option<Envelope> {
    Some(match kind {
        SEND => Envelope::Send {
            tab,
            seq: count(a),
            after: count(b),
            message: from_js(data, binary_type)?,
        },
        ACK => Envelope::Ack { tab, seq: count(a) },
        INCOMING => Envelope::Incoming {
            message: from_js(data, binary_type)?,
        },
        STATUS => Envelope::Status {
            leader: tab,
            connected: a == 1.0,
        },
        HELLO => Envelope::Hello { tab },
        ENDED => Envelope::Ended {
            close: CloseEvent {
                code: CloseCode::from(u16::try_from(count(a)).unwrap_or(1006)),
                reason: data.as_string().unwrap_or_default(),
                was_clean: b == 1.0,
            },
        },
        _ => return None,
    })
}

fn to_js(message: &Message) -> JsValue {
    match message {
        Message::Text(text) => JsValue::from_str(text),
        Message::Binary(bytes) => js_sys::Uint8Array::from(bytes.as_slice()).into(),
        Message::JsBinary(view) => unshared(view).into(),
        Message::Blob(blob) => blob.clone().into(),
    }
}

/// A message as this tab asked for it: text stays text, a `Blob` a `Blob`,
/// and bytes are copied into wasm unless it keeps binary data in JS.
fn from_js(data: JsValue, binary_type: BinaryType) -> Option<Message> {
    if let Some(text) = data.as_string() {
        return Some(Message::Text(text));
    }
    if let Some(view) = data.dyn_ref::<js_sys::Uint8Array>() {
        return Some(match binary_type {
            BinaryType::JsArrayBuffer => Message::JsBinary(view.clone()),
            _ => Message::Binary(view.to_vec()),
        });
    }
    data.dyn_into::<web_sys::Blob>().ok().map(Message::Blob)
}
