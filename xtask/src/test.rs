//! `cargo xtask test`: every check and test, each suite once, failing fast on
//! the static checks and running every browser even when one fails; a table
//! of where the time went at the end. `--quick`: the contributors' loop.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::browser_suite::{self, Soak};
use crate::phases::Phases;
use crate::servers::{Build, ReadmeServers, TestServer};
use crate::setup;
use crate::shell::{self, cargo};

pub const BROWSERS: &[&str] = &["chrome", "firefox", "webkit"];

const USAGE: &str = "usage: cargo xtask test [--quick] [--browsers chrome,firefox,webkit]";

pub fn run(args: &[String]) -> Result<(), String> {
    let quick = args.first().is_some_and(|arg| arg == "--quick");
    let rest = if quick { &args[1..] } else { args };
    let browsers = match (quick, rest) {
        (true, []) => vec!["chrome".to_owned()],
        _ => browsers_from(rest, "test")?,
    };
    let mut phases = Phases::new();
    let outcome = if quick {
        quick_loop(&browsers, &mut phases)
    } else {
        everything(&browsers, &mut phases)
    };
    println!("\n{}", phases.table());
    outcome
}

/// Every check and test, each once. What must come first runs in order: the
/// installs, formatting, the native build and tests (linted as they build),
/// clippy for wasm32, and what the browser suites load. Then the browsers run
/// side by side, each on a thread of its own, while one more thread builds
/// what only their later steps need (the threaded suite, the demo, the
/// examples, the end-to-end driver) and runs the packaging checks: the
/// browsers mostly wait on the network and timers, so the cores are free.
fn everything(browsers: &[String], phases: &mut Phases) -> Result<(), String> {
    phases.run("install", setup::everything)?;
    phases.run("format and links", formatting)?;
    phases.run("native build, linted", native_build)?;
    let mut results = vec![phases.run("native tests", native_tests)?];
    phases.run("wasm32 lint", wasm32_lint)?;
    phases.run("build for the browser suites", || {
        crate::servers::build_server(Build::Debug)?;
        browser_suite::build(Soak::Full)
    })?;
    let servers = phases.run("servers", ReadmeServers::start)?;
    let later = Later::default();
    let (builds, engines) = phases.run("browsers side by side, and the later builds", || {
        side_by_side(browsers, &later, || {
            later_builds(&servers.test.origin, &later)
        })
    });
    drop(servers);
    let builds = builds.unwrap_or_else(|_| Err("the build thread stopped".to_owned()));
    for run in std::iter::once(builds).chain(engines) {
        let run = run?;
        print_log(&run.log);
        for (name, took) in &run.timings {
            phases.record(&format!("  {name}"), *took);
        }
        results.extend(run.outcomes);
    }
    report(&results)
}

/// Each browser on a thread of its own (see [`engine`]), and `beside` on one
/// more; returns what `beside` gave (`Err` if its thread panicked) and each
/// browser's run, in the order of `browsers`.
fn side_by_side<T: Send>(
    browsers: &[String],
    later: &Later,
    beside: impl FnOnce() -> T + Send,
) -> (std::thread::Result<T>, Vec<Result<Run, String>>) {
    std::thread::scope(|scope| {
        let beside = scope.spawn(beside);
        let running: Vec<_> = browsers
            .iter()
            .map(|browser| (browser, scope.spawn(|| engine(browser, later))))
            .collect();
        let engines = running
            .into_iter()
            .map(|(browser, thread)| {
                thread
                    .join()
                    .unwrap_or_else(|_| Err(format!("{browser}'s thread stopped")))
            })
            .collect();
        (beside.join(), engines)
    })
}

