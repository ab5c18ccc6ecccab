//! `cargo xtask bench`: the benchmark suite in Chrome, Firefox and WebKit, and
//! the wasm size of a minimal app with this crate and with gloo-net. Writes
//! `target/bench/results.json`, `results.md` and `chart.svg`. How the page
//! samples (rounds, warm-ups, when it stops) is the bench crate's; `--rounds`
//! and `--budget` (seconds per scenario) change its limits. `--runs N` runs
//! the whole suite N times and adds how much each ratio varied between runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use browser_websocket_bench_report::{
    markdown_table, sizes_table, spread_table, svg_chart, Measurement, Record, WasmSize, SCENARIOS,
};

use crate::shell::{self, cargo};
use crate::{setup, test};

/// binaryen's `wasm-opt`, from npm (Debian's is too old for this wasm-bindgen).
const BINARYEN: &str = "binaryen@132.0.0";

const USAGE: &str = "usage: cargo xtask bench [--browsers chrome,firefox,webkit] [--scenarios a,b] [--rounds MAX] [--budget SECONDS] [--runs N]";

pub fn run(args: &[String]) -> Result<(), String> {
    let started = std::time::Instant::now();
    let mut browsers: Vec<String> = test::BROWSERS.iter().map(|b| (*b).to_owned()).collect();
    // Passed on to the page as they are: it checks them and has the defaults.
    let mut query = String::new();
    let mut runs = 1;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match (arg.as_str(), rest.next()) {
            ("--browsers", Some(list)) => browsers = list.split(',').map(str::to_owned).collect(),
            ("--rounds", Some(n)) if n.parse::<u32>().is_ok() => query += &format!("&rounds={n}"),
            ("--budget", Some(s)) if s.parse::<f64>().is_ok() => query += &format!("&budget={s}"),
            ("--runs", Some(n)) if n.parse::<usize>().is_ok_and(|n| n >= 1) => {
                runs = n.parse().unwrap_or(1);
            }
            ("--scenarios", Some(list))
                if list.split(',').all(|name| SCENARIOS.contains(&name)) =>
            {
                query += &format!("&scenarios={list}");
            }
            _ => return Err(USAGE.to_owned()),
        }
    }
    setup::for_bench()?;
    let out = shell::root().join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    // Everything is built first, so that a build that fails does so before
    // the browsers have run for half an hour.
    let sizes = wasm_sizes()?;
    build_bench_page()?;
    shell::run(cargo().args(["build", "-p", "browser-websocket-e2e"]))?;
    let server = crate::servers::TestServer::start(crate::servers::Build::Release)?;
    let page_origin = server.page_origin();
    let mut every_run: Vec<Vec<Measurement>> = Vec::new();
    for run in 1..=runs {
        let mut measurements: Vec<Measurement> = Vec::new();
        for browser in &browsers {
            let file = out.join(format!("{browser}-{run}.json"));
            let page = format!("{page_origin}/bench?auto=1&browser={browser}{query}");
            let mut command = test::browser_command(
                browser,
                &shell::root().join("target/debug/browser-websocket-e2e"),
            );
            command
                .arg("bench")
                .args(["--browser", browser, "--page", &page, "--out"])
                .arg(&file);
            shell::run(&mut command)?;
            let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
            let mut results: Vec<Measurement> =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            measurements.append(&mut results);
        }
        println!(
            "run {run} of {runs} done after {:.1} minutes",
            started.elapsed().as_secs_f64() / 60.0
        );
        every_run.push(measurements);
    }
    let spread = spread_table(&every_run);
    let measurements = every_run.swap_remove(0);
    drop(server);
    let mut records: Vec<Record> = measurements
        .iter()
        .cloned()
        .map(Record::Measurement)
        .collect();
    records.extend(sizes.iter().cloned().map(Record::WasmSize));
    let json = serde_json::to_string_pretty(&records).map_err(|e| e.to_string())?;
    write(&out.join("results.json"), &json)?;
    let mut table = markdown_table(&measurements, &sizes);
    if !spread.is_empty() {
        table = format!("{table}\n{spread}");
    }
    write(&out.join("results.md"), &table)?;
    write(&out.join("chart.svg"), &svg_chart(&measurements))?;
    if query.is_empty() && browsers.len() == test::BROWSERS.len() {
        // Only a run of every browser with the defaults speaks for the guide.
        let took = started.elapsed().as_secs_f64() / 60.0 / runs as f64;
        let engines = crate::figures::engines(&browsers);
        let per_run = if runs == 1 {
            "the whole run".to_owned()
        } else {
            format!("--runs {runs}, each whole run")
        };
        let mut tables = markdown_table(&measurements, &[]);
        if !spread.is_empty() {
            tables = format!(
                "{tables}\nThe tables above are the first run's. How each ratio varied over the {runs} runs:\n\n{spread}"
            );
        }
        crate::figures::write(
            "benchmarks.md",
            "bench",
            "cargo xtask bench",
            &format!("{engines}; {per_run}, builds included, {took:.1} minutes"),
            &tables,
        )?;
        write_sizes("cargo xtask bench", &sizes)?;
        // The chart and the raw data the chapter shows and links.
        write(
            &shell::root().join("docs/bench.svg"),
            &svg_chart(&measurements),
        )?;
        write(&shell::root().join("docs/bench-results.json"), &json)?;
    }
    println!(
        "\n{table}\nwrote {}/results.json, results.md and chart.svg in {:.1} minutes",
        out.display(),
        started.elapsed().as_secs_f64() / 60.0
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The bench page's wasm, optimized for speed, into `www/bench-pkg`.
pub fn build_bench_page() -> Result<(), String> {
    shell::run(cargo().args([
        "build",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "bench-wasm",
        "-p",
        "browser-websocket-bench",
    ]))?;
    shell::run(
        shell::command("wasm-bindgen")
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-dir",
                "www/bench-pkg",
            ])
            .arg("target/wasm32-unknown-unknown/bench-wasm/browser_websocket_bench.wasm"),
    )
}

