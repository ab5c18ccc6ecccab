//! Benchmark results, shared by the in-browser `/bench` page and `cargo xtask
//! bench`: the JSON records, medians, ratios to raw JavaScript, a markdown table
//! and an SVG chart. Pure Rust, tested natively.
#![forbid(unsafe_code)]

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// The scenarios, in display order.
pub const SCENARIOS: &[&str] = &["echo_binary", "echo_text", "flood", "large", "bulk_send"];
/// The implementations, in display order; `raw_js` is the baseline.
pub const IMPLEMENTATIONS: &[&str] = &["raw_js", "this_crate", "gloo_net"];

/// One scenario's timings for one implementation in one browser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub browser: String,
    pub scenario: String,
    pub implementation: String,
    pub median_ms: f64,
    pub samples_ms: Vec<f64>,
    pub peak_buffered_bytes: Option<f64>,
}

/// The gzipped size of a minimal app's wasm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WasmSize {
    pub implementation: String,
    pub wasm_gz_bytes: u64,
}

/// An entry of `results.json`: either kind, untagged as the format asks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Record {
    Measurement(Measurement),
    WasmSize(WasmSize),
}

/// The median of the samples (the mean of the middle two for an even count).
pub fn median(samples: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 0 {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    }
}

impl Measurement {
    pub fn new(
        browser: &str,
        scenario: &str,
        implementation: &str,
        samples_ms: Vec<f64>,
        peak: Option<f64>,
    ) -> Self {
        Self {
            browser: browser.to_owned(),
            scenario: scenario.to_owned(),
            implementation: implementation.to_owned(),
            median_ms: median(&samples_ms),
            samples_ms,
            peak_buffered_bytes: peak,
        }
    }
}

fn find<'a>(
    results: &'a [Measurement],
    browser: &str,
    scenario: &str,
    implementation: &str,
) -> Option<&'a Measurement> {
    results.iter().find(|m| {
        m.browser == browser && m.scenario == scenario && m.implementation == implementation
    })
}

/// Throughput relative to raw JS in the same browser: raw time / this time
/// (1.00 = as fast as raw JS, higher is faster).
pub fn ratio_to_raw(results: &[Measurement], measurement: &Measurement) -> Option<f64> {
    let raw = find(
        results,
        &measurement.browser,
        &measurement.scenario,
        "raw_js",
    )?;
    (measurement.median_ms > 0.0).then(|| raw.median_ms / measurement.median_ms)
}

/// Browsers present, in the order they first appear.
pub fn browsers(results: &[Measurement]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for measurement in results {
        if !seen.contains(&measurement.browser) {
            seen.push(measurement.browser.clone());
        }
    }
    seen
}

/// A markdown table: median ms per implementation, with throughput relative to
/// raw JS in parentheses, and the peak `bufferedAmount` where recorded.
pub fn markdown_table(results: &[Measurement], sizes: &[WasmSize]) -> String {
    let mut out = String::from(
        "| browser | scenario | raw JS | this crate | gloo-net | peak bufferedAmount (raw / this / gloo) |\n|---|---|---|---|---|---|\n",
    );
    for browser in browsers(results) {
        for scenario in SCENARIOS {
            let cells: Vec<String> = IMPLEMENTATIONS
                .iter()
                .map(
                    |implementation| match find(results, &browser, scenario, implementation) {
                        None => "–".to_owned(),
                        Some(m) if *implementation == "raw_js" => format!("{:.1} ms", m.median_ms),
                        Some(m) => match ratio_to_raw(results, m) {
                            Some(ratio) => format!("{:.1} ms ({ratio:.2}×)", m.median_ms),
                            None => format!("{:.1} ms", m.median_ms),
                        },
                    },
                )
                .collect();
            if cells.iter().all(|cell| cell == "–") {
                continue;
            }
            let peaks: Vec<String> = IMPLEMENTATIONS
                .iter()
                .map(|implementation| {
                    match find(results, &browser, scenario, implementation)
                        .and_then(|m| m.peak_buffered_bytes)
                    {
                        Some(peak) => format_bytes(peak),
                        None => "–".to_owned(),
                    }
                })
                .collect();
            let peaks = if peaks.iter().all(|p| p == "–") {
                String::new()
            } else {
                peaks.join(" / ")
            };
            let _ = writeln!(
                out,
                "| {browser} | {scenario} | {} | {peaks} |",
                cells.join(" | ")
            );
        }
    }
    if !sizes.is_empty() {
        out.push_str("\n| minimal app | wasm, wasm-opt -Oz, gzip -9 |\n|---|---|\n");
        for size in sizes {
            let _ = writeln!(
                out,
                "| {} | {} bytes |",
                size.implementation, size.wasm_gz_bytes
            );
        }
    }
    out
}

fn format_bytes(bytes: f64) -> String {
    if bytes >= 1048576.0 {
        format!("{:.1} MiB", bytes / 1048576.0)
    } else if bytes >= 1024.0 {
        format!("{:.0} KiB", bytes / 1024.0)
    } else {
        format!("{bytes:.0} B")
    }
}

