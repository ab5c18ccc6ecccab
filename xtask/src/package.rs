//! The checks that the library is ready for crates.io:
//!
//! - `cargo xtask resolution`: an app that pins another wasm-bindgen than our
//!   Cargo.lock (`tests/resolution`, not a workspace member) resolves that
//!   version with the library and compiles for wasm32 (`cargo check`: the
//!   question is whether the library's code type-checks against that
//!   wasm-bindgen, js-sys and web-sys; generating code for it would show
//!   nothing more, and took 52 s).
//! - `cargo xtask package`: `cargo publish --dry-run` for wasm32, which packages
//!   the crate as crates.io would get it and builds the package.
//!
//! `cargo xtask test` runs both, through [`checks`].

use std::path::{Path, PathBuf};

use crate::setup::locked_versions;
use crate::shell::{self, cargo};

/// The library's package name.
const PACKAGE: &str = "browser-websocket";

/// Every packaging check, in the order `cargo xtask test` runs them.
pub fn checks() -> Result<(), String> {
    resolution()?;
    publish_dry_run()
}

/// `cargo fmt --check` of the resolution app.
pub fn formatting() -> Result<(), String> {
    shell::run(
        cargo()
            .args(["fmt", "--check", "--manifest-path"])
            .arg(resolution_dir().join("Cargo.toml")),
    )
}

fn resolution_dir() -> PathBuf {
    shell::root().join("tests/resolution")
}

/// Checks `tests/resolution` for wasm32 with its committed Cargo.lock, and
/// checks that the lock holds the wasm-bindgen its manifest pins (and no other).
pub fn resolution() -> Result<(), String> {
    println!("\n==> an app pinning another wasm-bindgen");
    let dir = resolution_dir();
    let manifest = dir.join("Cargo.toml");
    let wanted = pinned_version(&manifest, "wasm-bindgen")?;
    // `--locked`: the committed lock is the one built, so the check below reads
    // what was built, and nothing is re-resolved behind our back.
    shell::run(
        cargo()
            .args([
                "check",
                "--locked",
                "--target",
                "wasm32-unknown-unknown",
                "--manifest-path",
            ])
            .arg(&manifest)
            // The main target directory: the crates both locks share build once.
            .env("CARGO_TARGET_DIR", shell::root().join("target")),
    )
    .map_err(|error| {
        format!(
            "{error}\nIf the library's dependencies changed, update the app's lock with \
             `cargo update --manifest-path tests/resolution/Cargo.toml --workspace` and commit it."
        )
    })?;
    let lock = read(&dir.join("Cargo.lock"))?;
    let resolved = locked_versions(&lock, "wasm-bindgen");
    if !matches!(resolved.as_slice(), [only] if *only == wanted) {
        return Err(format!(
            "tests/resolution pins wasm-bindgen {wanted}, but its Cargo.lock has {resolved:?}"
        ));
    }
    let ours = read(&shell::root().join("Cargo.lock"))?;
    let summary = |lock: &str| {
        ["wasm-bindgen", "js-sys", "web-sys", "wasm-bindgen-futures"]
            .iter()
            .map(|name| format!("{name} {}", locked_versions(lock, name).join("/")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "resolved with the library: {}\n(the workspace's own lock: {})",
        summary(&lock),
        summary(&ours)
    );
    Ok(())
}

/// `cargo publish --dry-run` for wasm32: packages the library as it would be
/// uploaded and builds that package. On a tree whose packaged files have
/// uncommitted changes it is skipped with a note, except in CI, where it runs
/// (and fails) as on any tree: CI checks out a clean clone.
pub fn publish_dry_run() -> Result<(), String> {
    println!("\n==> cargo publish --dry-run");
    let dirty = dirty_packaged_files()?;
    if !dirty.is_empty() && std::env::var_os("CI").is_none() {
        println!(
            "skipped: packaged files with uncommitted changes ({}); commit them to run it, \
             or run `cargo package --list -p {PACKAGE} --allow-dirty` to see the files",
            dirty.join(", ")
        );
        return Ok(());
    }
    shell::run(cargo().args([
        "publish",
        "--dry-run",
        "-p",
        PACKAGE,
        "--target",
        "wasm32-unknown-unknown",
    ]))
}

/// The files going into the package that git reports as changed or untracked.
fn dirty_packaged_files() -> Result<Vec<String>, String> {
    let listed = shell::output(cargo().args(["package", "--list", "--allow-dirty", "-p", PACKAGE]))
        .ok_or_else(|| format!("`cargo package --list -p {PACKAGE}` failed"))?;
    // Cargo writes `.cargo_vcs_info.json` and `Cargo.toml.orig` itself; the
    // packaged `Cargo.lock` comes from the workspace's.
    let files: Vec<&str> = listed
        .lines()
        .map(str::trim)
        .filter(|file| !file.is_empty() && *file != ".cargo_vcs_info.json")
        .map(|file| file.strip_suffix(".orig").unwrap_or(file))
        .collect();
    let mut git = shell::command("git");
    git.args(["status", "--porcelain", "--"]).args(&files);
    let Some(status) = shell::output(&mut git) else {
        // Not a git checkout (a source archive): cargo has nothing to compare either.
        println!("no git status: packaging as is");
        return Ok(Vec::new());
    };
    Ok(status
        .lines()
        .filter_map(|line| line.get(3..))
        .map(str::to_owned)
        .collect())
}

/// The `=X.Y.Z` version a manifest pins `name` to (`name = "=X.Y.Z"`).
fn pinned_version(manifest: &Path, name: &str) -> Result<String, String> {
    let text = read(manifest)?;
    let prefix = format!("{name} = \"=");
    text.lines()
        .find_map(|line| line.trim().strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
        .ok_or_else(|| {
            format!(
                "{} must pin {name} as `{name} = \"=X.Y.Z\"`",
                manifest.display()
            )
        })
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))
}
