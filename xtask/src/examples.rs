//! The examples (`examples/`): a workspace of their own, with its own
//! `Cargo.lock`, so that the main workspace's native checks never compile a UI
//! framework. Checked and built for wasm32 into the main workspace's `target/`
//! (their locks agree on the crates both use, so those build once), then
//! bundled with `wasm-bindgen --target web` into `www/examples/DIR/`, where the
//! test server serves them to the end-to-end test.

use std::path::PathBuf;
use std::process::Command;

use crate::shell;

/// Each example's directory under `examples/` and its package (and binary) name.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("plain", "plain-chat"),
    ("leptos-chat", "leptos-chat"),
    ("yew-chat", "yew-chat"),
    ("dioxus-chat", "dioxus-chat"),
];

const WASM: &str = "wasm32-unknown-unknown";

/// `cargo fmt --check`.
pub fn formatting() -> Result<(), String> {
    shell::run(cargo().args(["fmt", "--all", "--check"]))
}

/// A debug build for wasm32, linted as it builds (clippy as the compiler of
/// the examples' own crates, `-D warnings`); then each example's page and
/// `pkg/` into `www/examples/DIR/`.
pub fn build() -> Result<(), String> {
    // Debug: the release build takes longer, and the end-to-end test does not
    // need it.
    let mut build = shell::cargo_linted();
    build
        .current_dir(shell::root().join("examples"))
        .env("CARGO_TARGET_DIR", target_dir())
        .args(["build", "--workspace", "--target", WASM]);
    shell::run(&mut build)?;
    for (dir, package) in EXAMPLES {
        let page = shell::root().join("www/examples").join(dir);
        std::fs::create_dir_all(&page).map_err(|error| format!("{}: {error}", page.display()))?;
        let index = shell::root().join("examples").join(dir).join("index.html");
        std::fs::copy(&index, page.join("index.html"))
            .map_err(|error| format!("{}: {error}", index.display()))?;
        let wasm = target_dir().join(format!("{WASM}/debug/{package}.wasm"));
        shell::run(
            shell::command("wasm-bindgen")
                .args(["--target", "web", "--no-typescript", "--out-dir"])
                .arg(page.join("pkg"))
                .arg(wasm),
        )?;
    }
    Ok(())
}

/// The end-to-end test of each example in `browser`, as commands with their
/// suite names: `test` runs them as it runs the demo's.
pub fn end_to_end(browser: &str, page_origin: &str) -> Vec<(Command, String)> {
    let e2e = shell::root().join("target/debug/browser-websocket-e2e");
    let mut runs = Vec::new();
    {
        for (dir, _) in EXAMPLES {
            let mut command = crate::test::browser_command(browser, &e2e);
            command
                .args(["example", "--browser", browser, "--page"])
                .arg(format!("{page_origin}/examples/{dir}/"))
                .args(["--out", "target/e2e"]);
            runs.push((command, format!("{browser} {dir} e2e")));
        }
    }
    runs
}

fn target_dir() -> PathBuf {
    shell::root().join("target")
}

/// `cargo` in `examples/`, building into the main workspace's `target/`.
fn cargo() -> Command {
    let mut command = shell::cargo();
    command
        .current_dir(shell::root().join("examples"))
        .env("CARGO_TARGET_DIR", target_dir());
    command
}