/// A horizontal bar chart (SVG) of throughput relative to raw JS: one group per
/// browser and scenario, one bar per implementation, a line at 1.0.
pub fn svg_chart(results: &[Measurement]) -> String {
    const ROW: f64 = 16.0;
    const LABEL: f64 = 190.0;
    const PLOT: f64 = 420.0;
    let max_ratio = results
        .iter()
        .filter_map(|m| ratio_to_raw(results, m))
        .fold(1.2_f64, f64::max)
        .min(3.0);
    let scale = PLOT / max_ratio;
    let colors = [
        ("raw_js", "#9aa3b5"),
        ("this_crate", "#2757c8"),
        ("gloo_net", "#e08a1e"),
    ];
    let mut bars = String::new();
    let mut y = 34.0;
    for browser in browsers(results) {
        for scenario in SCENARIOS {
            let group: Vec<(&str, f64)> = IMPLEMENTATIONS
                .iter()
                .filter_map(|implementation| {
                    let m = find(results, &browser, scenario, implementation)?;
                    Some((*implementation, ratio_to_raw(results, m)?))
                })
                .collect();
            if group.is_empty() {
                continue;
            }
            let _ = write!(
                bars,
                r#"<text x="{x}" y="{ty}" text-anchor="end" class="label">{browser} · {scenario}</text>"#,
                x = LABEL - 8.0,
                ty = y + ROW * group.len() as f64 / 2.0 + 4.0
            );
            for (implementation, ratio) in group {
                let color = colors
                    .iter()
                    .find(|(name, _)| *name == implementation)
                    .map_or("#888", |(_, c)| c);
                let width = (ratio.min(max_ratio) * scale).max(1.0);
                let _ = write!(
                    bars,
                    r#"<rect x="{LABEL}" y="{y}" width="{width:.1}" height="{h}" fill="{color}"><title>{implementation}: {ratio:.2}×</title></rect><text x="{tx:.1}" y="{ty}" class="value">{ratio:.2}</text>"#,
                    h = ROW - 3.0,
                    tx = LABEL + width + 4.0,
                    ty = y + ROW - 5.0
                );
                y += ROW;
            }
            y += 8.0;
        }
    }
    let height = y + 10.0;
    let width = LABEL + PLOT + 60.0;
    let one = LABEL + scale;
    let mut legend = String::new();
    for (index, (name, color)) in colors.iter().enumerate() {
        let x = LABEL + index as f64 * 120.0;
        let _ = write!(
            legend,
            r#"<rect x="{x}" y="8" width="12" height="12" fill="{color}"/><text x="{tx}" y="18" class="label">{name}</text>"#,
            tx = x + 16.0
        );
    }
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11"><style>.label{{fill:#1d2330}}.value{{fill:#5a6275;font-size:10px}}</style><rect width="100%" height="100%" fill="#fff"/>{legend}<text x="{one}" y="30" text-anchor="middle" class="value">1.0 = raw JS</text><line x1="{one}" y1="32" x2="{one}" y2="{y}" stroke="#b3261e" stroke-dasharray="3 3"/>{bars}<text x="{LABEL}" y="{foot}" class="value">throughput relative to raw JavaScript in the same browser (higher is faster)</text></svg>"##,
        foot = height - 2.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(browser: &str, scenario: &str, implementation: &str, ms: f64) -> Measurement {
        Measurement::new(
            browser,
            scenario,
            implementation,
            vec![ms, ms * 2.0, ms / 2.0],
            None,
        )
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn ratios_compare_to_raw_js_in_the_same_browser() {
        let results = vec![
            sample("chrome", "flood", "raw_js", 100.0),
            sample("chrome", "flood", "this_crate", 125.0),
            sample("firefox", "flood", "raw_js", 50.0),
            sample("firefox", "flood", "this_crate", 50.0),
        ];
        assert_eq!(ratio_to_raw(&results, &results[1]), Some(0.8));
        assert_eq!(ratio_to_raw(&results, &results[3]), Some(1.0));
        let table = markdown_table(&results, &[]);
        assert!(
            table.contains("| chrome | flood | 100.0 ms | 125.0 ms (0.80×) | – |"),
            "{table}"
        );
        let svg = svg_chart(&results);
        assert!(svg.starts_with("<svg") && svg.contains("0.80"));
    }

    #[test]
    fn records_serialize_as_the_documented_objects() {
        let records = vec![
            Record::Measurement(Measurement::new(
                "webkit",
                "large",
                "this_crate",
                vec![2.0],
                Some(1024.0),
            )),
            Record::WasmSize(WasmSize {
                implementation: "gloo_net".into(),
                wasm_gz_bytes: 14685,
            }),
        ];
        let json = serde_json::to_string(&records).unwrap();
        assert_eq!(
            json,
            r#"[{"browser":"webkit","scenario":"large","implementation":"this_crate","median_ms":2.0,"samples_ms":[2.0],"peak_buffered_bytes":1024.0},{"implementation":"gloo_net","wasm_gz_bytes":14685}]"#
        );
        let back: Vec<Record> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, records);
    }
}
