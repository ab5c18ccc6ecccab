//! Measured figures in the guide, written by the commands that measure them.
//!
//! A chapter marks where a command's figures go:
//!
//! ```text
//! <!-- figures: NAME -->
//! (written by the command)
//! <!-- /figures -->
//! ```
//!
//! The command replaces what is between the markers with a stamp (the
//! command, the date, the machine and the engines' versions) and its tables.
//! [`check`], part of the test command's first phase, fails when a block
//! listed in [`BLOCKS`] is missing or does not start with its command's
//! stamp, so figures typed into the guide by hand show up as such.

use std::path::PathBuf;

use crate::shell::{self, command, output};

/// Every block: its chapter, its name, and the commands that write it.
pub const BLOCKS: &[(&str, &str, &[&str])] = &[
    ("benchmarks.md", "bench", &["cargo xtask bench"]),
    (
        "benchmarks.md",
        "sizes",
        &["cargo xtask bench", "cargo xtask size"],
    ),
    ("benchmarks.md", "large", &[FIGURES]),
    ("reconnecting.md", "page-life", &[FIGURES]),
    ("tabs.md", "tabs", &[FIGURES]),
];

const FIGURES: &str = "cargo xtask figures";

/// What `cargo xtask figures` runs in each browser, and into which block of
/// which chapter the figures it reports go: the browser tests (which leave
/// their figures with the test server, see `tests/common`'s `report_figure`)
/// and the demo's end-to-end test (which prints `figure: NAME\tVALUE`).
enum Source {
    BrowserTests(&'static [&'static str]),
    DemoEndToEnd,
}

const MEASURED: &[(&str, &str, Source)] = &[
    (
        "benchmarks.md",
        "large",
        Source::BrowserTests(&["--test", "large_in_js", "--test", "large_in_wasm"]),
    ),
    (
        "reconnecting.md",
        "page-life",
        Source::BrowserTests(&["--test", "browser", "--", "page_life::"]),
    ),
    ("tabs.md", "tabs", Source::DemoEndToEnd),
];

/// `cargo xtask figures [--browsers ...]`: runs what measures the guide's
/// timing and memory figures in each browser (the page-life tests, the large
/// message tests, the shared socket's end-to-end test) and writes a table of
/// them, a column per engine, into each block. Fails if a test fails.
pub fn measure(args: &[String]) -> Result<(), String> {
    let browsers = crate::test::browsers_from(args, "figures")?;
    crate::setup::everything()?;
    crate::servers::build_server(crate::servers::Build::Debug)?;
    crate::browser_suite::build(crate::browser_suite::Soak::Short)?;
    crate::build_demo()?;
    let servers = crate::servers::ReadmeServers::start()?;
    // (block index, browser) -> the figures, in the order reported.
    let mut measured: Vec<Vec<Vec<(String, String)>>> = vec![Vec::new(); MEASURED.len()];
    for browser in &browsers {
        for (index, (_, _, source)) in MEASURED.iter().enumerate() {
            let figures = match source {
                Source::BrowserTests(selection) => from_browser_tests(browser, selection)?,
                Source::DemoEndToEnd => from_demo_end_to_end(browser)?,
            };
            measured[index].push(figures);
        }
    }
    drop(servers);
    let engines: Vec<String> = browsers.iter().map(|b| engine_version(b)).collect();
    for ((chapter, name, _), per_browser) in MEASURED.iter().zip(&measured) {
        let table = table_of(&engines, per_browser);
        write(chapter, name, FIGURES, &self::engines(&browsers), &table)?;
    }
    Ok(())
}

/// Runs `selection` of the browser tests in `browser` and returns the
/// figures they left with the test server meanwhile.
fn from_browser_tests(browser: &str, selection: &[&str]) -> Result<Vec<(String, String)>, String> {
    let before = recorded_figures()?.len();
    let outcome =
        crate::browser_suite::run_selected(browser, selection, &mut crate::test::Log::Stdout)?;
    if !outcome.succeeded() || outcome.failed() > 0 || outcome.passed() == 0 {
        return Err(format!(
            "{browser}: {} failed; no figures written",
            selection.join(" ")
        ));
    }
    Ok(recorded_figures()?.split_off(before))
}