/// `cargo xtask repeat N [--browsers ...]`: the evidence that the browsers
/// may run side by side. Builds what they load once, starts the servers, then
/// runs the browser phase of `test` (each browser: its browser suite, its
/// threaded suite, its end-to-end tests) N times in a row, and reports how
/// many runs were green. A failed run's logs are kept as
/// `target/xtask/run-K-BROWSER.log`.
pub fn repeat(args: &[String]) -> Result<(), String> {
    let usage = "usage: cargo xtask repeat N [--browsers chrome,firefox,webkit]";
    let (runs, rest) = match args.split_first() {
        Some((n, rest)) => (n.parse::<u32>().map_err(|_| usage.to_owned())?, rest),
        None => return Err(usage.to_owned()),
    };
    let browsers = browsers_from(rest, "repeat")?;
    setup::everything()?;
    crate::servers::build_server(Build::Debug)?;
    browser_suite::build(Soak::Full)?;
    let servers = ReadmeServers::start()?;
    let later = Later::default();
    let builds = later_builds(&servers.test.origin, &later)?;
    if builds.outcomes.iter().any(|outcome| !outcome.succeeded()) {
        return Err("a build the browsers need failed".to_owned());
    }
    let mut green = 0;
    for round in 1..=runs {
        let started = Instant::now();
        let (_, engines) = side_by_side(&browsers, &later, || ());
        let mut failed = Vec::new();
        for (browser, run) in browsers.iter().zip(engines) {
            let passed = run.as_ref().is_ok_and(|run| {
                run.outcomes
                    .iter()
                    .all(|outcome| outcome.succeeded() && outcome.failed() == 0)
            });
            if !passed {
                failed.push(browser.clone());
                let from = shell::root().join(format!("target/xtask/{browser}.log"));
                let kept = shell::root().join(format!("target/xtask/run-{round}-{browser}.log"));
                let _ = std::fs::copy(from, kept);
            }
        }
        if failed.is_empty() {
            green += 1;
        }
        println!(
            "run {round} of {runs}: {} in {:.1} s",
            if failed.is_empty() {
                "green".to_owned()
            } else {
                format!("FAILED in {}", failed.join(", "))
            },
            started.elapsed().as_secs_f64()
        );
    }
    drop(servers);
    println!("\n{green} of {runs} runs green");
    if green == runs {
        Ok(())
    } else {
        Err(format!("{} of {runs} runs failed", runs - green))
    }
}

/// fmt, clippy, the native tests and one engine's browser suite (Chrome
/// unless `--browsers` says otherwise), with the short soak.
fn quick_loop(browsers: &[String], phases: &mut Phases) -> Result<(), String> {
    phases.run("install", setup::for_quick_loop)?;
    phases.run("format and links", formatting)?;
    phases.run("native build, linted", native_build)?;
    let mut results = vec![phases.run("native tests", native_tests)?];
    phases.run("wasm32 lint", wasm32_lint)?;
    phases.run("build for the browser suites", || {
        crate::servers::build_server(Build::Debug)?;
        browser_suite::build(Soak::Short)
    })?;
    let servers = phases.run("servers", ReadmeServers::start)?;
    for browser in browsers {
        results.push(phases.run(&format!("{browser} browser suite"), || {
            browser_suite::run(browser, Soak::Short, &mut Log::Stdout)
        })?);
    }
    drop(servers);
    report(&results)
}

/// `cargo fmt --check` of the three workspaces, the README's browser
/// commands checked against those the test command runs, and the relative
/// links of the README and the guide.
fn formatting() -> Result<(), String> {
    browser_suite::check_readme()?;
    crate::links::check()?;
    shell::run(cargo().args(["fmt", "--all", "--check"]))?;
    crate::examples::formatting()?;
    crate::package::formatting()
}

/// Every native target of the workspace built with clippy as the compiler of
/// its own crates (`-D warnings`): the lint of `cargo clippy --workspace
/// --all-targets --all-features`, without compiling every dependency a second
/// time just to check it. The tests build the test targets the same way.
fn native_build() -> Result<(), String> {
    shell::run(
        shell::cargo_linted()
            .args(["build", "--workspace", "--all-features"])
            .args(NOT_NATIVE),
    )
}

/// The crates that only make sense in a browser (the benchmark page and the
/// minimal apps, with gloo-net): linted for wasm32 ([`wasm32_lint`]), not
/// built natively.
const NOT_NATIVE: [&str; 6] = [
    "--exclude",
    "browser-websocket-bench",
    "--exclude",
    "size-this-crate",
    "--exclude",
    "size-gloo-net",
];

/// The native tests of every workspace member, with the doc examples.
fn native_tests() -> Result<Outcome, String> {
    run_counted(
        shell::cargo_linted()
            .args(["test", "--workspace", "--all-features"])
            .args(NOT_NATIVE),
        "native",
        &mut Log::Stdout,
    )
}

/// What the browsers' later steps wait for: the threaded suite, and the pages
/// and driver of the end-to-end tests. Each is set once by the build thread.
#[derive(Default)]
struct Later {
    threaded: Gate<Option<Arc<crate::threaded::Suite>>>,
    end_to_end: Gate<bool>,
}

/// A value that threads wait for until another sets it.
struct Gate<T> {
    value: Mutex<Option<T>>,
    set: Condvar,
}

