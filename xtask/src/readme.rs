//! The README's `wasm-pack test` commands, run as a user runs them from a
//! fresh clone: the test server on port 9001 and the conformance server on
//! 9004 (where the tests look when not told otherwise), no test variables, the timeouts from
//! `.cargo/config.toml`, `wasm-pack test --headless --chrome`, and WebKit's
//! equivalent: `wasm-pack test --headless --safari`, which looks for a
//! `safaridriver` on `PATH`, given WebKitWebDriver under that name, under
//! xvfb-run.

use std::process::Command;

use crate::shell;
use crate::test::{run_counted, Outcome, TestServer};

/// The port the README starts the server on.
const PORT: u16 = 9001;

/// The port the README starts the conformance server (pywebsocket3) on.
const CONFORMANCE_PORT: u16 = 9004;

/// What the tests read at compile time; a user running the README's command
/// has none of them.
const TEST_VARIABLES: &[&str] = &[
    "WS_TEST_SERVER",
    "WS_TEST_REFUSED_PORT",
    "WS_CONFORMANCE_SERVER",
    "WS_SOAK_SOCKETS",
    "BROWSER_WEBSOCKET_SOAK",
    "WASM_BINDGEN_TEST_TIMEOUT",
    "WASM_BINDGEN_TEST_DRIVER_TIMEOUT",
    "CHROMEDRIVER",
    "GECKODRIVER",
    "SAFARIDRIVER",
];

/// Runs the README's command in each of `browsers` it documents (Chrome and
/// WebKit; Firefox's differs only in the flag).
pub fn suites(browsers: &[String]) -> Result<Vec<Outcome>, String> {
    let wanted: Vec<&str> = ["chrome", "webkit"]
        .into_iter()
        .filter(|b| browsers.iter().any(|x| x == b))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let server = TestServer::start_on(PORT)?;
    let python = crate::setup::conformance_venv()?;
    let conformance = crate::conformance::ConformanceServer::start_on(&python, CONFORMANCE_PORT)?;
    let mut results = Vec::new();
    for browser in wanted {
        let mut command = wasm_pack(browser)?;
        results.push(run_counted(
            &mut command,
            &format!("{browser} wasm-pack (README)"),
        )?);
    }
    drop((server, conformance));
    Ok(results)
}

fn wasm_pack(browser: &str) -> Result<Command, String> {
    let mut command = if browser == "webkit" {
        // wasm-pack finds the driver by the name `safaridriver` on PATH.
        let dir = shell::root().join("target/xtask/safaridriver");
        std::fs::create_dir_all(&dir).map_err(|error| error.to_string())?;
        let link = dir.join("safaridriver");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("/usr/bin/WebKitWebDriver", &link)
            .map_err(|error| format!("cannot link {}: {error}", link.display()))?;
        let mut dirs = vec![dir];
        dirs.extend(std::env::split_paths(&shell::path_with_cargo_bin()));
        let mut command = shell::command("xvfb-run");
        command
            .args(["-a", "--server-args=-screen 0 1280x1024x24"])
            .args(["wasm-pack", "test", "--headless", "--safari"])
            .env(
                "PATH",
                std::env::join_paths(dirs).map_err(|error| error.to_string())?,
            );
        command
    } else {
        let mut command = shell::command("wasm-pack");
        command.args(["test", "--headless", "--chrome"]);
        command
    };
    for variable in TEST_VARIABLES {
        command.env_remove(variable);
    }
    if browser == "chrome" {
        command.env("CHROMEDRIVER", "/usr/bin/chromedriver");
    }
    Ok(command)
}