/// Every figure the tests left with the README's test server so far.
fn recorded_figures() -> Result<Vec<(String, String)>, String> {
    let path = "/record-log.json?id=figures";
    let body = http_get(crate::servers::TEST_SERVER_PORT, path)?;
    let sessions: Vec<Vec<String>> =
        serde_json::from_str(&body).map_err(|error| format!("{path}: {error}"))?;
    Ok(sessions
        .iter()
        .flatten()
        .filter_map(|line| line.split_once('\t'))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect())
}

/// Runs the demo's end-to-end test in `browser` against a test server of its
/// own, and returns the figures it printed.
fn from_demo_end_to_end(browser: &str) -> Result<Vec<(String, String)>, String> {
    let server = crate::servers::TestServer::spawn(
        &crate::servers::server_binary(crate::servers::Build::Debug),
        0,
    )?;
    let mut run = crate::side_by_side::Run::new(&format!("figures-{browser}-e2e"))?;
    let mut demo = crate::side_by_side::demo_end_to_end(browser, &server.page_origin());
    let outcome =
        crate::test::run_counted(&mut demo, &format!("{browser} demo e2e"), &mut run.log)?;
    let crate::test::Log::File(log_path) = &run.log else {
        return Err("the demo's end-to-end log is not a file".to_owned());
    };
    let text = read(log_path)?;
    if !outcome.succeeded() || outcome.failed() > 0 {
        return Err(format!(
            "{browser}: the demo's end-to-end test failed:\n{text}"
        ));
    }
    Ok(text
        .lines()
        .filter_map(|line| line.strip_prefix("figure: ")?.split_once('\t'))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect())
}

/// A markdown table: a row per figure (in the order first reported), a
/// column per engine.
fn table_of(engines: &[String], per_browser: &[Vec<(String, String)>]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in per_browser.iter().flatten() {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    let mut table = format!(
        "| | {} |\n|---|{}\n",
        engines.join(" | "),
        "---|".repeat(engines.len())
    );
    for name in names {
        let cells: Vec<&str> = per_browser
            .iter()
            .map(|figures| {
                figures
                    .iter()
                    .rev()
                    .find(|(figure, _)| figure == name)
                    .map_or("–", |(_, value)| value.as_str())
            })
            .collect();
        table.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
    }
    table
}

/// The body of `GET path` from the server on `port` of this machine.
fn http_get(port: u16, path: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))
        .map_err(|error| format!("127.0.0.1:{port}: {error}"))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .map_err(|error| error.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|error| error.to_string())?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("GET {path}: no response"))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!(
            "GET {path}: {}",
            head.lines().next().unwrap_or_default()
        ));
    }
    Ok(body.to_owned())
}

const STAMP_START: &str = "<sub>Written by `";

/// Replaces block `name` of guide chapter `chapter` with `body`, after a stamp
/// saying it was `command` that measured it, today, on this machine, with
/// `context` (the engines' or the toolchain's versions).
pub fn write(
    chapter: &str,
    name: &str,
    command: &str,
    context: &str,
    body: &str,
) -> Result<(), String> {
    let path = chapter_path(chapter);
    let text = read(&path)?;
    let (before, _, after) = split_block(&text, name)
        .ok_or_else(|| format!("{}: no block `<!-- figures: {name} -->`", path.display()))?;
    let stamp = format!(
        "{STAMP_START}{command}` on {} ({}; {context}).</sub>",
        today(),
        machine()
    );
    let updated = format!("{before}\n{stamp}\n\n{}\n{after}", body.trim_end());
    std::fs::write(&path, updated).map_err(|error| format!("{}: {error}", path.display()))?;
    println!("wrote the figures `{name}` into guide/src/{chapter}");
    Ok(())
}

