//! Starting a browser's WebDriver server and a session on it.

use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Map, Value};
use tokio::process::{Child, Command};

/// A WebDriver server with a session; the server is killed when dropped.
pub struct Driver {
    pub client: Client,
    _server: Child,
}

pub async fn start(browser: &str) -> Result<Driver, String> {
    let port = free_port()?;
    let (program, port_args): (String, Vec<String>) = match browser {
        "chrome" => (
            "/usr/bin/chromedriver".into(),
            vec![format!("--port={port}")],
        ),
        "firefox" => (geckodriver(), vec!["--port".into(), port.to_string()]),
        "webkit" => (
            "/usr/bin/WebKitWebDriver".into(),
            vec![format!("--port={port}")],
        ),
        other => return Err(format!("unknown browser {other:?}")),
    };
    let server = Command::new(&program)
        .args(&port_args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| format!("{program}: {error}"))?;
    wait_until_listening(port).await?;
    let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
    builder.capabilities(capabilities(browser));
    let client = builder
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .map_err(|error| format!("new session: {error}"))?;
    // Some drivers refuse to resize a headless window; the default size is fine then.
    let _ = client.set_window_size(1280, 1100).await;
    Ok(Driver {
        client,
        _server: server,
    })
}

fn geckodriver() -> String {
    let cargo_home = std::env::var("CARGO_HOME")
        .unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap_or_default()));
    let installed = format!("{cargo_home}/bin/geckodriver");
    if std::path::Path::new(&installed).exists() {
        installed
    } else {
        "geckodriver".into()
    }
}

/// Chrome's flags come from the workspace's `webdriver.json`, shared with the
/// browser unit tests.
fn capabilities(browser: &str) -> Map<String, Value> {
    let mut capabilities = Map::new();
    match browser {
        "chrome" => {
            let shared: Value =
                std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../webdriver.json"))
                    .ok()
                    .and_then(|text| serde_json::from_str(&text).ok())
                    .unwrap_or(Value::Null);
            let mut options = shared
                .get("goog:chromeOptions")
                .cloned()
                .unwrap_or_else(|| json!({ "args": [] }));
            if let Some(args) = options.get_mut("args").and_then(Value::as_array_mut) {
                args.push(json!("--window-size=1280,1100"));
                // performance.memory to the byte and current (the benchmark's
                // JS heap figures), not bucketed and cached.
                args.push(json!("--enable-precise-memory-info"));
                // window.gc(): the benchmark collects garbage between runs, so
                // that no run pays for the one before it.
                args.push(json!("--js-flags=--expose-gc"));
            }
            capabilities.insert("goog:chromeOptions".into(), options);
        }
        "firefox" => {
            capabilities.insert(
                "moz:firefoxOptions".into(),
                json!({
                    "args": ["-headless", "--width=1280", "--height=1100"],
                    // performance.now() to the microsecond, not the millisecond,
                    // for the benchmark's timings.
                    "prefs": { "privacy.reduceTimerPrecision": false },
                }),
            );
        }
        _ => {}
    }
    capabilities
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|error| error.to_string())?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(|error| error.to_string())
}

async fn wait_until_listening(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "the WebDriver server did not listen on port {port} within 30 s"
    ))
}
