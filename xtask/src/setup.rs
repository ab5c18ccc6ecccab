//! Installs what the tests and the demo need, skipping what is already there.
//! Everything comes from the package registries: rustup's wasm32 target and
//! the threaded suite's pinned nightly (with `rust-src`),
//! crates.io (`cargo install`), Debian's packages (`apt-get`) and PyPI (`pip`,
//! into a virtual environment of the project's own).

use std::path::PathBuf;

use crate::shell::{self, command, on_path, output, run};

/// The system packages: browsers, their WebDriver servers, and a virtual display
/// for WebKit.
const SYSTEM_PACKAGES: &[(&str, &str)] = &[
    ("/usr/bin/chromium", "chromium"),
    ("/usr/bin/chromedriver", "chromium-driver"),
    ("/usr/bin/firefox-esr", "firefox-esr"),
    ("/usr/bin/WebKitWebDriver", "webkit2gtk-driver"),
    ("/usr/bin/xvfb-run", "xvfb"),
    ("/usr/bin/xauth", "xauth"),
    ("/usr/bin/python3", "python3"),
    // ring (rustls's cryptography, in the native backend) compiles C.
    ("/usr/bin/cc", "gcc"),
];

pub fn everything() -> Result<(), String> {
    // The nightly is a download, like apt's and pip's: it goes beside the
    // compiles, not after them.
    side_by_side(browser_tools, || {
        system_packages()
            .and_then(|()| conformance_venv().map(|_| ()))
            .and_then(|()| rpc_server().map(|_| ()))
            .and_then(|()| crate::threaded::install_toolchain())
    })
}

/// What `cargo xtask test --quick` needs: all but the threaded suite's
/// nightly.
pub fn for_quick_loop() -> Result<(), String> {
    side_by_side(browser_tools, || {
        system_packages()
            .and_then(|()| conformance_venv().map(|_| ()))
            .and_then(|()| rpc_server().map(|_| ()))
    })
}

/// What `cargo xtask bench` needs: the demo's tools, the browsers and their
/// drivers (not the conformance suite's Python).
pub fn for_bench() -> Result<(), String> {
    side_by_side(browser_tools, system_packages)
}

pub fn for_demo() -> Result<(), String> {
    wasm_target()?;
    wasm_bindgen_cli()?;
    cargo_install("wasm-pack", "wasm-pack", None, Build::Quick)
}

/// The Rust side of the browser tests: the wasm32 target, the test runner,
/// wasm-pack, Firefox's driver, and mdBook for the guide.
fn browser_tools() -> Result<(), String> {
    for_demo()?;
    cargo_install("geckodriver", "geckodriver", None, Build::Quick)?;
    mdbook()
}

/// mdBook, which the test command builds the guide with: only the `build`
/// command (no `serve`, `watch` or search index, and their web server).
pub fn mdbook() -> Result<(), String> {
    cargo_install(
        "mdbook",
        "mdbook",
        Some(MDBOOK),
        Build::QuickWithoutDefaults,
    )
}

/// The mdBook the guide is built with.
const MDBOOK: &str = "0.5.4";

/// How a tool is compiled. The test runner does real work on every test
/// binary (it post-processes megabytes of wasm), so it is optimized, at
/// `opt-level = 1`: it then compiled in 162 s on 2 cores with nothing beside
/// it (the default, 3, took 278 s on a fresh machine beside apt), and
/// post-processes the 13 MB browser test binary in 0.62 s instead of 0.56 s. The others only start a browser or render a few pages, so a
/// debug build (about half the compile time) costs nothing when they run.
#[derive(Clone, Copy, PartialEq)]
enum Build {
    Optimized,
    Quick,
    QuickWithoutDefaults,
}

/// Runs `compiling` here and `downloading` on another thread, and waits for
/// both: the cargo installs keep the cores busy while apt and pip wait on the
/// network and on dpkg, so the install takes the longer of the two, not
/// their sum. The second one's output goes to a log (printed if it fails),
/// so that the two do not interleave.
fn side_by_side(
    compiling: impl FnOnce() -> Result<(), String>,
    downloading: impl FnOnce() -> Result<(), String> + Send + 'static,
) -> Result<(), String> {
    let downloads = std::thread::spawn(downloading);
    let compiled = compiling();
    let downloaded = downloads
        .join()
        .unwrap_or_else(|_| Err("the system packages' installer stopped".to_owned()));
    compiled.and(downloaded)
}

