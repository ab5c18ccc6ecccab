//! `cargo xtask test`: every check and test, each suite once, failing fast on
//! the static checks and running every browser even when one fails; a table
//! of where the time went at the end. `--quick`: the contributors' loop.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::browser_suite::{self, Soak};
use crate::phases::Phases;
use crate::servers::ReadmeServers;
use crate::setup;
use crate::shell::{self, cargo};
use crate::side_by_side::{later_builds, print_log, side_by_side, threaded_build, Later, Run};

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
/// installs, formatting, the native build (linted as it builds, and giving
/// the servers' and the end-to-end driver's binaries). Then the threaded
/// suite's build (its own toolchain and target directory) starts on a thread
/// of its own, beside the native tests, clippy for wasm32 and the browser
/// suites' build. Then the browsers run side by side, each on a thread of its
/// own, while one more thread builds the demo and the examples for their
/// end-to-end tests and runs the packaging checks, in the time the browsers
/// spend waiting on sockets and timers.
fn everything(browsers: &[String], phases: &mut Phases) -> Result<(), String> {
    phases.run("install", setup::everything)?;
    checks_and_native_build(phases)?;
    let later = Later::default();
    let (threaded, rest) = std::thread::scope(|scope| {
        let threaded = scope.spawn(|| threaded_build(&later));
        let rest = browser_phase(browsers, phases, &later);
        (threaded.join(), rest)
    });
    let threaded =
        threaded.unwrap_or_else(|_| Err("the threaded build's thread stopped".to_owned()));
    let (native, runs) = rest?;
    let mut results = vec![native];
    for run in std::iter::once(threaded).chain(runs) {
        let run = run?;
        print_log(&run.log);
        for (name, took) in &run.timings {
            phases.record(&format!("  {name}"), *took);
        }
        results.extend(run.outcomes);
    }
    report(&results)
}

/// The native tests, the builds the browsers load and their servers (beside
/// the threaded build), then the browsers side by side with the build thread
/// of the demo, the examples and the packaging checks. Returns the native
/// tests' outcome, and the build thread's run followed by each browser's.
fn browser_phase(
    browsers: &[String],
    phases: &mut Phases,
    later: &Later,
) -> Result<(Outcome, Vec<Result<Run, String>>), String> {
    let (native, servers) = tests_and_browser_build(phases, Soak::Full)?;
    let (builds, engines) = phases.run("browsers side by side, and the later builds", || {
        side_by_side(browsers, later, || later_builds(later))
    });
    drop(servers);
    let builds = builds.unwrap_or_else(|_| Err("the build thread stopped".to_owned()));
    Ok((native, std::iter::once(builds).chain(engines).collect()))
}

/// fmt, clippy, the native tests and one engine's browser suite (Chrome
/// unless `--browsers` says otherwise), with the short soak.
fn quick_loop(browsers: &[String], phases: &mut Phases) -> Result<(), String> {
    phases.run("install", setup::for_quick_loop)?;
    checks_and_native_build(phases)?;
    let (native, servers) = tests_and_browser_build(phases, Soak::Short)?;
    let mut results = vec![native];
    for browser in browsers {
        results.push(phases.run(&format!("{browser} browser suite"), || {
            browser_suite::run(browser, Soak::Short, &mut Log::Stdout)
        })?);
    }
    drop(servers);
    report(&results)
}

/// What both the full run and the quick loop do first: formatting and links,
/// and the native build (linted).
fn checks_and_native_build(phases: &mut Phases) -> Result<(), String> {
    phases.run("format and links", formatting)?;
    phases.run("native build, linted", native_build)
}

/// What both the full run and the quick loop do next, before any browser
/// runs: the servers on the README's ports, the native tests, clippy for
/// wasm32, and the browser suites' build. Returns the native tests' outcome and
/// the running servers.
fn tests_and_browser_build(
    phases: &mut Phases,
    soak: Soak,
) -> Result<(Outcome, ReadmeServers), String> {
    // (The test server comes from the native build.) The native tests run
    // against the servers too: the native backend's scenarios are the
    // browser suite's.
    let servers = phases.run("servers", ReadmeServers::start)?;
    let native = phases.run("native tests", native_tests)?;
    phases.run("wasm32 lint", wasm32_lint)?;
    phases.run("build for the browser suites", || {
        browser_suite::build(soak)
    })?;
    Ok((native, servers))
}

/// `cargo fmt --check` of the three workspaces, the README's browser
/// commands checked against those the test command runs, the relative links
/// of the README and the guide, the guide's measured figures stamped by their
/// commands, and the guide built with mdBook (into `target/guide`). Its Rust
/// blocks are compiled with the native doc tests.
fn formatting() -> Result<(), String> {
    browser_suite::check_readme()?;
    crate::links::check()?;
    crate::figures::check()?;
    build_guide()?;
    shell::run(cargo().args(["fmt", "--all", "--check"]))?;
    crate::examples::formatting()?;
    crate::package::formatting()
}

/// Every native target of the workspace built with clippy as the compiler of
/// its own crates (`-D warnings`): the lint of `cargo clippy --workspace
/// --all-targets --all-features`, without compiling every dependency a second
/// time just to check it. The tests build the test targets the same way.
fn native_build() -> Result<(), String> {
    shell::run(&mut native_workspace_build())?;
    // Natively without the native backend (`default-features = false`):
    // the pure types, and typed errors for sockets.
    shell::run(shell::cargo_linted().args([
        "check",
        "-p",
        "browser-websocket",
        "--lib",
        "--no-default-features",
    ]))
}

/// `mdbook build guide`, into `target/guide`.
pub fn build_guide() -> Result<(), String> {
    shell::run(
        shell::command("mdbook")
            .arg("build")
            .arg(shell::root().join("guide"))
            .arg("--dest-dir")
            .arg(shell::root().join("target/guide")),
    )
}

/// The native build of the workspace, linted: also what gives the test
/// server's and the end-to-end driver's binaries. They are taken from this
/// build rather than built with `-p`, which unifies the features of their
/// dependencies differently and so compiles them again (44 s on 2 cores).
pub fn native_workspace_build() -> Command {
    let mut build = shell::cargo_linted();
    build
        .args(["build", "--workspace", "--all-features"])
        .args(NOT_NATIVE);
    build
}

/// The crates that only make sense in a browser (the benchmark page and the
/// minimal apps, with gloo-net): linted for wasm32 ([`wasm32_lint`]), not
/// built natively.
const NOT_NATIVE: [&str; 8] = [
    "--exclude",
    "browser-websocket-bench",
    "--exclude",
    "size-this-crate",
    "--exclude",
    "size-gloo-net",
    "--exclude",
    "size-reconnecting",
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
        "-p",
        "size-reconnecting",
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

    /// A check that is not a test suite (one passed, or one failed), e.g. the
    /// guide's index made again and compared.
    pub fn check(name: &str, result: Result<(), String>) -> Self {
        match result {
            Ok(()) => Self {
                name: name.to_owned(),
                passed: 1,
                failed: 0,
                succeeded: true,
            },
            Err(error) => Self::failed_to_run(name, &error),
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
