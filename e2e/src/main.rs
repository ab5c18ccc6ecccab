//! Drives the real demo page in a real browser over WebDriver, as a user would:
//! waits for the three example results, then uses the playground (connect, send
//! text with the keyboard and see the echo, try an invalid close code and a bad
//! URL and see the library's errors, close with 4001 "bye" and see the
//! CloseEvent), and saves a screenshot.
//!
//! `browser-websocket-e2e --browser chrome|firefox|webkit --page URL --out DIR`
//! starts the browser's WebDriver server itself, on a free port. WebKit needs a
//! display (run it under `xvfb-run`).
//!
//! `browser-websocket-e2e bench --browser B --page URL --out FILE` instead opens the
//! `/bench` page at `URL`, waits for its results and writes their JSON to `FILE`.
//!
//! `browser-websocket-e2e example --browser B --page URL --out DIR` instead drives
//! one of the chat examples (`examples/`, served under `/examples/NAME/`): waits
//! until it shows it is connected, sends a message with the Send button and
//! sees it come back from `/echo`, then restarts the server (`/restart`) and
//! sees the example reconnect and deliver a message sent meanwhile.

mod driver;
mod outbox;
mod tabs;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

struct Options {
    bench: bool,
    example: bool,
    browser: String,
    page: String,
    out: PathBuf,
}

