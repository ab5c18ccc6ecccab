//! `cargo xtask test`: every check and test, each suite once, failing fast on
//! the static checks and running every browser even when one fails; a table
//! of where the time went at the end. `--quick`: the contributors' loop.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::phases::Phases;
use crate::servers::ReadmeServers;
use crate::shell::{self, cargo};
use crate::{browser_suite, setup};

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
    phases.run("build for the browsers", || {
        crate::servers::build_server(crate::servers::Build::Debug)?;
        crate::build_demo()?;
        crate::examples::build()?;
        shell::run(cargo().args(["build", "-p", "browser-websocket-e2e"]))?;
        browser_suite::build()
    })?;
    let servers = phases.run("servers", ReadmeServers::start)?;
    for browser in browsers {
        results.push(phases.run(&format!("{browser} browser suite"), || {
            browser_suite::run(browser)
        })?);
    }
    results.extend(phases.run("threaded", || {
        crate::threaded::suites(browsers, &servers.test.origin)
    })?);
    phases.run("e2e", || -> Result<(), String> {
        for (mut command, name) in end_to_end(browsers, &servers.test.page_origin()) {
            results.push(run_counted(&mut command, &name)?);
        }
        Ok(())
    })?;
    drop(servers);
    report(&results)
}

/// fmt, clippy, the native tests and one engine's browser suite (Chrome
/// unless `--browsers` says otherwise).
fn quick_loop(browsers: &[String], phases: &mut Phases) -> Result<(), String> {
    phases.run("install", setup::for_quick_loop)?;
    phases.run("lint", static_checks)?;
    let mut results = vec![phases.run("native", native_tests)?];
    phases.run("build for the browsers", || {
        crate::servers::build_server(crate::servers::Build::Debug)?;
        browser_suite::build()
    })?;
    let servers = phases.run("servers", ReadmeServers::start)?;
    for browser in browsers {
        results.push(phases.run(&format!("{browser} browser suite"), || {
            browser_suite::run(browser)
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
    )
}

/// The end-to-end runs: the demo page and each example, in each browser.
fn end_to_end(browsers: &[String], page_origin: &str) -> Vec<(Command, String)> {
    let e2e = shell::root().join("target/debug/browser-websocket-e2e");
    let mut runs = Vec::new();
    for browser in browsers {
        let mut demo = browser_command(browser, &e2e);
        demo.args(["--browser", browser, "--page", &format!("{page_origin}/")])
            .args(["--out", "target/e2e"]);
        runs.push((demo, format!("{browser} demo e2e")));
    }
    runs.extend(crate::examples::end_to_end(browsers, page_origin));
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
