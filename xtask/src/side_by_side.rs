//! The browser phase of `cargo xtask test`: the browsers side by side, each
//! on a thread of its own, with one more thread building what only their
//! later steps need; and `cargo xtask repeat N`, the same phase N times in a
//! row, the evidence that they can share the machine.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::browser_suite::{self, Soak};
use crate::servers::{Build, ReadmeServers, TestServer};
use crate::test::{browser_command, browsers_from, run_counted, Log, Outcome};
use crate::{setup, shell};

/// What the browsers' later steps wait for: the threaded suite, and the pages
/// and driver of the end-to-end tests. Each is set once by the build thread.
#[derive(Default)]
pub struct Later {
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

/// The threaded suite's build, for the test server on the README's port,
/// opening its gate when done (also on failure, so that no browser waits for
/// ever); then the guide's index of public items made again (from rustdoc's
/// JSON, on the same nightly) and compared. Both have a toolchain and a target
/// directory of their own, so they run beside the main workspace's builds;
/// the build's output goes to `target/xtask/threaded-build.log`, printed at
/// the end.
pub fn threaded_build(later: &Later) -> Result<Run, String> {
    let mut run = Run::new("threaded-build").inspect_err(|_| later.threaded.open(None))?;
    let started = Instant::now();
    let threaded = crate::threaded::build(&crate::servers::readme_test_origin(), &mut run.log);
    // A built suite that cannot start (no wasm found, no proxy) is a failure
    // of the build step, not a suite silently left out.
    let (suite, threaded) = match threaded {
        Ok(built) if built.succeeded() => match crate::threaded::Suite::start() {
            Ok(suite) => (Some(Arc::new(suite)), Ok(built)),
            Err(error) => (None, Err(error)),
        },
        other => (None, other),
    };
    later.threaded.open(suite);
    run.step(
        "threaded build (beside the native tests)",
        threaded.map(|outcome| vec![outcome]),
        started,
    );
    let started = Instant::now();
    let name = "the guide's index of public items";
    let index = Outcome::check(name, crate::api_index::check());
    run.step(name, Ok(vec![index]), started);
    Ok(run)
}

/// The build thread of the browser phase: what the end-to-end tests load,
/// opening their gate as soon as it can (also on failure), then the
/// packaging checks and the minimal app's size budget.
pub fn later_builds(later: &Later) -> Result<Run, String> {
    // Its output goes straight through: the browsers' go to their logs.
    let mut run = Run {
        outcomes: Vec::new(),
        timings: Vec::new(),
        log: Log::Stdout,
    };
    let started = Instant::now();
    let built = build_end_to_end();
    later.end_to_end.open(built.is_ok());
    run.step(
        "demo and examples build",
        built.map(|()| Vec::new()),
        started,
    );

    let started = Instant::now();
    let packaged = crate::package::checks();
    run.step("packaging", packaged.map(|()| Vec::new()), started);

    let started = Instant::now();
    let name = "the minimal app's size budget";
    let budget = Outcome::check(name, crate::bench::size_budget());
    run.step(name, Ok(vec![budget]), started);
    Ok(run)
}

/// The demo page and the examples (linted as they build). The end-to-end
/// driver comes from the native build of the workspace, which every caller
/// has run before (the test command's native build, or the test server's
/// build in `repeat`).
fn build_end_to_end() -> Result<(), String> {
    crate::build_demo()?;
    crate::examples::build()
}

/// One browser's share of the browser phase, on a thread of its own beside
/// the others': its browser suite (against the servers on the README's
/// ports), the end-to-end runs of the demo and the examples against a test
/// server of its own (they restart their server), then its threaded suite
/// (built by then: it started before the browsers did).
fn engine(browser: &str, later: &Later) -> Result<Run, String> {
    let mut run = Run::new(browser)?;
    let started = Instant::now();
    let suite = browser_suite::run(browser, Soak::Full, &mut run.log);
    run.step(
        &format!("{browser} browser suite"),
        suite.map(|o| vec![o]),
        started,
    );

    // Each step's time includes its wait for the gate: the row says when
    // the browser was done with it, not only how long it ran.
    let started = Instant::now();
    if later.end_to_end.wait() == Some(true) {
        let outcomes = end_to_end(browser, &mut run.log);
        run.step(&format!("{browser} e2e"), outcomes, started);
    }

    let started = Instant::now();
    if let Some(Some(suite)) = later.threaded.wait() {
        let outcome = suite.run(browser, &mut run.log);
        run.step(
            &format!("{browser} threaded"),
            outcome.map(|o| vec![o]),
            started,
        );
    }
    Ok(run)
}

/// The end-to-end runs in `browser`, against a test server of their own: the
/// demo page, then each example.
fn end_to_end(browser: &str, log: &mut Log) -> Result<Vec<Outcome>, String> {
    let server = TestServer::spawn(&crate::servers::server_binary(Build::Debug), 0)?;
    let page_origin = server.page_origin();
    let demo = demo_end_to_end(browser, &page_origin);
    let mut runs = vec![(demo, format!("{browser} demo e2e"))];
    runs.extend(crate::examples::end_to_end(browser, &page_origin));
    runs.into_iter()
        .map(|(mut command, name)| run_counted(&mut command, &name, log))
        .collect()
}

/// The demo page's end-to-end test in `browser`, against the test server
/// whose pages are at `page_origin`.
pub fn demo_end_to_end(browser: &str, page_origin: &str) -> std::process::Command {
    let e2e = shell::root().join("target/debug/browser-websocket-e2e");
    let mut demo = browser_command(browser, &e2e);
    demo.args(["--browser", browser, "--page", &format!("{page_origin}/")])
        .args(["--out", "target/e2e"]);
    demo
}

/// What a thread of the browser phase ran: outcomes, how long each step took,
/// and its log, printed when every thread is done.
pub struct Run {
    pub outcomes: Vec<Outcome>,
    pub timings: Vec<(String, Duration)>,
    pub log: Log,
}

impl Run {
    /// A run whose output goes to `target/xtask/NAME.log` (emptied first).
    pub fn new(name: &str) -> Result<Self, String> {
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

pub fn print_log(log: &Log) {
    if let Log::File(path) = log {
        println!("\n----- {} -----", path.display());
        match std::fs::read_to_string(path) {
            Ok(text) => println!("{text}"),
            Err(error) => println!("(cannot read it: {error})"),
        }
    }
}

/// Each browser on a thread of its own (see [`engine`]), and `beside` on one
/// more; returns what `beside` gave (`Err` if its thread panicked) and each
/// browser's run, in the order of `browsers`.
pub fn side_by_side<T: Send>(
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
    let threaded = threaded_build(&later)?;
    print_log(&threaded.log);
    let builds = later_builds(&later)?;
    if threaded
        .outcomes
        .iter()
        .chain(&builds.outcomes)
        .any(|outcome| !outcome.succeeded())
    {
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
