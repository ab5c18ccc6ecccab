//! The threaded suite (`tests/threaded.rs`): the library built for shared
//! wasm memory (`+atomics,+bulk-memory`, std rebuilt with `-Z build-std` on a
//! pinned nightly) and run in each browser on a cross-origin isolated page
//! (wasm-bindgen-test-runner sends COOP/COEP). One build, in its own target
//! directory, serves every browser: the same `cargo test` reuses it. Chrome
//! loads the page through [`Proxy`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::proxy::Proxy;
use crate::servers::{Build, TestServer};
use crate::shell::{self, command, output};
use crate::test::{run_counted, Outcome};

/// The nightly the threaded build uses: `-Z build-std` needs one, with
/// `rust-src`. Pinned so a run is reproducible; move it forward by hand.
pub const NIGHTLY: &str = "nightly-2026-05-20";

/// Shared memory, and what wasm-bindgen's thread support needs from the
/// linker: memory imported and shared (with a maximum), and the TLS symbols.
const RUSTFLAGS: &str = "-C target-feature=+atomics,+bulk-memory,+mutable-globals \
    -C link-arg=--shared-memory -C link-arg=--max-memory=1073741824 \
    -C link-arg=--import-memory -C link-arg=--export=__wasm_init_tls \
    -C link-arg=--export=__tls_size -C link-arg=--export=__tls_align \
    -C link-arg=--export=__tls_base";

/// Installs the pinned nightly with `rust-src` and the wasm32 target, unless
/// it is there (rustup adds only what is missing).
pub fn install_toolchain() -> Result<(), String> {
    let sysroot = output(command("rustup").args(["run", NIGHTLY, "rustc", "--print", "sysroot"]));
    if let Some(sysroot) = sysroot {
        let rustlib = std::path::Path::new(sysroot.trim()).join("lib/rustlib");
        if rustlib.join("src/rust/library/std").is_dir()
            && rustlib.join("wasm32-unknown-unknown").is_dir()
        {
            return Ok(());
        }
    }
    shell::run(command("rustup").args([
        "toolchain",
        "install",
        NIGHTLY,
        "--profile",
        "minimal",
        "--component",
        "rust-src",
        "--target",
        "wasm32-unknown-unknown",
    ]))
}

/// `cargo xtask threaded [--browsers ...]`: installs what it needs, starts
/// the test server, and runs only this suite.
pub fn run(args: &[String]) -> Result<(), String> {
    let browsers = crate::test::browsers_from(args, "threaded")?;
    crate::setup::for_bench()?;
    install_toolchain()?;
    let server = TestServer::start(Build::Debug)?;
    let results = suites(&browsers, &server.origin)?;
    drop(server);
    crate::test::report(&results)
}