impl<T> Default for Gate<T> {
    fn default() -> Self {
        Self {
            value: Mutex::new(None),
            set: Condvar::new(),
        }
    }
}

impl<T> Gate<T> {
    fn open(&self, value: T) {
        if let Ok(mut slot) = self.value.lock() {
            *slot = Some(value);
        }
        self.set.notify_all();
    }

    /// Waits until the gate is open, then gives a copy of its value.
    fn wait(&self) -> Option<T>
    where
        T: Clone,
    {
        let mut slot = self.value.lock().ok()?;
        while slot.is_none() {
            slot = self.set.wait(slot).ok()?;
        }
        slot.clone()
    }
}

/// The build thread: the threaded suite, then what the end-to-end tests load,
/// then the packaging checks, opening each gate as soon as it can (also on
/// failure, so that no browser waits for ever).
fn later_builds(origin: &str, later: &Later) -> Result<Run, String> {
    // Its output goes straight through: the browsers' go to their logs.
    let mut run = Run {
        outcomes: Vec::new(),
        timings: Vec::new(),
        log: Log::Stdout,
    };
    let started = Instant::now();
    let threaded = crate::threaded::build(origin, &mut run.log);
    let suite = match &threaded {
        Ok(built) if built.succeeded() => crate::threaded::Suite::start(origin).ok().map(Arc::new),
        _ => None,
    };
    later.threaded.open(suite);
    run.step(
        "threaded build",
        threaded.map(|outcome| vec![outcome]),
        started,
    );

    let started = Instant::now();
    let built = build_end_to_end();
    later.end_to_end.open(built.is_ok());
    run.step(
        "demo, examples and e2e driver build",
        built.map(|()| Vec::new()),
        started,
    );

    let started = Instant::now();
    let packaged = crate::package::checks();
    run.step("packaging", packaged.map(|()| Vec::new()), started);
    Ok(run)
}

/// The demo page, the examples (linted as they build) and the end-to-end driver.
fn build_end_to_end() -> Result<(), String> {
    crate::build_demo()?;
    crate::examples::build()?;
    shell::run(shell::cargo_linted().args(["build", "-p", "browser-websocket-e2e"]))
}

/// One browser's share of the browser phase, on a thread of its own beside
/// the others': its browser suite (against the servers on the README's
/// ports), its threaded suite, then the end-to-end runs of the demo and the
/// examples against a test server of its own (they restart their server).
fn engine(browser: &str, later: &Later) -> Result<Run, String> {
    let mut run = Run::new(browser)?;
    let started = Instant::now();
    let suite = browser_suite::run(browser, Soak::Full, &mut run.log);
    run.step(
        &format!("{browser} browser suite"),
        suite.map(|o| vec![o]),
        started,
    );

    let started = Instant::now();
    if let Some(Some(suite)) = later.threaded.wait() {
        let outcome = suite.run(browser, &mut run.log);
        run.step(
            &format!("{browser} threaded"),
            outcome.map(|o| vec![o]),
            started,
        );
    }

    let started = Instant::now();
    if later.end_to_end.wait() == Some(true) {
        let outcomes = end_to_end(browser, &mut run.log);
        run.step(&format!("{browser} e2e"), outcomes, started);
    }
    Ok(run)
}

/// The end-to-end runs in `browser`, against a test server of their own: the
/// demo page, then each example.
fn end_to_end(browser: &str, log: &mut Log) -> Result<Vec<Outcome>, String> {
    let server = TestServer::spawn(&crate::servers::server_binary(Build::Debug), 0)?;
    let page_origin = server.page_origin();
    let e2e = shell::root().join("target/debug/browser-websocket-e2e");
    let mut demo = browser_command(browser, &e2e);
    demo.args(["--browser", browser, "--page", &format!("{page_origin}/")])
        .args(["--out", "target/e2e"]);
    let mut runs = vec![(demo, format!("{browser} demo e2e"))];
    runs.extend(crate::examples::end_to_end(browser, &page_origin));
    runs.into_iter()
        .map(|(mut command, name)| run_counted(&mut command, &name, log))
        .collect()
}

/// What a thread of the browser phase ran: outcomes, how long each step took,
/// and its log, printed when every thread is done.
struct Run {
    outcomes: Vec<Outcome>,
    timings: Vec<(String, Duration)>,
    log: Log,
}

