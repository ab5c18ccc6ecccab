//! `cargo xtask test`: every check and test, in order, failing fast on the
//! static checks and running every browser even when one fails.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::conformance::ConformanceServer;
use crate::setup;
use crate::shell::{self, cargo};

pub const BROWSERS: &[&str] = &["chrome", "firefox", "webkit"];

fn run_all(browsers: &[String]) -> Result<(), String> {
    setup::everything()?;
    static_checks()?;
    crate::package::checks()?;
    crate::examples::check_and_build()?;
    let native = run_counted(
        cargo().args(["test", "--workspace", "--all-features"]),
        "native",
    )?;
    crate::build_demo()?;
    shell::run(cargo().args(["build", "-p", "browser-websocket-e2e"]))?;
    let server = TestServer::start()?;
    let conformance = ConformanceServer::start(&setup::conformance_venv()?)?;
    let refused_port = free_port()?;
    let mut results = vec![native];
    for browser in browsers {
        let servers = (server.origin.as_str(), conformance.origin.as_str());
        results.push(browser_suite(browser, servers, refused_port)?);
    }
    results.extend(crate::threaded::suites(browsers, &server.origin)?);
    for browser in browsers {
        results.push(demo_end_to_end(browser, &server.origin)?);
    }
    for (mut command, name) in crate::examples::end_to_end(browsers, &server.origin) {
        results.push(run_counted(&mut command, &name)?);
    }
    drop((server, conformance));
    results.extend(crate::readme::suites(browsers)?);
    report(&results)
}

pub fn run(args: &[String]) -> Result<(), String> {
    run_all(&browsers_from(args, "test")?)
}

/// The browsers of `[--browsers chrome,firefox,webkit]` (all when not given).
pub fn browsers_from(args: &[String], command: &str) -> Result<Vec<String>, String> {
    let browsers: Vec<String> = match args {
        [] => BROWSERS.iter().map(|b| (*b).to_owned()).collect(),
        [flag, list] if flag == "--browsers" => list.split(',').map(str::to_owned).collect(),
        _ => {
            return Err(format!(
                "usage: cargo xtask {command} [--browsers chrome,firefox,webkit]"
            ))
        }
    };
    if let Some(unknown) = browsers.iter().find(|b| !BROWSERS.contains(&b.as_str())) {
        return Err(format!(
            "unknown browser {unknown:?}: use chrome, firefox or webkit"
        ));
    }
    Ok(browsers)
}

fn static_checks() -> Result<(), String> {
    shell::run(cargo().args(["fmt", "--all", "--check"]))?;
    shell::run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;
    shell::run(cargo().args([
        "clippy",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "browser-websocket",
        "-p",
        "browser-websocket-demo",
        "-p",
        "browser-websocket-bench",
        "-p",
        "size-this-crate",
        "-p",
        "size-gloo-net",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))
}

/// One suite's outcome, summed over its test binaries.
pub struct Outcome {
    name: String,
    passed: u32,
    failed: u32,
    succeeded: bool,
}

impl Outcome {
    /// Whether its command exited successfully.
    pub fn succeeded(&self) -> bool {
        self.succeeded
    }

    /// Tests that passed.
    pub fn passed(&self) -> u32 {
        self.passed
    }

    /// Tests that failed.
    pub fn failed(&self) -> u32 {
        self.failed
    }
}

/// `servers`: the test server's origin and the conformance server's.
fn browser_suite(
    browser: &str,
    (origin, conformance): (&str, &str),
    refused_port: u16,
) -> Result<Outcome, String> {
    let cargo_program = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = browser_command(browser, std::path::Path::new(&cargo_program));
    command
        .args([
            "test",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "browser-websocket",
            "--tests",
            "--all-features",
            "--no-fail-fast",
        ])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("WASM_BINDGEN_TEST_TIMEOUT", "600")
        .env("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", "90")
        .env("WS_TEST_SERVER", origin)
        .env("WS_CONFORMANCE_SERVER", conformance)
        .env("WS_TEST_REFUSED_PORT", refused_port.to_string())
        // The full soak (10,000 sockets); without it, a short one.
        .env("BROWSER_WEBSOCKET_SOAK", "1");
    use_driver(&mut command, browser);
    run_counted(&mut command, browser)
}

/// Points wasm-bindgen-test-runner at `browser`'s WebDriver, and at no other.
pub fn use_driver(command: &mut Command, browser: &str) {
    command
        .env_remove("CHROMEDRIVER")
        .env_remove("GECKODRIVER")
        .env_remove("SAFARIDRIVER");
    match browser {
        "chrome" => command.env("CHROMEDRIVER", "/usr/bin/chromedriver"),
        "firefox" => command.env("GECKODRIVER", shell::cargo_bin_dir().join("geckodriver")),
        _ => command.env("SAFARIDRIVER", "/usr/bin/WebKitWebDriver"),
    };
}

/// Drives the demo page, served by the test server, in `browser`.
fn demo_end_to_end(browser: &str, origin: &str) -> Result<Outcome, String> {
    let page = format!("{}/", origin.replacen("ws:", "http:", 1));
    let e2e = shell::root().join("target/debug/browser-websocket-e2e");
    let mut command = browser_command(browser, &e2e);
    command.args(["--browser", browser, "--page", &page, "--out", "target/e2e"]);
    run_counted(&mut command, &format!("{browser} demo e2e"))
}

/// A command that runs `program` for `browser`: WebKitWebDriver opens a real
/// (MiniBrowser) window, so WebKit gets a virtual display.
pub fn browser_command(browser: &str, program: &std::path::Path) -> Command {
    if browser == "webkit" {
        let mut command = shell::command("xvfb-run");
        command
            .args(["-a", "--server-args=-screen 0 1280x1024x24"])
            .arg(program);
        command
    } else {
        shell::command(&program.to_string_lossy())
    }
}

/// Runs a `cargo test`, passing its output through and adding up its
/// `test result:` lines.
pub fn run_counted(command: &mut Command, name: &str) -> Result<Outcome, String> {
    println!("\n==> {name} tests\n$ {command:?}");
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot start {name} tests: {error}"))?;
    let mut outcome = Outcome {
        name: name.to_owned(),
        passed: 0,
        failed: 0,
        succeeded: false,
    };
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some((passed, failed)) = parse_result_line(&line) {
                outcome.passed += passed;
                outcome.failed += failed;
            }
        }
    }
    let status = child.wait().map_err(|error| error.to_string())?;
    outcome.succeeded = status.success();
    Ok(outcome)
}

