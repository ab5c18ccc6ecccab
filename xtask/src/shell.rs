//! Running commands, with the cargo-installed tools on `PATH`.

use std::path::PathBuf;
use std::process::Command;

/// The workspace root.
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Where `cargo install` puts binaries.
pub fn cargo_bin_dir() -> PathBuf {
    match std::env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home).join("bin"),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo/bin"),
    }
}

/// `PATH` with the cargo bin directory first.
pub fn path_with_cargo_bin() -> std::ffi::OsString {
    let mut dirs = vec![cargo_bin_dir()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// A command run from the workspace root with the cargo bin directory on `PATH`.
pub fn command(program: &str) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(root())
        .env("PATH", path_with_cargo_bin());
    command
}

/// `cargo`, the same one that runs this xtask.
pub fn cargo() -> Command {
    command(&std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

/// `cargo` with clippy as the compiler of the workspace's own crates, denying
/// warnings: a build that is also the lint (`cargo clippy -- -D warnings`),
/// with dependencies compiled once, for the build and the tests alike.
/// (`RUSTC_WORKSPACE_WRAPPER` is part of a crate's fingerprint: the crates
/// built this way are rebuilt by a plain `cargo build`, not their dependencies.)
pub fn cargo_linted() -> Command {
    let mut command = cargo();
    clippy_as_compiler(&mut command);
    command
}

/// Makes the cargo that `command` runs (itself, or through a tool such as
/// wasm-pack) compile the workspace's crates with clippy, as
/// [`cargo_linted`] does.
pub fn clippy_as_compiler(command: &mut Command) -> &mut Command {
    let driver = std::env::var_os("CARGO")
        .map(PathBuf::from)
        .and_then(|cargo| cargo.parent().map(|bin| bin.join("clippy-driver")))
        .filter(|driver| driver.is_file())
        .unwrap_or_else(|| PathBuf::from("clippy-driver"));
    command
        .env("RUSTC_WORKSPACE_WRAPPER", driver)
        // How cargo-clippy hands `-D warnings` to the driver.
        .env(
            "CLIPPY_ARGS",
            "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__",
        )
}

/// Runs a command, echoing it, and fails on a non-zero exit.
pub fn run(command: &mut Command) -> Result<(), String> {
    println!("$ {}", describe(command));
    let status = command
        .status()
        .map_err(|error| format!("cannot run {}: {error}", describe(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(command)))
    }
}

/// Runs a command with its output appended to `log`; on failure, the error
/// carries the log's last lines.
pub fn run_logged(command: &mut Command, log: &std::path::Path) -> Result<(), String> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|error| format!("{}: {error}", log.display()))?;
    let errors = file.try_clone().map_err(|error| error.to_string())?;
    let status = command
        .stdout(file)
        .stderr(errors)
        .status()
        .map_err(|error| format!("cannot run {}: {error}", describe(command)))?;
    if status.success() {
        return Ok(());
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(30)..].join("\n");
    Err(format!(
        "`{}` failed ({status}):\n{tail}",
        describe(command)
    ))
}

/// A command's standard output, if it runs and succeeds.
pub fn output(command: &mut Command) -> Option<String> {
    let output = command.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Whether `program` is found on `PATH` (with the cargo bin directory).
pub fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&path_with_cargo_bin())
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}
