//! `cargo xtask`: the project's commands.
//!
//! - `cargo xtask test`: installs what is missing, then runs every check and test
//!   once: formatting, clippy (native and wasm32), the packaging checks, native
//!   tests, the examples (`examples/`, built for wasm32), the browser suites
//!   (the README's `wasm-pack test` commands) and end-to-end tests in Chrome,
//!   Firefox and WebKit against the servers it starts and stops, and the
//!   threaded suite (shared wasm memory) in each browser; then a table of the
//!   time each phase took. `--quick`: fmt, clippy, native tests and Chrome's
//!   browser suite.
//! - `cargo xtask demo [--port N]`: builds the demo page (and `/bench`) and serves it.
//! - `cargo xtask bench`: the benchmarks in Chrome, Firefox and WebKit, and the
//!   wasm size of a minimal app, into `target/bench/`.
//! - `cargo xtask package`: `cargo publish --dry-run` of the library for wasm32.
//! - `cargo xtask resolution`: an app pinning another wasm-bindgen compiles with
//!   the library (`tests/resolution`).
//! - `cargo xtask threaded [--browsers ...]`: only the threaded suite (shared
//!   wasm memory; part of `test`), against a test server it starts.
//! - `cargo xtask repeat N [--browsers ...]`: the browser phase of `test`
//!   (the browsers side by side), N times in a row: the evidence that they
//!   may share the machine.
//! - `cargo xtask setup`: only installs what is missing.

mod api_index;
mod bench;
mod browser_suite;
mod conformance;
mod examples;
mod figures;
mod links;
mod package;
mod phases;
mod proxy;
mod servers;
mod setup;
mod shell;
mod side_by_side;
mod test;
mod threaded;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run(&args[1..]),
        Some("demo") => demo(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("size") => bench::sizes_only(),
        Some("package") => package::publish_dry_run(),
        Some("resolution") => package::resolution(),
        Some("threaded") => threaded::run(&args[1..]),
        Some("repeat") => side_by_side::repeat(&args[1..]),
        Some("links") => links::check(),
        Some("guide") => guide(),
        Some("api-index") => api_index::write(),
        Some("figures") => figures::measure(&args[1..]),
        Some("setup") => setup::everything(),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nxtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <command>

commands:
  test [--browsers chrome,firefox,webkit]   every check and test (installs what is missing)
  test --quick [--browsers ...]             fmt, clippy, native tests, one engine's browser suite
  demo [--port N]                           build the demo page and serve it (default port 8080)
  bench [--browsers ...] [--scenarios ...]  benchmarks in each browser, and the wasm sizes
        [--rounds MAX] [--budget SECONDS]   (limits per scenario; default 300 rounds, 30 s)
        [--runs N]                          N whole runs, and how much each ratio varied
  size                                      only the wasm sizes of the minimal apps
  package                                   cargo publish --dry-run of the library, for wasm32
  resolution                                an app pinning another wasm-bindgen compiles with the library
  threaded [--browsers ...]                 only the threaded (shared memory) suite, part of `test`
  repeat N [--browsers ...]                 the browsers side by side, as `test` runs them, N times in a row
  links                                     check the README's and the guide's relative links
  guide                                     the guide's links, figures and index checked, built into target/guide
  api-index                                 write the guide's index of public items (guide/src/api-index.md)
  figures [--browsers ...]                  measure the guide's page-life, failover and large-message figures and write them
  setup                                     install what is missing, and nothing else";

/// Builds the demo page's wasm and JS glue into `www/pkg`.
pub fn build_demo() -> Result<(), String> {
    shell::run(
        shell::command("wasm-pack")
            .args([
                "build",
                "--target",
                "web",
                "--dev",
                "--out-dir",
                "pkg",
                "--no-typescript",
                "--no-pack",
            ])
            .current_dir(shell::root().join("www")),
    )
}

/// `cargo xtask guide`: what the test command checks of the guide, and the
/// book built into `target/guide` (open `target/guide/index.html`).
fn guide() -> Result<(), String> {
    setup::mdbook()?;
    threaded::install_toolchain()?;
    links::check()?;
    figures::check()?;
    api_index::check()?;
    test::build_guide()?;
    println!(
        "the guide: {}",
        shell::root().join("target/guide/index.html").display()
    );
    Ok(())
}

fn demo(args: &[String]) -> Result<(), String> {
    let port = match args {
        [] => "8080".to_owned(),
        [flag, port] if flag == "--port" => port.clone(),
        _ => return Err(USAGE.to_owned()),
    };
    setup::for_demo()?;
    let server = servers::build_server(servers::Build::Release)?;
    build_demo()?;
    bench::build_bench_page()?;
    let www = shell::root().join("www");
    println!("\nThe demo is at http://127.0.0.1:{port}/ (Ctrl-C stops it)\n");
    shell::run(
        std::process::Command::new(server)
            .args(["--port", &port, "--www"])
            .arg(www),
    )
}
