//! `cargo xtask test`: every check and test, each suite once, failing fast on
//! the static checks and running every browser even when one fails; a table
//! of where the time went at the end. `--quick`: the contributors' loop.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
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

/// Every check and test, each once.
fn everything(browsers: &[String], phases: &mut Phases) -> Result<(), String> {
    phases.run("install", setup::everything)?;
    phases.run("lint", || {
        static_checks()?;
        crate::examples::lint()
    })?;
    phases.run("packaging", crate::package::checks)?;
    let mut results = vec![phases.run("native", native_tests)?];
    phases.run("build for the browsers", build_for_browsers)?;
    let servers = phases.run("servers", ReadmeServers::start)?;
    let threaded_build = phases.run("threaded build", || {
        crate::threaded::build(&servers.test.origin)
    })?;
    let threaded_ok = threaded_build.succeeded();
    results.push(threaded_build);
    let threaded = threaded_ok
        .then(|| crate::threaded::Suite::start(&servers.test.origin))
        .transpose()?;
    let runs = phases.run("browsers, side by side", || {
        std::thread::scope(|scope| {
            let running: Vec<_> = browsers
                .iter()
                .map(|browser| (browser, scope.spawn(|| engine(browser, threaded.as_ref()))))
                .collect();
            running
                .into_iter()
                .map(|(browser, thread)| {
                    thread
                        .join()
                        .unwrap_or_else(|_| Err(format!("{browser}'s thread stopped")))
                })
                .collect::<Vec<_>>()
        })
    });
    drop(servers);
    for run in runs {
        let run = run?;
        print_log(&run.log);
        for (name, took) in &run.timings {
            phases.record(&format!("  {name}"), *took);
        }
        results.extend(run.outcomes);
    }
    report(&results)
}

/// The demo, the examples, the end-to-end driver, the test server and the
/// browser tests: everything the browsers load, built before any of them runs.
fn build_for_browsers() -> Result<(), String> {
    crate::servers::build_server(Build::Debug)?;
    crate::build_demo()?;
    crate::examples::build()?;
    shell::run(cargo().args(["build", "-p", "browser-websocket-e2e"]))?;
    browser_suite::build(Soak::Full)
}

/// What one browser ran in the browser phase: its suites' outcomes, how long
/// each step took, and where its output went.
struct EngineRun {
    outcomes: Vec<Outcome>,
    timings: Vec<(String, Duration)>,
    log: PathBuf,
}

/// One browser's share of the browser phase, on a thread of its own beside
/// the others': its browser suite (against the servers on the README's
/// ports), its threaded suite, then the end-to-end runs of the demo and the
/// examples against a test server of its own (they restart their server).
fn engine(browser: &str, threaded: Option<&crate::threaded::Suite>) -> Result<EngineRun, String> {
    let path = shell::root().join(format!("target/xtask/{browser}.log"));
    std::fs::create_dir_all(shell::root().join("target/xtask")).map_err(|e| e.to_string())?;
    std::fs::write(&path, "").map_err(|error| format!("{}: {error}", path.display()))?;
    let mut log = Log::File(path.clone());
    let mut run = EngineRun {
        outcomes: Vec::new(),
        timings: Vec::new(),
        log: path,
    };
    let mut step = |name: String, outcomes: Result<Vec<Outcome>, String>, started: Instant| {
        let took = started.elapsed();
        let outcomes = outcomes?;
        let passed: u32 = outcomes.iter().map(Outcome::passed).sum();
        let failed: u32 = outcomes.iter().map(Outcome::failed).sum();
        println!(
            "{name}: {passed} passed, {failed} failed, {:.1} s",
            took.as_secs_f64()
        );
        run.timings.push((name, took));
        run.outcomes.extend(outcomes);
        Ok::<(), String>(())
    };
    let started = Instant::now();
    let suite = browser_suite::run(browser, Soak::Full, &mut log).map(|outcome| vec![outcome]);
    step(format!("{browser} browser suite"), suite, started)?;
    if let Some(threaded) = threaded {
        let started = Instant::now();
        let outcome = threaded.run(browser, &mut log).map(|outcome| vec![outcome]);
        step(format!("{browser} threaded"), outcome, started)?;
    }
    let started = Instant::now();
    let server = TestServer::spawn(&crate::servers::server_binary(Build::Debug), 0)?;
    let mut outcomes = Vec::new();
    for (mut command, name) in end_to_end(browser, &server.page_origin()) {
        outcomes.push(run_counted(&mut command, &name, &mut log)?);
    }
    drop(server);
    step(format!("{browser} e2e"), Ok(outcomes), started)?;
    Ok(run)
}

fn print_log(path: &std::path::Path) {
    println!("\n----- {} -----", path.display());
    match std::fs::read_to_string(path) {
        Ok(text) => println!("{text}"),
        Err(error) => println!("(cannot read it: {error})"),
    }
}

/// fmt, clippy, the native tests and one engine's browser suite (Chrome
/// unless `--browsers` says otherwise).
fn quick_loop(browsers: &[String], phases: &mut Phases) -> Result<(), String> {
    phases.run("install", setup::for_quick_loop)?;
    phases.run("lint", static_checks)?;
    let mut results = vec![phases.run("native", native_tests)?];
    phases.run("build for the browsers", || {
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

/// The native tests of every workspace member, with the doc examples.
fn native_tests() -> Result<Outcome, String> {
    run_counted(
        cargo().args(["test", "--workspace", "--all-features"]),
        "native",
        &mut Log::Stdout,
    )
}

/// The end-to-end runs in `browser`: the demo page, then each example.
fn end_to_end(browser: &str, page_origin: &str) -> Vec<(Command, String)> {
    let e2e = shell::root().join("target/debug/browser-websocket-e2e");
    let mut demo = browser_command(browser, &e2e);
    demo.args(["--browser", browser, "--page", &format!("{page_origin}/")])
        .args(["--out", "target/e2e"]);
    let mut runs = vec![(demo, format!("{browser} demo e2e"))];
    runs.extend(crate::examples::end_to_end(browser, page_origin));
    runs
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

fn static_checks() -> Result<(), String> {
    browser_suite::check_readme()?;
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