impl Run {
    /// A run whose output goes to `target/xtask/NAME.log` (emptied first).
    fn new(name: &str) -> Result<Self, String> {
        let dir = shell::root().join("target/xtask");
        let path = dir.join(format!("{name}.log"));
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, ""))
            .map_err(|error| format!("{}: {error}", path.display()))?;
        Ok(Self {
            outcomes: Vec::new(),
            timings: Vec::new(),
            log: Log::File(path),
        })
    }

    /// Records a step that began at `started`: its outcomes, or a failed
    /// outcome named after it if it could not run.
    fn step(&mut self, name: &str, outcomes: Result<Vec<Outcome>, String>, started: Instant) {
        let took = started.elapsed();
        let outcomes = outcomes.unwrap_or_else(|error| vec![Outcome::failed_to_run(name, &error)]);
        let passed: u32 = outcomes.iter().map(Outcome::passed).sum();
        let failed: u32 = outcomes.iter().map(Outcome::failed).sum();
        let verdict = if outcomes.iter().all(Outcome::succeeded) {
            "ok"
        } else {
            "FAILED"
        };
        println!(
            "{name}: {verdict}, {passed} passed, {failed} failed, {:.1} s",
            took.as_secs_f64()
        );
        self.timings.push((name.to_owned(), took));
        self.outcomes.extend(outcomes);
    }
}

fn print_log(log: &Log) {
    if let Log::File(path) = log {
        println!("\n----- {} -----", path.display());
        match std::fs::read_to_string(path) {
            Ok(text) => println!("{text}"),
            Err(error) => println!("(cannot read it: {error})"),
        }
    }
}

/// The browsers of `[--browsers chrome,firefox,webkit]` (all when not given).
pub fn browsers_from(args: &[String], command: &str) -> Result<Vec<String>, String> {
    let browsers: Vec<String> = match args {
        [] => BROWSERS.iter().map(|b| (*b).to_owned()).collect(),
        [flag, list] if flag == "--browsers" => list.split(',').map(str::to_owned).collect(),
        _ if command == "test" => return Err(USAGE.to_owned()),
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

/// clippy (`-D warnings`) for wasm32 of what no test build lints: the demo,
/// the benchmarks and the minimal apps, every target and feature. (The library
/// and its tests are linted for wasm32 as the browser suites build them.)
fn wasm32_lint() -> Result<(), String> {
    shell::run(cargo().args([
        "clippy",
        "--target",
        "wasm32-unknown-unknown",
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
    /// A suite that could not even start, counted as one failure.
    pub fn failed_to_run(name: &str, error: &str) -> Self {
        println!("{name}: {error}");
        Self {
            name: name.to_owned(),
            passed: 0,
            failed: 1,
            succeeded: false,
        }
    }

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

/// Where a suite's output goes: through to ours, or (for the browsers
/// running side by side) to a log of its own, printed when the browser is done.
pub enum Log {
    Stdout,
    File(PathBuf),
}

/// Runs a test command, its output into `log`, adding up its `test result:`
/// lines.
pub fn run_counted(command: &mut Command, name: &str, log: &mut Log) -> Result<Outcome, String> {
    let mut outcome = Outcome {
        name: name.to_owned(),
        passed: 0,
        failed: 0,
        succeeded: false,
    };
    let mut count = |line: &str| {
        if let Some((passed, failed)) = parse_result_line(line) {
            outcome.passed += passed;
            outcome.failed += failed;
        }
    };
    let status = match log {
        Log::Stdout => {
            println!("\n==> {name} tests\n$ {command:?}");
            let mut child = command
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|error| format!("cannot start {name} tests: {error}"))?;
            if let Some(stdout) = child.stdout.take() {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    println!("{line}");
                    count(&line);
                }
            }
            child.wait().map_err(|error| error.to_string())?
        }
        Log::File(path) => {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&*path)
                .map_err(|error| format!("{}: {error}", path.display()))?;
            let start = file.metadata().map(|m| m.len()).unwrap_or(0);
            writeln!(file, "\n==> {name} tests\n$ {command:?}").map_err(|e| e.to_string())?;
            let errors = file.try_clone().map_err(|error| error.to_string())?;
            let status = command
                .stdout(file)
                .stderr(errors)
                .status()
                .map_err(|error| format!("cannot start {name} tests: {error}"))?;
            let text = std::fs::read(&*path).map_err(|error| error.to_string())?;
            let written = text.get(start as usize..).unwrap_or_default();
            String::from_utf8_lossy(written)
                .lines()
                .for_each(&mut count);
            status
        }
    };
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
