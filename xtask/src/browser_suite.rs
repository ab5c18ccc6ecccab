//! The browser suites, run through the README's own `wasm-pack test` commands,
//! as a user runs them from a fresh clone: the servers on the README's ports
//! (see [`crate::servers`]), the timeouts from `.cargo/config.toml`, and no
//! test variables but two the README names: the full soak (see [`Soak`]) and
//! clippy as the compiler of the crate's own code (the build is the wasm32
//! lint too). The commands are kept here and checked to be in the README word
//! for word, so the README says what runs.
//!
//! The test binaries are built once, before any engine runs (the same
//! `cargo build --tests` that `wasm-pack test` starts with, which then finds
//! them up to date): every engine runs the same build.

use std::process::Command;

use crate::shell;
use crate::test::{run_counted, Log, Outcome};

/// Each engine's command, as the README writes it. `--test '*'`: the test
/// binaries (the doc examples run natively, under `cargo test`).
pub const COMMANDS: &[(&str, &str)] = &[
    (
        "chrome",
        "wasm-pack test --headless --chrome -- --all-features --test '*'",
    ),
    (
        "firefox",
        "wasm-pack test --headless --firefox -- --all-features --test '*'",
    ),
    (
        "webkit",
        "xvfb-run -a --server-args=\"-screen 0 1280x1024x24\" wasm-pack test --headless \
         --safari --safaridriver /usr/bin/WebKitWebDriver -- --all-features --test '*'",
    ),
];

/// What the tests read at compile time, or the runner at run time; a user
/// running the README's commands has none of them.
const TEST_VARIABLES: &[&str] = &[
    "WS_TEST_SERVER",
    "WS_TEST_REFUSED_PORT",
    "WS_CONFORMANCE_SERVER",
    "WS_RPC_SERVER",
    "WS_GRAPHQL_SERVER",
    "WS_SOAK_SOCKETS",
    "WASM_BINDGEN_TEST_TIMEOUT",
    "WASM_BINDGEN_TEST_DRIVER_TIMEOUT",
    "CHROMEDRIVER",
    "GECKODRIVER",
    "SAFARIDRIVER",
];

/// How long the soak test runs: the full test command sets
/// `BROWSER_WEBSOCKET_SOAK=1`, as the README says (10,000 sockets, about two
/// minutes an engine); the quick loop leaves it out (200 sockets).
#[derive(Clone, Copy)]
pub enum Soak {
    Full,
    Short,
}

/// The README command of `browser`, as written there.
pub fn command_line(browser: &str) -> Result<&'static str, String> {
    COMMANDS
        .iter()
        .find(|(name, _)| *name == browser)
        .map(|(_, line)| *line)
        .ok_or_else(|| format!("no browser command for {browser:?}"))
}

/// Fails unless the README holds every engine's command word for word.
pub fn check_readme() -> Result<(), String> {
    let path = shell::root().join("README.md");
    let readme = std::fs::read_to_string(&path).map_err(|error| format!("README.md: {error}"))?;
    match COMMANDS.iter().find(|(_, line)| !readme.contains(line)) {
        Some((browser, line)) => Err(format!(
            "README.md must show the {browser} command the test command runs:\n  {line}"
        )),
        None => Ok(()),
    }
}

/// Builds the test binaries for wasm32 as `wasm-pack test` does first, with
/// clippy as the compiler of the crate's own code (`-D warnings`): the build
/// is also the library's and its tests' wasm32 lint. The README commands then
/// run with the same compiler, so they find the build up to date.
pub fn build(soak: Soak) -> Result<(), String> {
    let mut cargo = shell::cargo_linted();
    cargo
        .args(["build", "--tests", "--all-features", "--test", "*"])
        .env("CARGO_BUILD_TARGET", "wasm32-unknown-unknown");
    clean_environment(&mut cargo, soak);
    shell::run(&mut cargo)
}

/// Runs `browser`'s README command against the servers on the README's
/// ports, its output into `log`.
pub fn run(browser: &str, soak: Soak, log: &mut Log) -> Result<Outcome, String> {
    let words = shell_words(command_line(browser)?);
    let (program, args) = words.split_first().ok_or("an empty browser command")?;
    let mut command = shell::command(program);
    command.args(args);
    clean_environment(&mut command, soak);
    shell::clippy_as_compiler(&mut command);
    run_counted(&mut command, &format!("{browser} browser"), log)
}

/// Some of the browser tests in `browser`, against the servers on the README's
/// ports, with the short soak: `cargo test` for wasm32 with the test runner
/// (`wasm-pack test` passes a test-name filter on to the build, which refuses
/// it), `selection` being its arguments (e.g. `--test browser -- page_life::`).
/// What `cargo xtask figures` runs; the same build as the README's commands.
pub fn run_selected(browser: &str, selection: &[&str], log: &mut Log) -> Result<Outcome, String> {
    let mut command = crate::test::browser_command(browser, std::path::Path::new("cargo"));
    command
        .args([
            "test",
            "--target",
            "wasm32-unknown-unknown",
            "--all-features",
        ])
        .args(selection);
    clean_environment(&mut command, Soak::Short);
    command.env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
        "wasm-bindgen-test-runner",
    );
    crate::test::use_driver(&mut command, browser);
    shell::clippy_as_compiler(&mut command);
    run_counted(
        &mut command,
        &format!("{browser} {}", selection.join(" ")),
        log,
    )
}

fn clean_environment(command: &mut Command, soak: Soak) {
    for variable in TEST_VARIABLES {
        command.env_remove(variable);
    }
    match soak {
        Soak::Full => command.env("BROWSER_WEBSOCKET_SOAK", "1"),
        Soak::Short => command.env_remove("BROWSER_WEBSOCKET_SOAK"),
    };
}

/// Splits a command line as the shell would for these commands: on spaces,
/// with '...' and "..." quoting.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, ' ') => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

#[cfg(test)]
mod tests {
    use super::shell_words;

    #[test]
    fn splits_a_command_line_as_the_shell_does() {
        assert_eq!(
            shell_words("xvfb-run -a --server-args=\"-screen 0 1x1x24\" wasm-pack --test '*'"),
            [
                "xvfb-run",
                "-a",
                "--server-args=-screen 0 1x1x24",
                "wasm-pack",
                "--test",
                "*"
            ]
        );
    }
}
