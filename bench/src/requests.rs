//! The requests scenario: `REQUESTS_COUNT` requests sent back to back to the
//! echo server, each answered by its own echo (the reply carries the id), in
//! raw JavaScript (a Map of promises by id), with this crate's request layer
//! (`RequestClient`, a future per request), and by hand over this crate's
//! `WebSocket` (send all, then match each reply to its id in a map): what the
//! request layer costs per request over the least an app writes by hand.

use std::collections::HashMap;
use std::hint::black_box;

use browser_websocket::{Incoming, Message, Protocol, RequestClient, WebSocket};
use futures_util::StreamExt;

use crate::sizes::{REQUESTS_COUNT, REQUESTS_PAYLOAD};

/// Requests `"<id>:<payload>"`; a message is the reply to the id before its
/// colon.
struct Echoed;

impl Protocol for Echoed {
    type Request = String;
    type Reply = String;
    type Rejection = ();

    fn request_message(&self, id: u64, payload: &String) -> browser_websocket::Result<Message> {
        Ok(Message::Text(format!("{id}:{payload}")))
    }

    fn classify(&self, message: &Message) -> Incoming<String, ()> {
        match message.as_text().and_then(reply_id) {
            Some((id, text)) => Incoming::Reply {
                id,
                reply: Ok(text.to_owned()),
            },
            None => Incoming::Other,
        }
    }
}

/// The id and the text of a reply.
fn reply_id(text: &str) -> Option<(u64, &str)> {
    let (id, _) = text.split_once(':')?;
    Some((id.parse().ok()?, text))
}

fn payload() -> String {
    "x".repeat(REQUESTS_PAYLOAD)
}

/// Runs the scenario once with `implementation`; checks that every request
/// got its reply.
pub async fn once(url: &str, implementation: &str) -> Result<f64, String> {
    let payload = payload();
    match implementation {
        "raw_js" => crate::raw_ms(crate::raw_requests(url, REQUESTS_COUNT, &payload).await),
        "this_crate" => with_request_layer(url, &payload).await,
        "this_crate_id_map" => by_hand(url, &payload).await,
        _ => Err(format!("unknown implementation {implementation:?}")),
    }
}

async fn with_request_layer(url: &str, payload: &str) -> Result<f64, String> {
    let socket = WebSocket::connect(url).await.map_err(|e| e.to_string())?;
    let (client, _messages) = RequestClient::new(socket, Echoed);
    let start = crate::now();
    let pending: Vec<_> = (0..REQUESTS_COUNT)
        .map(|_| client.request(payload.to_owned()))
        .collect();
    let replies = futures_util::future::join_all(pending).await;
    let elapsed = crate::now() - start;
    let answered = replies
        .iter()
        .filter(|reply| reply.as_ref().is_ok_and(|text| text.len() > payload.len()))
        .count();
    check(answered, elapsed)
}

async fn by_hand(url: &str, payload: &str) -> Result<f64, String> {
    let socket = WebSocket::connect(url).await.map_err(|e| e.to_string())?;
    let (sender, mut receiver) = socket.into_split();
    let start = crate::now();
    let mut waiting: HashMap<u64, ()> = HashMap::with_capacity(REQUESTS_COUNT as usize);
    for id in 1..=u64::from(REQUESTS_COUNT) {
        waiting.insert(id, ());
        sender
            .send_text(&format!("{id}:{payload}"))
            .map_err(|e| e.to_string())?;
    }
    let mut answered = 0;
    while !waiting.is_empty() {
        let Some(Ok(message)) = receiver.next().await else {
            break;
        };
        let reply = message.as_text().and_then(reply_id);
        if let Some((id, text)) = reply {
            if waiting.remove(&id).is_some() && black_box(text).len() > payload.len() {
                answered += 1;
            }
        }
    }
    let elapsed = crate::now() - start;
    check(answered, elapsed)
}

fn check(answered: usize, elapsed: f64) -> Result<f64, String> {
    if answered == REQUESTS_COUNT as usize {
        Ok(elapsed)
    } else {
        Err(format!("{answered} of {REQUESTS_COUNT} requests answered"))
    }
}