/// Builds the suite once, then runs it in each browser; a failed build is one
/// failed suite.
pub fn suites(browsers: &[String], origin: &str) -> Result<Vec<Outcome>, String> {
    let built = build(origin, &mut crate::test::Log::Stdout)?;
    if !built.succeeded() {
        return Ok(vec![built]);
    }
    let suite = Suite::start()?;
    let mut outcomes = Vec::new();
    for browser in browsers {
        let started = Instant::now();
        outcomes.push(suite.run(browser, &mut crate::test::Log::Stdout)?);
        println!(
            "{browser} threaded: {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(outcomes)
}

/// Builds the suite (`cargo test --no-run` on the pinned nightly), for the
/// test server at `origin`.
pub fn build(origin: &str, log: &mut crate::test::Log) -> Result<Outcome, String> {
    run_counted(&mut cargo_build(origin), "threaded build", log)
}

/// What running the built suite in a browser needs: Chrome's page goes through
/// [`Proxy`]. Shared by the browsers running side by side.
pub struct Suite {
    _proxy: Proxy,
    chrome_webdriver_json: PathBuf,
    wasm: PathBuf,
}

impl Suite {
    /// For the suite [`build`] made: its wasm, run by the test runner itself
    /// (as cargo would run it), so that running it in a browser waits for no
    /// cargo lock another build holds.
    pub fn start() -> Result<Self, String> {
        let proxy = Proxy::start()?;
        let chrome_webdriver_json = webdriver_json_through(&proxy)?;
        Ok(Self {
            _proxy: proxy,
            chrome_webdriver_json,
            wasm: built_wasm()?,
        })
    }

    /// Runs the built suite in `browser`, its output into `log` (its caller
    /// reports how long it took).
    pub fn run(&self, browser: &str, log: &mut crate::test::Log) -> Result<Outcome, String> {
        let name = format!("{browser} threaded");
        let mut run = || {
            let mut cargo = test_runner(&self.wasm, browser);
            if browser == "chrome" {
                cargo.env(
                    "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
                    &self.chrome_webdriver_json,
                );
            }
            run_counted(&mut cargo, &name, log)
        };
        let mut outcome = run()?;
        // Should the page still not load (see `Proxy` for the stall it
        // prevents in Chrome), that is not a test result: run again, at most
        // twice. A run with any test result is never repeated.
        for _ in 0..PAGE_LOAD_RETRIES {
            if !never_loaded(&outcome) {
                break;
            }
            println!("{name}: the page never loaded and no test ran; running it again");
            outcome = run()?;
        }
        Ok(outcome)
    }
}

/// `webdriver.json` with Chrome sent through `proxy`, written under
/// `target/threaded`. Only Chrome needs it: the test runner's server can leave
/// one of the cross-origin isolated page's connections waiting until the
/// browser closes an idle one (see [`Proxy`]), which Chrome does after 300 s,
/// past its page-load limit. Firefox closes idle connections after 1 s (its
/// setting in `webdriver.json`); WebKit after about 60 s, within the limit.
fn webdriver_json_through(proxy: &Proxy) -> Result<PathBuf, String> {
    let source = shell::root().join("webdriver.json");
    let text = std::fs::read_to_string(&source)
        .map_err(|error| format!("{}: {error}", source.display()))?;
    let mut json: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| format!("webdriver.json: {error}"))?;
    let args = json
        .pointer_mut("/goog:chromeOptions/args")
        .and_then(serde_json::Value::as_array_mut)
        .ok_or("webdriver.json has no goog:chromeOptions.args")?;
    args.push(format!("--proxy-server={}", proxy.url()).into());
    // Without this, Chrome sends loopback requests past any proxy.
    args.push("--proxy-bypass-list=<-loopback>".into());
    let written = shell::root().join("target/threaded/webdriver.json");
    let text = serde_json::to_string_pretty(&json).map_err(|error| error.to_string())?;
    std::fs::create_dir_all(shell::root().join("target/threaded"))
        .and_then(|()| std::fs::write(&written, text))
        .map_err(|error| format!("{}: {error}", written.display()))?;
    Ok(written)
}

/// How many times a run whose page never loaded is repeated.
const PAGE_LOAD_RETRIES: usize = 2;

/// A failed run that reported no test at all: the test page never loaded.
fn never_loaded(outcome: &Outcome) -> bool {
    !outcome.succeeded() && outcome.passed() == 0 && outcome.failed() == 0
}

/// The suite's wasm as the last build made it (the newest
/// `threaded-HASH.wasm`).
fn built_wasm() -> Result<PathBuf, String> {
    let deps = shell::root().join("target/threaded/wasm32-unknown-unknown/debug/deps");
    let entries =
        std::fs::read_dir(&deps).map_err(|error| format!("{}: {error}", deps.display()))?;
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "wasm")
                && path
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with("threaded-"))
        })
        .max_by_key(|path| path.metadata().and_then(|m| m.modified()).ok())
        .ok_or_else(|| {
            format!(
                "no threaded-*.wasm in {}: build the suite first",
                deps.display()
            )
        })
}

/// The test runner on the built suite in `browser` (WebKit under a virtual
/// display), with what `cargo test` would give it.
fn test_runner(wasm: &Path, browser: &str) -> Command {
    let mut runner = crate::test::browser_command(
        browser,
        &shell::cargo_bin_dir().join("wasm-bindgen-test-runner"),
    );
    runner
        .arg(wasm)
        .current_dir(shell::root())
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
        .env("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", "90");
    crate::test::use_driver(&mut runner, browser);
    runner
}

/// `cargo` of the pinned nightly, in the repository: what the outer cargo
/// set for its own (stable) toolchain does not reach it.
pub fn nightly_cargo() -> Command {
    let mut cargo = command("rustup");
    cargo
        .args(["run", NIGHTLY, "cargo"])
        .current_dir(shell::root())
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC")
        .env_remove("RUSTUP_TOOLCHAIN");
    cargo
}

/// `cargo test --no-run` of the threaded suite on the pinned nightly.
fn cargo_build(origin: &str) -> Command {
    let mut cargo = nightly_cargo();
    cargo
        .args(["test", "--no-run"])
        .args(["-Z", "build-std=panic_abort,std"])
        .args(["--target", "wasm32-unknown-unknown"])
        .args([
            "-p",
            "browser-websocket",
            "--test",
            "threaded",
            "--all-features",
        ])
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", RUSTFLAGS)
        .env("CARGO_TARGET_DIR", shell::root().join("target/threaded"))
        // Read at compile time (`option_env!`): where the tests connect.
        .env("WS_TEST_SERVER", origin);
    cargo
}