/// `test result: ok. 7 passed; 0 failed; ...` -> (7, 0)
fn parse_result_line(line: &str) -> Option<(u32, u32)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let number_before = |word: &str| -> Option<u32> {
        let index = rest.find(word)?;
        rest[..index]
            .trim_end()
            .rsplit([' ', '.'])
            .next()?
            .parse()
            .ok()
    };
    Some((number_before(" passed")?, number_before(" failed")?))
}

pub fn report(results: &[Outcome]) -> Result<(), String> {
    println!("\n| suite | passed | failed |\n|---|---|---|");
    for outcome in results {
        let note = if outcome.succeeded {
            ""
        } else {
            " (suite failed)"
        };
        println!(
            "| {} | {} | {}{note} |",
            outcome.name, outcome.passed, outcome.failed
        );
    }
    let passed: u32 = results.iter().map(|o| o.passed).sum();
    let failed: u32 = results.iter().map(|o| o.failed).sum();
    println!("\n{passed} passed, {failed} failed");
    match results.iter().find(|o| !o.succeeded) {
        Some(outcome) => Err(format!("the {} suite failed", outcome.name)),
        None if failed > 0 => Err(format!("{failed} tests failed")),
        None => Ok(()),
    }
}

/// A port with nothing listening on it: bound, then released.
pub fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|error| error.to_string())?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(|error| error.to_string())
}

/// The test server, stopped when dropped.
pub struct TestServer {
    child: Child,
    pub origin: String,
}

impl TestServer {
    pub fn start() -> Result<Self, String> {
        Self::start_on(0)
    }

    /// The test server on `port` (0: a free one).
    pub fn start_on(port: u16) -> Result<Self, String> {
        // Release: the same build the demo uses, and fast enough to carry the
        // 256 MiB flow-control test.
        shell::run(cargo().args(["build", "--release", "-p", "browser-websocket-server"]))?;
        let binary = shell::root().join("target/release/browser-websocket-server");
        let mut child = Command::new(&binary)
            .args(["--port", &port.to_string(), "--www"])
            .arg(shell::root().join("www"))
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
        let mut first_line = String::new();
        if let Some(stdout) = child.stdout.as_mut() {
            let _ = BufReader::new(stdout).read_line(&mut first_line);
        }
        let Some(address) = first_line.trim().strip_prefix("listening on http://") else {
            let _ = child.kill();
            return Err(format!("the test server did not start: {first_line:?}"));
        };
        let origin = format!("ws://{}", address.trim_end_matches('/'));
        println!("test server at {origin}");
        Ok(Self { child, origin })
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