/// `cargo xtask size`: the minimal apps' sizes, without the browsers.
pub fn sizes_only() -> Result<(), String> {
    crate::setup::for_demo()?;
    write_sizes("cargo xtask size", &wasm_sizes()?)
}

/// The sizes into the guide's benchmarks chapter.
fn write_sizes(command: &str, sizes: &[WasmSize]) -> Result<(), String> {
    let toolchain = crate::figures::toolchain();
    crate::figures::write(
        "benchmarks.md",
        "sizes",
        command,
        &format!(
            "{toolchain}, wasm-bindgen {}, {BINARYEN}",
            setup::locked_wasm_bindgen_version()?
        ),
        &sizes_table(sizes),
    )
}

/// The most the minimal app with this crate may weigh (wasm-opt -Oz, gzip -9):
/// the test command fails past it.
pub const SIZE_BUDGET: u64 = 15_000;

/// The minimal apps: with this crate, with gloo-net, and on this crate's
/// reconnecting socket (implementation, package, wasm file).
const MINIMAL_APPS: [(&str, &str, &str); 3] = [
    ("this_crate", "size-this-crate", "size_this_crate"),
    ("gloo_net", "size-gloo-net", "size_gloo_net"),
    ("reconnecting", "size-reconnecting", "size_reconnecting"),
];

/// The test command's size check: the minimal app with this crate within
/// [`SIZE_BUDGET`]. (`cargo xtask size` measures the others too.)
pub fn size_budget() -> Result<(), String> {
    let (implementation, package, file) = MINIMAL_APPS[0];
    let size = wasm_size(&binaryen_wasm_opt()?, implementation, package, file)?;
    if size.wasm_gz_bytes > SIZE_BUDGET {
        return Err(format!(
            "the minimal app is {} bytes (wasm-opt -Oz, gzip -9), past its budget of \
             {SIZE_BUDGET}: see what the change put on every app's path",
            size.wasm_gz_bytes
        ));
    }
    let snippets = snippet_modules(package)?;
    if snippets > SNIPPET_BUDGET {
        return Err(format!(
            "the minimal app loads {snippets} JS snippet modules, past its budget of \
             {SNIPPET_BUDGET}: put the new JS in an existing inline_js block"
        ));
    }
    Ok(())
}