fn parse_options() -> Result<Options, String> {
    let mut browser = None;
    let mut page = None;
    let mut out = PathBuf::from("target/e2e");
    let mut args = std::env::args().skip(1).peekable();
    let bench = args.next_if(|first| first == "bench").is_some();
    let example = !bench && args.next_if(|first| first == "example").is_some();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--browser" => browser = Some(value()?),
            "--page" => page = Some(value()?),
            "--out" => out = PathBuf::from(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Options {
        bench,
        example,
        browser: browser.ok_or("--browser chrome|firefox|webkit is required")?,
        page: page.ok_or("--page URL is required")?,
        out,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let driver = match driver::start(&options.browser).await {
        Ok(driver) => driver,
        Err(message) => {
            eprintln!("cannot start the {} WebDriver: {message}", options.browser);
            return ExitCode::FAILURE;
        }
    };
    if options.bench {
        let outcome = bench(&driver.client, &options).await;
        let _ = driver.client.clone().close().await;
        return match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(problem) => {
                eprintln!("bench in {}: {problem}", options.browser);
                ExitCode::FAILURE
            }
        };
    }
    let mut run = Run::default();
    run.all(&driver.client, &options).await;
    let _ = driver.client.clone().close().await;
    drop(driver);
    let verdict = if run.failed == 0 { "ok" } else { "FAILED" };
    println!(
        "test result: {verdict}. {} passed; {} failed; ({})",
        run.passed, run.failed, options.browser
    );
    if run.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[derive(Default)]
struct Run {
    passed: u32,
    failed: u32,
}

impl Run {
    async fn all(&mut self, client: &Client, options: &Options) {
        let browser = options.browser.as_str();
        let steps_ok = self.steps(client, options).await;
        // The screenshot is taken whatever happened: it shows the failure too.
        let name = match options.page.trim_end_matches('/').rsplit('/').next() {
            Some(example) if options.example => example,
            _ => "demo",
        };
        let screenshot = options.out.join(format!("{name}-{browser}.png"));
        let saved = save_screenshot(client, &screenshot).await;
        self.record(
            "screenshot saved",
            saved.map(|size| format!("{}, {size}", screenshot.display())),
        );
        if !steps_ok {
            eprintln!("(later steps skipped after the first failure)");
        }
    }

    /// The checks in order, each one or more steps; stops at the first failure,
    /// since each check builds on the ones before.
    async fn steps(&mut self, client: &Client, options: &Options) -> bool {
        let (browser, page) = (options.browser.as_str(), options.page.as_str());
        let text = format!("hello from {browser}");
        let pi = "Uint8: 127 Float32: 3.1415927";
        let checks: Vec<(&str, Vec<Step>)> = vec![
            (
                "?url= with a bad URL shows the library's error in the examples",
                vec![
                    Step::Goto(format!("{page}?url=ftp://127.0.0.1/")),
                    Step::WaitText(
                        "#result-string",
                        "error: invalid WebSocket URL \"ftp://127.0.0.1/\": scheme \"ftp\" is not ws, wss, http or https",
                    ),
                ],
            ),
            ("page loads", vec![Step::Goto(page.to_owned())]),
            (
                "string example prints the echoed message",
                vec![Step::WaitText("#result-string", "The echo host sent the correct message: \"an example message\"")],
            ),
            ("arraybuffer example prints 127 and pi", vec![Step::WaitText("#result-arraybuffer", pi)]),
            ("blob example prints 127 and pi", vec![Step::WaitText("#result-blob", pi)]),
            (
                "a bad URL shows the library's error",
                vec![
                    Step::Connect("ftp://127.0.0.1/"),
                    Step::WaitLog(
                        "invalid WebSocket URL \"ftp://127.0.0.1/\": scheme \"ftp\" is not ws, wss, http or https".to_owned(),
                    ),
                ],
            ),
            ("playground connects to /echo", vec![Step::Connect("/echo"), Step::WaitText("#ready-state", "OPEN (1)")]),
            (
                "text sent with the Enter key comes back",
                vec![Step::SendTextWithEnter(text.clone()), Step::WaitLog(format!("←text{}{text}", text.len()))],
            ),
            (
                "close code 1001 is refused with the library's error",
                vec![
                    Step::Close("1001", String::new()),
                    Step::WaitLog("close code 1001 cannot be sent by a browser: use 1000 or 3000-4999".to_owned()),
                    Step::WaitText("#ready-state", "OPEN (1)"),
                ],
            ),
            (
                "a 124-byte reason is refused",
                vec![
                    Step::Close("4001", "r".repeat(124)),
                    Step::WaitLog("close reason is 124 bytes of UTF-8, the limit is 123".to_owned()),
                ],
            ),
            (
                "close with 4001 \"bye\" shows the CloseEvent",
                vec![
                    Step::Close("4001", "bye".to_owned()),
                    Step::WaitLog("CloseEvent code 4001 reason \"bye\" wasClean true".to_owned()),
                    Step::WaitText("#ready-state", "CLOSED (3)"),
                ],
            ),
        ];
        let checks = if options.example {
            example_checks(browser, page)
        } else {
            checks
        };
        if !self.run_checks(client, checks).await {
            return false;
        }
        if options.example {
            return true;
        }
        let outcome = tabs::share_one_connection(client, page).await;
        let ok = outcome.is_ok();
        self.record(
            "three windows share one connection, and another leads when the leader's closes",
            outcome,
        );
        if !ok {
            return false;
        }
        let outcome = outbox::kept_across_a_reload(client, page).await;
        let ok = outcome.is_ok();
        self.record(
            "an unacknowledged message is sent again with its id after a reload, and acknowledged",
            outcome,
        );
        ok
    }

    /// Runs each check's steps in order; stops at the first failure.
    async fn run_checks(&mut self, client: &Client, checks: Vec<(&str, Vec<Step>)>) -> bool {
        for (name, steps) in checks {
            let mut outcome = Ok(String::new());
            for step in &steps {
                if let Err(problem) = step.run(client).await {
                    outcome = Err(problem);
                    break;
                }
            }
            let ok = outcome.is_ok();
            self.record(name, outcome);
            if !ok {
                return false;
            }
        }
        true
    }

    fn record(&mut self, name: &str, outcome: Result<String, String>) {
        match outcome {
            Ok(detail) => {
                self.passed += 1;
                let detail = if detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({detail})")
                };
                println!("test {name} ... ok{detail}");
            }
            Err(problem) => {
                self.failed += 1;
                println!("test {name} ... FAILED: {problem}");
            }
        }
    }
}

/// A chat example's checks: every example has the same ids.
fn example_checks(browser: &str, page: &str) -> Vec<(&'static str, Vec<Step>)> {
    let text = format!("hello from {browser}");
    let origin = page.split('/').take(3).collect::<Vec<_>>().join("/");
    vec![
        ("page loads", vec![Step::Goto(page.to_owned())]),
        (
            "the state shows connected",
            vec![Step::WaitText("#status", "connected")],
        ),
        (
            "a message sent with the Send button comes back as JSON",
            vec![
                Step::Fill("#message", text.clone()),
                Step::Click("#send"),
                Step::WaitItem("#messages li", format!("you: {text}")),
            ],
        ),
        (
            "the input is cleared and the state still shows connected",
            vec![
                Step::WaitValue("#message", ""),
                Step::WaitText("#status", "connected"),
            ],
        ),
        (
            "a page with no WebSocket, Back from another page (the control)",
            vec![
                Step::Goto(format!("{origin}/plain")),
                Step::BackForward(Cache::Observe),
            ],
        ),
        (
            "a page with an open raw WebSocket, Back from another page (the baseline)",
            vec![
                Step::Goto(format!("{origin}/plain")),
                Step::Script(OPEN_RAW_SOCKET),
                Step::WaitScript("return window.rawSocket.readyState === 1"),
                Step::BackForward(Cache::Observe),
            ],
        ),
        ("page loads again", vec![Step::Goto(page.to_owned())]),
        (
            "Back from another page: the reconnecting socket lets the page into the back/forward cache and comes back connected",
            vec![
                Step::WaitText("#status", "connected"),
                Step::BackForward(Cache::Expect(restores_with_our_socket(browser))),
                Step::WaitText("#status", "connected"),
                Step::Fill("#message", format!("{text}, after Back")),
                Step::Click("#send"),
                Step::WaitItem("#messages li", format!("you: {text}, after Back")),
            ],
        ),
        (
            "a server restart shows in the state",
            vec![
                Step::Script(RESTART_SERVER),
                Step::WaitTextNot("#status", "connected"),
            ],
        ),
        (
            "it reconnects, and a message sent meanwhile comes back",
            vec![
                Step::Fill("#message", format!("{text}, again")),
                Step::Click("#send"),
                Step::WaitText("#status", "connected"),
                Step::WaitItem("#messages li", format!("you: {text}, again")),
            ],
        ),
    ]
}

/// Whether a page with an open reconnecting socket is restored from the
/// back/forward cache after Back, per engine (as measured; see the guide's chapter on reconnecting).
/// Firefox decides before `pagehide` (whose `persisted` it then sets false)
/// that a page with an open WebSocket cannot be cached, so closing the socket
/// there is too late; it caches the same page without a socket (the control).
fn restores_with_our_socket(browser: &str) -> bool {
    browser != "firefox"
}

/// Opens a plain WebSocket to the echo route, as a page without this crate would.
const OPEN_RAW_SOCKET: &str = "const url = new URL('/echo', location.href);
url.protocol = url.protocol.replace('http', 'ws');
window.rawSocket = new WebSocket(url);";

/// Marks the page and notes a `pageshow` from the cache.
pub(crate) const MARK_PAGE: &str = "window.bfcacheMark = 'marked';
window.restoredFromCache = false;
addEventListener('pageshow', (event) => { if (event.persisted) window.restoredFromCache = true; });";

/// Whether the page after Back is the marked one, restored from the cache.
pub(crate) const RESTORED: &str =
    "return window.bfcacheMark === 'marked' && window.restoredFromCache === true;";

/// What a Back navigation must show.
#[derive(Clone, Copy)]
enum Cache {
    /// Only report whether the page came back from the cache.
    Observe,
    /// It must (true) or must not (false) come back from the cache.
    Expect(bool),
}

/// Asks the test server to drop every WebSocket and stop listening for 2 s.
const RESTART_SERVER: &str = "const url = new URL('/restart?down_ms=2000', location.href);
url.protocol = url.protocol.replace('http', 'ws');
new WebSocket(url).onopen = (event) => event.target.send('restart');";

enum Step {
    Goto(String),
    /// Waits until the element's text is exactly this.
    WaitText(&'static str, &'static str),
    /// Waits until a row of the playground log, its cells joined, contains this.
    WaitLog(String),
    Connect(&'static str),
    SendTextWithEnter(String),
    Close(&'static str, String),
    Fill(&'static str, String),
    Click(&'static str),
    /// Waits until one of the elements matching the selector reads exactly this.
    WaitItem(&'static str, String),
    /// Waits until the element's text is no longer this.
    WaitTextNot(&'static str, &'static str),
    /// Runs JavaScript in the page.
    Script(&'static str),
    /// Waits until the input's value is exactly this.
    WaitValue(&'static str, &'static str),
    /// Waits until the script returns true.
    WaitScript(&'static str),
    /// Marks the page, goes to another page and Back, and checks whether the
    /// marked page was restored from the back/forward cache.
    BackForward(Cache),
}

const WAIT: Duration = Duration::from_secs(20);

impl Step {
    async fn run(&self, client: &Client) -> Result<(), String> {
        match self {
            Step::Goto(page) => client.goto(page).await.map_err(|e| e.to_string()),
            Step::WaitText(selector, expected) => wait_for(|| async {
                text_of(client, selector)
                    .await
                    .is_some_and(|text| text == *expected)
            })
            .await
            .map_err(|()| format!("{selector} never read {expected:?}")),
            Step::WaitLog(expected) => wait_for(|| async {
                log_rows(client)
                    .await
                    .iter()
                    .any(|row| row.contains(expected.as_str()))
            })
            .await
            .map_err(|()| format!("no log row contains {expected:?}")),
            Step::Connect(url) => {
                fill(client, "#url", url).await?;
                click(client, "#connect").await
            }
            Step::SendTextWithEnter(text) => {
                fill(client, "#text-message", &format!("{text}\u{E007}")).await
            }
            Step::Close(code, reason) => {
                fill(client, "#close-code", code).await?;
                fill(client, "#close-reason", reason).await?;
                click(client, "#close").await
            }
            Step::WaitTextNot(selector, unwanted) => wait_for(|| async {
                text_of(client, selector)
                    .await
                    .is_some_and(|text| text != *unwanted)
            })
            .await
            .map_err(|()| format!("{selector} kept reading {unwanted:?}")),
            Step::Script(script) => client
                .execute(script, vec![])
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Step::Fill(selector, text) => fill(client, selector, text).await,
            Step::Click(selector) => click(client, selector).await,
            Step::WaitItem(selector, expected) => {
                wait_for(|| async { texts_of(client, selector).await.contains(expected) })
                    .await
                    .map_err(|()| format!("no {selector} reads {expected:?}"))
            }
            Step::WaitValue(selector, expected) => wait_for(|| async {
                value_of(client, selector)
                    .await
                    .is_some_and(|value| value == *expected)
            })
            .await
            .map_err(|()| format!("{selector}'s value never was {expected:?}")),
            Step::WaitScript(script) => wait_for(|| async {
                client
                    .execute(script, vec![])
                    .await
                    .is_ok_and(|value| value == serde_json::Value::Bool(true))
            })
            .await
            .map_err(|()| format!("never true: {script}")),
            Step::BackForward(expected) => back_forward(client, *expected).await,
        }
    }
}

/// Goes to another page of the origin and Back; reports whether the page was
/// restored from the back/forward cache, and fails if that is not `expected`.
async fn back_forward(client: &Client, expected: Cache) -> Result<(), String> {
    let here = client.current_url().await.map_err(|e| e.to_string())?;
    client
        .execute(MARK_PAGE, vec![])
        .await
        .map_err(|e| e.to_string())?;
    let elsewhere = here.join("/plain?away").map_err(|e| e.to_string())?;
    client
        .goto(elsewhere.as_str())
        .await
        .map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    client.back().await.map_err(|e| e.to_string())?;
    wait_for(|| async {
        client
            .current_url()
            .await
            .is_ok_and(|url| url.as_str() == here.as_str())
    })
    .await
    .map_err(|()| "Back did not return".to_owned())?;
    let restored = client
        .execute(RESTORED, vec![])
        .await
        .map_err(|e| e.to_string())?
        == serde_json::Value::Bool(true);
    let raw_socket = client
        .execute(
            "return window.rawSocket ? ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'][window.rawSocket.readyState] : 'none'",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "observed: {here} after Back: {} ({} ms; raw socket: {raw_socket})",
        if restored {
            "restored from the back/forward cache"
        } else {
            "loaded again (not cached)"
        },
        started.elapsed().as_millis()
    );
    match expected {
        Cache::Expect(cached) if cached != restored => Err(format!(
            "expected the page {} from the back/forward cache",
            if cached { "restored" } else { "not restored" }
        )),
        _ => Ok(()),
    }
}

/// Runs the `/bench` page and writes its results JSON to `options.out`.
async fn bench(client: &Client, options: &Options) -> Result<(), String> {
    client
        .goto(&options.page)
        .await
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(1500);
    let mut last_status = String::new();
    while Instant::now() < deadline {
        // `results-json` is hidden, so read its text content, not its visible text.
        let json = client
            .execute(
                "return document.getElementById('results-json').textContent",
                vec![],
            )
            .await
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default();
        if !json.is_empty() {
            if json.starts_with("{\"error\"") {
                return Err(json);
            }
            return std::fs::write(&options.out, json).map_err(|e| e.to_string());
        }
        let status = text_of(client, "#status").await.unwrap_or_default();
        if status != last_status {
            println!("[{}] {status}", options.browser);
            last_status = status;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err("the benchmarks did not finish within 25 minutes".to_owned())
}

/// A measured figure, as a line `cargo xtask figures` collects for the guide.
fn figure(name: &str, value: &str) {
    println!("figure: {name}\t{value}");
}

async fn wait_for<F, Fut>(mut check: F) -> Result<(), ()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if check().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(())
}

async fn text_of(client: &Client, selector: &str) -> Option<String> {
    client
        .find(Locator::Css(selector))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

async fn texts_of(client: &Client, selector: &str) -> Vec<String> {
    let mut texts = Vec::new();
    for element in client
        .find_all(Locator::Css(selector))
        .await
        .unwrap_or_default()
    {
        texts.push(element.text().await.unwrap_or_default());
    }
    texts
}

async fn value_of(client: &Client, selector: &str) -> Option<String> {
    client
        .find(Locator::Css(selector))
        .await
        .ok()?
        .prop("value")
        .await
        .ok()?
}

/// Each log row's cells joined without separators (e.g. "←text5hello").
async fn log_rows(client: &Client) -> Vec<String> {
    let mut rows = Vec::new();
    let Ok(found) = client.find_all(Locator::Css("#log-body tr")).await else {
        return rows;
    };
    for row in found {
        let mut joined = String::new();
        if let Ok(cells) = row.find_all(Locator::Css("td")).await {
            for (index, cell) in cells.into_iter().enumerate() {
                // Skip the time column.
                if index > 0 {
                    joined.push_str(&cell.text().await.unwrap_or_default());
                }
            }
        }
        rows.push(joined);
    }
    rows
}

async fn fill(client: &Client, selector: &str, value: &str) -> Result<(), String> {
    let input = client
        .find(Locator::Css(selector))
        .await
        .map_err(|e| format!("{selector}: {e}"))?;
    input
        .clear()
        .await
        .map_err(|e| format!("clear {selector}: {e}"))?;
    if !value.is_empty() {
        input
            .send_keys(value)
            .await
            .map_err(|e| format!("type into {selector}: {e}"))?;
    }
    Ok(())
}

async fn click(client: &Client, selector: &str) -> Result<(), String> {
    let button = client
        .find(Locator::Css(selector))
        .await
        .map_err(|e| format!("{selector}: {e}"))?;
    button
        .click()
        .await
        .map_err(|e| format!("click {selector}: {e}"))
}

async fn save_screenshot(client: &Client, path: &std::path::Path) -> Result<String, String> {
    let png = client.screenshot().await.map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(path, &png).map_err(|e| e.to_string())?;
    Ok(format!("{} bytes", png.len()))
}
