//! The classic examples, in Rust: a string echo, and the 5-byte binary echo
//! (`setFloat32(0, Math.PI)`, `setUint8(4, 127)`) received as an ArrayBuffer and
//! as a Blob. Unlike the original JavaScript, the string example compares the
//! message's data, not the event.

use browser_websocket::{BinaryType, Message, WebSocket};
use futures_util::StreamExt;
use js_sys::{DataView, Uint8Array};

use crate::dom;

pub const EXAMPLE_MESSAGE: &str = "an example message";

/// Where the examples connect: `?url=` if given, else this server's `/echo`
/// (as `ws:` for the string example and, as in the original, `http:` for the
/// binary ones, which the library maps to `ws:`).
pub struct ExampleUrls {
    pub text: String,
    pub binary: String,
}

pub fn example_urls() -> ExampleUrls {
    let location = web_sys::window().map(|window| window.location());
    if let Some(url) = dom::query_param("url") {
        return ExampleUrls {
            text: url.clone(),
            binary: url,
        };
    }
    let host = location
        .and_then(|location| location.host().ok())
        .unwrap_or_default();
    ExampleUrls {
        text: format!("ws://{host}/echo"),
        binary: format!("http://{host}/echo"),
    }
}

/// Runs the three examples one after the other, each writing into its card.
pub async fn run_all() {
    let urls = example_urls();
    run("string", &urls.text, string_example(&urls.text)).await;
    run(
        "arraybuffer",
        &urls.binary,
        binary_example(&urls.binary, BinaryType::ArrayBuffer),
    )
    .await;
    run(
        "blob",
        &urls.binary,
        binary_example(&urls.binary, BinaryType::Blob),
    )
    .await;
}

async fn run(
    label: &str,
    url: &str,
    example: impl std::future::Future<Output = Result<String, String>>,
) {
    line(label, &format!("connecting to {url}"));
    let (class, text) = match example.await {
        Ok(result) => ("ok", result),
        Err(error) => ("error", format!("error: {error}")),
    };
    line(label, &text);
    dom::set_text(&format!("result-{label}"), &text);
    if let Some(result) = dom::by_id::<web_sys::Element>(&format!("result-{label}")) {
        result.set_class_name(class);
    }
}

/// One labelled line, on the page and in the console.
fn line(label: &str, text: &str) {
    dom::append(&format!("lines-{label}"), "li", "", text);
    dom::console_log(&format!("[{label}] {text}"));
}

async fn string_example(url: &str) -> Result<String, String> {
    let mut socket = WebSocket::connect(url)
        .await
        .map_err(|error| error.to_string())?;
    socket
        .send_text(EXAMPLE_MESSAGE)
        .map_err(|error| error.to_string())?;
    line("string", &format!("sent {EXAMPLE_MESSAGE:?}"));
    let outcome = match socket.next().await {
        Some(Ok(Message::Text(text))) if text == EXAMPLE_MESSAGE => {
            Ok(format!("The echo host sent the correct message: {text:?}"))
        }
        Some(Ok(other)) => Ok(format!("Expected: {EXAMPLE_MESSAGE:?} Received: {other:?}")),
        Some(Err(error)) => Err(error.to_string()),
        None => Err(format!("closed before the echo: {}", socket.closed().await)),
    };
    let _ = socket.close_normal();
    outcome
}

/// The example's buffer, written exactly as the JavaScript does.
fn pi_and_127() -> Vec<u8> {
    let buffer = js_sys::ArrayBuffer::new(5);
    let view = DataView::new(&buffer, 0, 5);
    view.set_float32(0, std::f32::consts::PI);
    view.set_uint8(4, 127);
    Uint8Array::new(&buffer).to_vec()
}

/// Reads the buffer back as the JavaScript does: `getUint8(4)`, `getFloat32(0)`.
pub fn describe(bytes: &[u8]) -> String {
    if bytes.len() < 5 {
        return format!("expected 5 bytes, received {}", bytes.len());
    }
    let array = Uint8Array::from(bytes);
    let view = DataView::new(&array.buffer(), 0, bytes.len());
    format!(
        "Uint8: {} Float32: {}",
        view.get_uint8(4),
        view.get_float32(0)
    )
}

async fn binary_example(url: &str, binary_type: BinaryType) -> Result<String, String> {
    let label = binary_type.to_string();
    let mut socket = WebSocket::builder(url)
        .binary_type(binary_type)
        .connect()
        .await
        .map_err(|error| error.to_string())?;
    socket
        .send_bytes(&pi_and_127())
        .map_err(|error| error.to_string())?;
    line(&label, &format!("sent 5 bytes (binaryType = {label:?})"));
    let bytes = match socket.next().await {
        Some(Ok(Message::Binary(bytes))) => bytes,
        Some(Ok(Message::JsBinary(view))) => view.to_vec(),
        Some(Ok(Message::Blob(blob))) => {
            line(
                &label,
                &format!("received a Blob of {} bytes, reading it", blob.size()),
            );
            browser_websocket::read_blob(&blob)
                .await
                .map_err(|error| error.to_string())?
        }
        Some(Ok(Message::Text(text))) => {
            return Err(format!("expected binary, received text {text:?}"))
        }
        Some(Ok(other)) => return Err(format!("expected binary, received {other:?}")),
        Some(Err(error)) => return Err(error.to_string()),
        None => return Err(format!("closed before the echo: {}", socket.closed().await)),
    };
    let _ = socket.close_normal();
    Ok(describe(&bytes))
}