/// Every block of [`BLOCKS`] is in its chapter once, and starts with a stamp
/// by one of its commands.
pub fn check() -> Result<(), String> {
    let mut problems = Vec::new();
    for (chapter, name, commands) in BLOCKS {
        let text = read(&chapter_path(chapter))?;
        let Some((_, inside, _)) = split_block(&text, name) else {
            problems.push(format!(
                "guide/src/{chapter}: no block `<!-- figures: {name} -->`"
            ));
            continue;
        };
        let first = inside.trim_start().lines().next().unwrap_or_default();
        let stamped = commands
            .iter()
            .any(|command| first.starts_with(&format!("{STAMP_START}{command}` on ")));
        if !stamped {
            problems.push(format!(
                "guide/src/{chapter}: the figures `{name}` are not stamped by {}: run it to write them",
                commands.join(" or ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// `(before the block's contents, its contents, from its end marker on)`;
/// `None` unless the block's markers are there, once each, in order.
fn split_block<'a>(text: &'a str, name: &str) -> Option<(&'a str, &'a str, &'a str)> {
    let start = format!("<!-- figures: {name} -->");
    let end = "<!-- /figures -->";
    if text.matches(&start).count() != 1 {
        return None;
    }
    let open = text.find(&start)? + start.len();
    let close = open + text[open..].find(end)?;
    Some((&text[..open], &text[open..close], &text[close..]))
}

/// The versions of `browsers`' engines as this machine has them, e.g.
/// "Chromium 156.0.7470.1, Firefox 153.0.1esr, WebKitGTK 2.50.4".
pub fn engines(browsers: &[String]) -> String {
    browsers
        .iter()
        .map(|browser| engine_version(browser))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One engine's name and version, e.g. "Firefox 153.0.1esr".
fn engine_version(browser: &str) -> String {
    match browser {
        // "Chromium 156.0.7470.1 built on Debian ..."
        "chrome" => name_and_version("chromium", 0),
        // "Mozilla Firefox 153.0.1esr"
        "firefox" => name_and_version("firefox", 1),
        // WebKitWebDriver has no useful --version: the library's package does.
        _ => output(command("dpkg-query").args([
            "--showformat=${Version}",
            "--show",
            "libwebkit2gtk-4.1-0",
        ]))
        .map(|version| {
            let upstream = version
                .split(['-', '+'])
                .next()
                .unwrap_or_default()
                .to_owned();
            format!("WebKitGTK {upstream}")
        })
        .unwrap_or_else(|| "WebKitGTK (version unknown)".to_owned()),
    }
}

/// The Rust toolchain's version, e.g. "rustc 1.95.0".
pub fn toolchain() -> String {
    name_and_version("rustc", 0)
}

/// The two words of `PROGRAM --version` after the first `skip`: a name and a
/// version.
fn name_and_version(program: &str, skip: usize) -> String {
    output(command(program).arg("--version"))
        .and_then(|text| {
            let words: Vec<&str> = text.split_whitespace().skip(skip).take(2).collect();
            (words.len() == 2).then(|| words.join(" "))
        })
        .unwrap_or_else(|| format!("{program} (version unknown)"))
}

/// Today's date (UTC), as `date -u +%F` gives it.
fn today() -> String {
    output(command("date").args(["-u", "+%F"]))
        .map(|date| date.trim().to_owned())
        .unwrap_or_else(|| "(date unknown)".to_owned())
}

/// "2 cores", from the machine's count of CPUs.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!("{cores}-core machine")
}

fn chapter_path(chapter: &str) -> PathBuf {
    shell::root().join("guide/src").join(chapter)
}

fn read(path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::split_block;

    #[test]
    fn finds_a_block_once_and_only_between_its_markers() {
        let text = "a\n<!-- figures: x -->\nold\n<!-- /figures -->\nb\n";
        let (before, inside, after) = split_block(text, "x").unwrap_or_default();
        assert_eq!(before, "a\n<!-- figures: x -->");
        assert_eq!(inside, "\nold\n");
        assert_eq!(after, "<!-- /figures -->\nb\n");
        assert!(split_block(text, "y").is_none());
        let twice = format!("{text}{text}");
        assert!(split_block(&twice, "x").is_none());
    }
}