fn wasm_target() -> Result<(), String> {
    let installed =
        output(command("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed
        .lines()
        .any(|line| line.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    run(command("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The `wasm-bindgen` version in the workspace's `Cargo.lock`: the one our
/// builds use. (The library's `Cargo.toml` states only a minimum.)
pub fn locked_wasm_bindgen_version() -> Result<String, String> {
    let path = shell::root().join("Cargo.lock");
    let lock =
        std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    let versions = locked_versions(&lock, "wasm-bindgen");
    match versions.as_slice() {
        [version] => Ok(version.clone()),
        [] => Err(format!("{} has no wasm-bindgen package", path.display())),
        _ => Err(format!(
            "{} has several wasm-bindgen versions ({}); the CLI can match only one",
            path.display(),
            versions.join(", ")
        )),
    }
}

/// The versions of the package `name` in the text of a `Cargo.lock`.
pub fn locked_versions(lock: &str, name: &str) -> Vec<String> {
    let wanted = format!("name = \"{name}\"");
    let mut versions = Vec::new();
    let mut in_wanted = false;
    for line in lock.lines().map(str::trim) {
        if line == "[[package]]" {
            in_wanted = false;
        } else if line == wanted {
            in_wanted = true;
        } else if let Some(version) = line.strip_prefix("version = \"") {
            if in_wanted {
                versions.extend(version.strip_suffix('"').map(str::to_owned));
                in_wanted = false;
            }
        }
    }
    versions
}

/// The test runner must be exactly the version of the locked `wasm-bindgen` crate.
fn wasm_bindgen_cli() -> Result<(), String> {
    let version = locked_wasm_bindgen_version()?;
    cargo_install(
        "wasm-bindgen-test-runner",
        "wasm-bindgen-cli",
        Some(&version),
        Build::Optimized,
    )
}

fn cargo_install(
    binary: &str,
    krate: &str,
    version: Option<&str>,
    build: Build,
) -> Result<(), String> {
    if let Some(path) = on_path(binary) {
        let wanted = match version {
            None => return Ok(()),
            Some(version) => version,
        };
        let reported =
            output(std::process::Command::new(&path).arg("--version")).unwrap_or_default();
        // "wasm-bindgen 0.2.130", "mdbook v0.5.4"
        if reported
            .split_whitespace()
            .any(|word| word.trim_start_matches('v') == wanted)
        {
            return Ok(());
        }
        println!("{binary} is {}, need {wanted}", reported.trim());
    }
    let mut install = shell::cargo();
    // One target directory for every tool: the dependencies they share
    // (clap, serde, ...) build once.
    install
        .args(["install", krate, "--target-dir"])
        .arg(shell::root().join("target/tools"));
    if let Some(version) = version {
        install.args(["--version", version, "--force"]);
    }
    match build {
        Build::Optimized => install.env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1"),
        Build::Quick | Build::QuickWithoutDefaults => install.arg("--debug"),
    };
    if build == Build::QuickWithoutDefaults {
        install.arg("--no-default-features");
    }
    run(&mut install)
}

fn system_packages() -> Result<(), String> {
    let mut missing: Vec<&str> = SYSTEM_PACKAGES
        .iter()
        .filter(|(path, _)| !std::path::Path::new(path).exists())
        .map(|(_, package)| *package)
        .collect();
    // Debian's python3 makes virtual environments only with python3-venv.
    let can_make_venvs =
        output(command("python3").args(["-c", "import ensurepip, venv"])).is_some();
    if !can_make_venvs {
        missing.push("python3-venv");
    }
    if missing.is_empty() {
        return Ok(());
    }
    let is_root =
        output(std::process::Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    let sudo: &[&str] = if is_root {
        &[]
    } else if on_path("sudo").is_some() {
        &["sudo"]
    } else {
        return Err(format!(
            "missing system packages: {}. Install them as root: apt-get update && apt-get install -y {}",
            missing.join(" "),
            missing.join(" ")
        ));
    };
    println!(
        "installing {} with apt-get (log: {})",
        missing.join(" "),
        apt_log().display()
    );
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let mut apt = command(all[0]);
        apt.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
        shell::run_logged(&mut apt, &apt_log())
    };
    apt(&["update"])?;
    let mut install = vec!["install", "-y"];
    install.extend(missing.iter().copied());
    apt(&install).map_err(|error| {
        format!(
            "{error}\nThe browser tests need these Debian packages: {}",
            missing.join(" ")
        )
    })
}

fn apt_log() -> PathBuf {
    shell::root().join("target/xtask/apt.log")
}

/// The pinned Python packages of the conformance server.
const CONFORMANCE_REQUIREMENTS: &str = "conformance/requirements.txt";

/// The project's own virtual environment for the conformance server
/// (pywebsocket3), made with `python3 -m venv` and filled with `pip install -r
/// conformance/requirements.txt`; skipped when it already holds exactly that
/// file's packages (a copy of the file is kept as a stamp). Returns its Python.
pub fn conformance_venv() -> Result<PathBuf, String> {
    let venv = shell::root().join("target/conformance-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("requirements.stamp");
    let requirements = std::fs::read_to_string(shell::root().join(CONFORMANCE_REQUIREMENTS))
        .map_err(|error| format!("cannot read {CONFORMANCE_REQUIREMENTS}: {error}"))?;
    if python.is_file() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&requirements) {
        return Ok(python);
    }
    if !python.is_file() {
        run(command("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    run(command(&python.to_string_lossy()).args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        "-r",
        CONFORMANCE_REQUIREMENTS,
    ]))?;
    std::fs::write(&stamp, requirements).map_err(|error| error.to_string())?;
    Ok(python)
}

/// The JSON-RPC and GraphQL servers' directory, its npm packages installed
/// with `npm ci` from `conformance/rpc/package-lock.json` (rpc-websockets,
/// graphql-ws, graphql and ws, pinned); skipped
/// when they were installed from exactly that lock (a copy is kept as a stamp).
pub fn rpc_server() -> Result<PathBuf, String> {
    let dir = shell::root().join("conformance/rpc");
    let lock = std::fs::read_to_string(dir.join("package-lock.json"))
        .map_err(|error| format!("cannot read conformance/rpc/package-lock.json: {error}"))?;
    let stamp = dir.join("node_modules/lock.stamp");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(&lock) {
        return Ok(dir);
    }
    run(command("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir))?;
    std::fs::write(&stamp, lock).map_err(|error| error.to_string())?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::locked_versions;

    #[test]
    fn reads_the_versions_of_one_package_from_a_lock() {
        let lock = r#"
[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "wasm-bindgen-macro"
version = "0.2.130"

[[package]]
name = "js-sys"
version = "0.3.107"
dependencies = [
 "wasm-bindgen",
]
"#;
        assert_eq!(locked_versions(lock, "wasm-bindgen"), ["0.2.130"]);
        assert_eq!(locked_versions(lock, "js-sys"), ["0.3.107"]);
        assert!(locked_versions(lock, "web-sys").is_empty());
    }
}