/// The most JS snippet modules (one per `inline_js` block in use) the minimal
/// app may load. Each is one more request before the app starts; the browser
/// test page adds the runner's two modules and the mock's snippet, and past six
/// requests Chromium's load stalled for minutes behind wasm-bindgen's test
/// server.
const SNIPPET_BUDGET: usize = 3;

/// How many snippet modules wasm-bindgen wrote for the minimal app `package`.
fn snippet_modules(package: &str) -> Result<usize, String> {
    let snippets = shell::root()
        .join("target/bench/size")
        .join(package)
        .join("snippets");
    let Ok(crates) = std::fs::read_dir(&snippets) else {
        return Ok(0);
    };
    let mut count = 0;
    for entry in crates.flatten() {
        let files = std::fs::read_dir(entry.path())
            .map_err(|error| format!("{}: {error}", entry.path().display()))?;
        count += files.flatten().count();
    }
    Ok(count)
}

/// Builds the minimal app with each crate (size profile), runs wasm-bindgen,
/// `wasm-opt -Oz` and `gzip -9`, and measures the result.
fn wasm_sizes() -> Result<Vec<WasmSize>, String> {
    let wasm_opt = binaryen_wasm_opt()?;
    MINIMAL_APPS
        .iter()
        .map(|(implementation, package, file)| wasm_size(&wasm_opt, implementation, package, file))
        .collect()
}

/// One minimal app, built, post-processed and measured.
fn wasm_size(
    wasm_opt: &Path,
    implementation: &str,
    package: &str,
    file: &str,
) -> Result<WasmSize, String> {
    shell::run(cargo().args([
        "build",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        package,
    ]))?;
    let dir = shell::root().join("target/bench/size").join(package);
    // wasm-bindgen leaves the snippets of earlier builds; only this one's count.
    let _ = std::fs::remove_dir_all(dir.join("snippets"));
    shell::run(
        shell::command("wasm-bindgen")
            .args(["--target", "web", "--no-typescript", "--out-dir"])
            .arg(&dir)
            .arg(format!("target/wasm32-unknown-unknown/release/{file}.wasm")),
    )?;
    let bindgen_output = dir.join(format!("{file}_bg.wasm"));
    let optimized = dir.join(format!("{file}.opt.wasm"));
    shell::run(
        Command::new(wasm_opt)
            .arg("-Oz")
            .arg(&bindgen_output)
            .arg("-o")
            .arg(&optimized),
    )?;
    let bytes = gzipped_len(&optimized)?;
    println!("{implementation}: {bytes} bytes (wasm-opt -Oz, gzip -9)");
    Ok(WasmSize {
        implementation: implementation.to_owned(),
        wasm_gz_bytes: bytes,
    })
}

/// The size of `gzip -9 -c FILE`, counted in bytes (not as text).
fn gzipped_len(path: &Path) -> Result<u64, String> {
    let output = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .map_err(|e| format!("gzip: {e}"))?;
    if output.status.success() {
        Ok(output.stdout.len() as u64)
    } else {
        Err(format!("gzip -9 {} failed", path.display()))
    }
}

/// `wasm-opt` from the npm package, installed under `target/tools` once.
fn binaryen_wasm_opt() -> Result<PathBuf, String> {
    let prefix = shell::root().join("target/tools/binaryen");
    let wasm_opt = prefix.join("node_modules/.bin/wasm-opt");
    if !wasm_opt.exists() {
        shell::run(
            shell::command("npm")
                .args(["install", "--no-audit", "--no-fund", "--prefix"])
                .arg(&prefix)
                .arg(BINARYEN),
        )?;
    }
    Ok(wasm_opt)
}
