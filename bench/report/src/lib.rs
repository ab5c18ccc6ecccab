//! Benchmark results, shared by the in-browser `/bench` page and `cargo xtask
//! bench`: the JSON records, medians, the order the contenders take turns in,
//! ratios to raw JavaScript paired by round with bootstrap intervals, a
//! markdown table and an SVG chart. Pure Rust, tested natively.
#![forbid(unsafe_code)]

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// The scenarios, in display order.
pub const SCENARIOS: &[&str] = &[
    "echo_binary",
    "echo_text",
    "flood",
    "large",
    "bulk_send",
    "json_small",
    "json_large",
    "requests",
];
/// The implementations every scenario runs, in display order; `raw_js` is the
/// baseline.
pub const IMPLEMENTATIONS: &[&str] = &[
    "raw_js",
    "this_crate",
    "gloo_net",
    "ws_stream_wasm",
    "websocket_web",
];

/// The name a table shows for an implementation: the crates with the version
/// the benchmark pins (`bench/Cargo.toml`).
pub fn display_name(implementation: &str) -> &str {
    match implementation {
        "raw_js" => "raw JS",
        "this_crate" => "this crate",
        "gloo_net" => "gloo-net 0.7.0",
        "ws_stream_wasm" => "ws_stream_wasm 0.7.5",
        "websocket_web" => "websocket-web 0.1.9",
        "this_crate_callbacks" => "this crate, callbacks",
        "this_crate_reconnecting" => "this crate, reconnecting socket",
        "raw_js_await" => "raw JS awaiting each message",
        "raw_js_bytes" => "raw JS reading each message's bytes",
        "raw_js_wasm_call" => "raw JS calling wasm per message",
        "raw_js_paced" => "raw JS holding the watermarks, looking every turn",
        "raw_js_text_to_wasm" => "raw JS handing each text to wasm",
        "raw_js_text_encode_into" => "raw JS encoding each text into wasm memory (encodeInto)",
        "this_crate_js_parse" => "this crate, JSON.parse + serde-wasm-bindgen",
        "this_crate_id_map" => "this crate's WebSocket, replies matched by hand in a map",
        other => other,
    }
}

/// More ways to read a `flood`, run beside the others in that scenario only,
/// to show where a per-message cost comes from: this crate's callbacks API
/// (the handler runs inside the browser's event, as raw JS's does); and raw JS
/// that awaits a promise per message, as any async reader (this crate's
/// `Stream`, gloo-net's) must; that looks at each message's bytes through a
/// `Uint8Array`, as any reader of the bytes must; and that calls into wasm once
/// per message, the floor of any handler written in wasm.
pub const READING_CONTENDERS: &[&str] = &[
    "this_crate_callbacks",
    "raw_js_await",
    "raw_js_bytes",
    "raw_js_wasm_call",
];

/// The implementations that run in `scenario`, `raw_js` first: every crate,
/// and the contenders that show the limit of a design where the scenario has
/// them (see [`GOALS`]).
pub fn contenders(scenario: &str) -> Vec<&'static str> {
    if scenario == "requests" {
        // The request layer has no counterpart in the other crates: against
        // raw JS's map of promises and the least an app writes by hand.
        return vec!["raw_js", "this_crate", "this_crate_id_map"];
    }
    let mut all = IMPLEMENTATIONS.to_vec();
    match scenario {
        "flood" => all.extend_from_slice(READING_CONTENDERS),
        "echo_text" => all.extend_from_slice(&["raw_js_text_to_wasm", "raw_js_text_encode_into"]),
        "bulk_send" => all.extend_from_slice(&["this_crate_reconnecting", "raw_js_paced"]),
        "json_small" | "json_large" => all.push("this_crate_js_parse"),
        _ => {}
    }
    all
}

/// A goal: in `scenario`, `contender`'s throughput relative to `baseline`'s,
/// paired by round, has the lower end of its 95 % interval at `at_least` or
/// above. Each baseline is the limit of the contender's design: the JavaScript
/// that does the least any implementation of that design must do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Goal {
    pub scenario: &'static str,
    pub contender: &'static str,
    pub baseline: &'static str,
    pub at_least: f64,
}

/// The goals the benchmark checks (each in every browser).
pub const GOALS: &[Goal] = &[
    Goal {
        scenario: "echo_binary",
        contender: "this_crate",
        baseline: "raw_js",
        at_least: 0.95,
    },
    Goal {
        scenario: "echo_text",
        contender: "this_crate",
        baseline: "raw_js_text_to_wasm",
        at_least: 0.95,
    },
    Goal {
        scenario: "flood",
        contender: "this_crate",
        baseline: "raw_js_await",
        at_least: 0.97,
    },
    Goal {
        scenario: "flood",
        contender: "this_crate_callbacks",
        baseline: "raw_js_bytes",
        at_least: 0.97,
    },
    Goal {
        scenario: "bulk_send",
        contender: "this_crate",
        baseline: "raw_js_paced",
        at_least: 0.90,
    },
    Goal {
        scenario: "bulk_send",
        contender: "this_crate",
        baseline: "raw_js",
        at_least: 0.90,
    },
    Goal {
        scenario: "requests",
        contender: "this_crate",
        baseline: "this_crate_id_map",
        at_least: 0.90,
    },
];

/// One scenario's timings for one implementation in one browser.
///
/// `samples_ms[i]` is the time of round `i` (warm-up rounds not counted), so the
/// samples of two implementations with the same index ran in the same round and
/// are paired. An implementation whose ratio was settled early stops running,
/// so its samples are the first rounds only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub browser: String,
    pub scenario: String,
    pub implementation: String,
    pub median_ms: f64,
    pub samples_ms: Vec<f64>,
    pub peak_buffered_bytes: Option<f64>,
    /// Throughput relative to raw JS, paired by round (see [`ratio_interval`]);
    /// none for raw JS itself.
    #[serde(default)]
    pub ratio_to_raw: Option<Interval>,
    /// The largest growth of the page's wasm memory (`WebAssembly.Memory`'s
    /// buffer) over one run, warm-ups included, where recorded.
    #[serde(default)]
    pub wasm_memory_growth_bytes: Option<f64>,
    /// The median growth of `performance.memory.usedJSHeapSize` over one run,
    /// where the browser has it (Chromium).
    #[serde(default)]
    pub js_heap_growth_bytes: Option<f64>,
    /// How often the sender read `bufferedAmount` per MiB sent (a waiting
    /// `Sink`'s wake-ups), the median over the runs, where recorded.
    #[serde(default)]
    pub buffered_reads_per_mib: Option<f64>,
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
    median_of_sorted(&sorted)
}

fn median_of_sorted(sorted: &[f64]) -> f64 {
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
            ratio_to_raw: None,
            wasm_memory_growth_bytes: None,
            js_heap_growth_bytes: None,
            buffered_reads_per_mib: None,
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

// ---------------------------------------------------------------------------
// Deciding a difference: rotation, paired ratios, the bootstrap interval.
// ---------------------------------------------------------------------------

/// The interval's target: a ratio is settled once its 95 % interval is
/// narrower than ± 0.03, i.e. it can tell a 3 % difference in throughput from
/// raw JS.
pub const TARGET_HALF_WIDTH: f64 = 0.03;
/// No ratio is settled on fewer rounds than this: a bootstrap of fewer paired
/// ratios understates its own spread.
pub const MIN_ROUNDS: usize = 10;
/// Bootstrap resamples per interval.
pub const RESAMPLES: usize = 2000;
/// The bootstrap's fixed seed, so that the same samples always give the same
/// interval.
pub const SEED: u64 = 0x0014_5eed_b00f_0003;

/// The order in which the `contenders` (indices `0..contenders`) run in round
/// `round` (counted from 0, warm-ups included).
///
/// Each round starts with the next contender (raw, this, gloo; this, gloo, raw;
/// gloo, raw, this), and every `contenders` rounds the direction turns (raw,
/// gloo, this; ...). Over `2 × contenders` rounds every contender runs in every
/// position equally often *and* directly after every other contender equally
/// often (a Williams design): a plain rotation would always run raw JS right
/// after gloo-net, charging raw JS for the garbage gloo-net leaves behind.
pub fn rotation(round: usize, contenders: usize) -> Vec<usize> {
    if contenders == 0 {
        return Vec::new();
    }
    let start = round % contenders;
    let forward = (round / contenders) % 2 == 0;
    (0..contenders)
        .map(|step| {
            if forward {
                (start + step) % contenders
            } else {
                (start + contenders - step) % contenders
            }
        })
        .collect()
}

/// The per-round throughput ratios `raw_ms[i] / other_ms[i]` (above 1: `other`
/// is faster), over the rounds both ran; rounds with a missing or non-positive
/// time are skipped.
pub fn paired_ratios(raw_ms: &[f64], other_ms: &[f64]) -> Vec<f64> {
    raw_ms
        .iter()
        .zip(other_ms)
        .filter(|(raw, other)| raw.is_finite() && other.is_finite() && **raw > 0.0 && **other > 0.0)
        .map(|(raw, other)| raw / other)
        .collect()
}

/// A ratio and its 95 % confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The 20 % trimmed mean of the paired ratios (see [`ratio_interval`]).
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    /// The number of paired rounds.
    pub rounds: usize,
}

/// What an interval says about a contender against raw JS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The interval contains 1.00: no difference shown.
    Tie,
    /// The whole interval is above 1.00.
    Faster,
    /// The whole interval is below 1.00.
    Slower,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Tie => "tie",
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
        }
    }
}

impl Interval {
    pub fn half_width(&self) -> f64 {
        (self.high - self.low) / 2.0
    }

    pub fn verdict(&self) -> Verdict {
        if self.low > 1.0 {
            Verdict::Faster
        } else if self.high < 1.0 {
            Verdict::Slower
        } else {
            Verdict::Tie
        }
    }

    /// Narrow enough to tell a 3 % difference, on enough rounds.
    pub fn settled(&self) -> bool {
        self.rounds >= MIN_ROUNDS && self.half_width() < TARGET_HALF_WIDTH
    }
}

/// SplitMix64: a small, fixed, portable generator, so that the bootstrap gives
/// the same interval on every machine and in every browser.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2⁻⁵⁰ here).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

/// The `q` quantile of sorted values, interpolating linearly.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}

/// The share of rounds trimmed from each end by [`trimmed_mean`].
pub const TRIM: f64 = 0.2;

/// The mean of the sorted values without the lowest and highest [`TRIM`] of
/// them (at least one value remains).
pub fn trimmed_mean(sorted: &[f64]) -> f64 {
    let cut = ((sorted.len() as f64 * TRIM).floor() as usize).min((sorted.len() - 1) / 2);
    let kept = &sorted[cut..sorted.len() - cut];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// The 20 % trimmed mean of the paired ratios and its 95 % percentile-bootstrap
/// interval (2,000 resamples of the rounds, with replacement, fixed seed);
/// `None` for fewer than 2 rounds.
///
/// Why this and not a paired t interval on the log ratios: on a shared 2-core
/// machine the timings are heavy-tailed (a garbage collection, or another
/// process's burst of work, lands on one contender's run in one round and
/// doubles it). A mean and a t interval follow such outliers and widen with
/// them. The median ignores them but wastes a third of the rounds' information
/// on well-behaved data, and its bootstrap distribution is lumpy on a few
/// dozen rounds; the 20 % trimmed mean ignores the outliers (up to a fifth of
/// the rounds at each end) while keeping nearly a mean's precision, and the
/// bootstrap assumes no distribution for it. Pairing by round (each ratio
/// compares runs made seconds apart, in a rotating order) removes the slow
/// drift that hits all contenders alike. The seed is fixed, so the same samples
/// always give the same interval. The interval is checked after every round to
/// decide when to stop, which makes it a little optimistic; the minimum of
/// [`MIN_ROUNDS`] rounds limits that.
pub fn ratio_interval(ratios: &[f64]) -> Option<Interval> {
    let mut ratios: Vec<f64> = ratios.iter().copied().filter(|r| r.is_finite()).collect();
    let n = ratios.len();
    if n < 2 {
        return None;
    }
    let mut rng = SplitMix64(SEED);
    let mut resample = vec![0.0; n];
    let mut estimates = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        for slot in resample.iter_mut() {
            *slot = ratios[rng.below(n)];
        }
        resample.sort_unstable_by(f64::total_cmp);
        estimates.push(trimmed_mean(&resample));
    }
    estimates.sort_unstable_by(f64::total_cmp);
    ratios.sort_unstable_by(f64::total_cmp);
    Some(Interval {
        estimate: trimmed_mean(&ratios),
        low: quantile(&estimates, 0.025),
        high: quantile(&estimates, 0.975),
        rounds: n,
    })
}

/// Fills in every non-raw measurement's [`Measurement::ratio_to_raw`] from its
/// samples and raw JS's in the same browser and scenario.
pub fn with_intervals(results: &mut [Measurement]) {
    for index in 0..results.len() {
        let m = &results[index];
        if m.implementation == "raw_js" {
            continue;
        }
        let interval = find(results, &m.browser, &m.scenario, "raw_js")
            .and_then(|raw| ratio_interval(&paired_ratios(&raw.samples_ms, &m.samples_ms)));
        results[index].ratio_to_raw = interval;
    }
}

/// Throughput relative to raw JS in the same browser, from the paired rounds:
/// the stored interval, or one computed from the samples.
pub fn ratio_to_raw(results: &[Measurement], measurement: &Measurement) -> Option<Interval> {
    if measurement.implementation == "raw_js" {
        return None;
    }
    measurement.ratio_to_raw.or_else(|| {
        let raw = find(
            results,
            &measurement.browser,
            &measurement.scenario,
            "raw_js",
        )?;
        ratio_interval(&paired_ratios(&raw.samples_ms, &measurement.samples_ms))
    })
}

/// `1.02× [0.99–1.05] tie`, with `*` when the interval is wider than the
/// ± 0.03 target (the round or time budget ran out first).
pub fn format_interval(interval: &Interval) -> String {
    format!(
        "{:.2}× [{:.2}–{:.2}] {}{}",
        interval.estimate,
        interval.low,
        interval.high,
        interval.verdict().word(),
        if interval.half_width() < TARGET_HALF_WIDTH {
            ""
        } else {
            "*"
        }
    )
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

/// The `flood` read in other ways, relative to raw JS's `onmessage` that
/// looks only at `byteLength`; empty if the run had none of the extra
/// contenders.
fn reading_table(results: &[Measurement]) -> String {
    let columns = ["this_crate", "this_crate_callbacks"]
        .iter()
        .chain(&READING_CONTENDERS[1..]);
    let mut out = String::new();
    for browser in browsers(results) {
        let cells: Option<Vec<String>> = columns
            .clone()
            .map(|implementation| {
                find(results, &browser, "flood", implementation)
                    .and_then(|m| ratio_to_raw(results, m))
                    .map(|interval| format_interval(&interval))
            })
            .collect();
        let Some(cells) = cells else {
            continue;
        };
        if out.is_empty() {
            out.push_str(
                "\n| browser | this crate, `Stream` | this crate, callbacks | raw JS awaiting each message | raw JS reading each message's bytes | raw JS calling wasm per message |\n|---|---|---|---|---|---|\n",
            );
        }
        let _ = writeln!(out, "| {browser} | {} |", cells.join(" | "));
    }
    out
}

/// The contenders a scenario runs beyond the crates (but the `flood`'s, which
/// have their own table), against raw JS.
fn extras_table(results: &[Measurement]) -> String {
    let mut out = String::new();
    for m in results {
        let extra = !IMPLEMENTATIONS.contains(&m.implementation.as_str())
            && !READING_CONTENDERS.contains(&m.implementation.as_str())
            && m.implementation != "raw_js_await";
        let Some(interval) = ratio_to_raw(results, m).filter(|_| extra) else {
            continue;
        };
        if out.is_empty() {
            out.push_str("\n| browser | scenario | also run | vs raw JS |\n|---|---|---|---|\n");
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            m.browser,
            m.scenario,
            display_name(&m.implementation),
            format_interval(&interval)
        );
    }
    out
}

/// `contender`'s throughput relative to `baseline`'s in one browser and
/// scenario, paired by the rounds both ran.
pub fn ratio_between(
    results: &[Measurement],
    browser: &str,
    scenario: &str,
    contender: &str,
    baseline: &str,
) -> Option<Interval> {
    let contender = find(results, browser, scenario, contender)?;
    if baseline == "raw_js" {
        return ratio_to_raw(results, contender);
    }
    let baseline = find(results, browser, scenario, baseline)?;
    ratio_interval(&paired_ratios(&baseline.samples_ms, &contender.samples_ms))
}

/// The goals, per browser: each ratio, and whether the lower end of its
/// interval reaches the goal.
pub fn goals_table(results: &[Measurement]) -> String {
    let mut out = String::new();
    for browser in browsers(results) {
        for goal in GOALS {
            let Some(interval) = ratio_between(
                results,
                &browser,
                goal.scenario,
                goal.contender,
                goal.baseline,
            ) else {
                continue;
            };
            if out.is_empty() {
                out.push_str(
                    "| browser | scenario | contender | against | ratio | goal (lower end) | met |\n|---|---|---|---|---|---|---|\n",
                );
            }
            let _ = writeln!(
                out,
                "| {browser} | {} | {} | {} | {} | ≥ {:.2} | {} |",
                goal.scenario,
                display_name(goal.contender),
                display_name(goal.baseline),
                format_interval(&interval),
                goal.at_least,
                if interval.low >= goal.at_least {
                    "yes"
                } else {
                    "no"
                }
            );
        }
    }
    out
}

/// How each ratio varied over whole runs of the benchmark (`runs`, each every
/// browser's measurements): per browser, scenario and pair (every crate
/// against raw JS, and every goal), each run's estimate, their spread (the
/// largest minus the smallest) and one run's 95 % interval's mean width, to
/// tell whether a run's interval says what another run would find.
pub fn spread_table(runs: &[Vec<Measurement>]) -> String {
    let Some(first) = runs.first() else {
        return String::new();
    };
    let mut pairs: Vec<(&str, &str, &str)> = SCENARIOS
        .iter()
        .flat_map(|scenario| {
            IMPLEMENTATIONS[1..]
                .iter()
                .map(move |crate_name| (*scenario, *crate_name, "raw_js"))
        })
        .collect();
    for goal in GOALS {
        if !pairs.contains(&(goal.scenario, goal.contender, goal.baseline)) {
            pairs.push((goal.scenario, goal.contender, goal.baseline));
        }
    }
    let mut out = String::new();
    for browser in browsers(first) {
        for (scenario, contender, baseline) in &pairs {
            let intervals: Vec<Interval> = runs
                .iter()
                .filter_map(|run| ratio_between(run, &browser, scenario, contender, baseline))
                .collect();
            if intervals.len() < 2 {
                continue;
            }
            if out.is_empty() {
                let _ = writeln!(
                    out,
                    "| browser | scenario | contender | against | each run | spread over {} runs | one run's interval, mean width |\n|---|---|---|---|---|---|---|",
                    runs.len()
                );
            }
            let estimates: Vec<f64> = intervals.iter().map(|i| i.estimate).collect();
            let lowest = estimates.iter().copied().fold(f64::INFINITY, f64::min);
            let highest = estimates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let width =
                intervals.iter().map(|i| i.high - i.low).sum::<f64>() / intervals.len() as f64;
            let _ = writeln!(
                out,
                "| {browser} | {scenario} | {} | {} | {} | {:.2} | {width:.2} |",
                display_name(contender),
                display_name(baseline),
                estimates
                    .iter()
                    .map(|estimate| format!("{estimate:.2}"))
                    .collect::<Vec<_>>()
                    .join(" / "),
                highest - lowest,
            );
        }
    }
    out
}

/// The markdown tables: per browser and scenario, raw JS's median time and
/// each crate's throughput relative to raw JS with its 95 % interval and
/// verdict; the `flood` read other ways; the goals; then `bulk_send`'s memory
/// figures; then the wasm sizes.
pub fn markdown_table(results: &[Measurement], sizes: &[WasmSize]) -> String {
    let crates = &IMPLEMENTATIONS[1..];
    let mut out = format!(
        "| browser | scenario | rounds | raw JS, median | {} |\n|---|---|---|---|{}\n",
        crates
            .iter()
            .map(|name| format!("{} vs raw JS", display_name(name)))
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(crates.len())
    );
    for browser in browsers(results) {
        for scenario in SCENARIOS {
            let Some(raw) = find(results, &browser, scenario, "raw_js") else {
                continue;
            };
            let mut rounds = Vec::new();
            let mut cells = Vec::new();
            for implementation in crates {
                match find(results, &browser, scenario, implementation)
                    .and_then(|m| ratio_to_raw(results, m))
                {
                    Some(interval) => {
                        rounds.push(interval.rounds.to_string());
                        cells.push(format_interval(&interval));
                    }
                    None => {
                        rounds.push("–".to_owned());
                        cells.push("–".to_owned());
                    }
                }
            }
            let _ = writeln!(
                out,
                "| {browser} | {scenario} | {} | {:.1} ms | {} |",
                rounds.join(" / "),
                raw.median_ms,
                cells.join(" | ")
            );
        }
    }
    out.push_str(&reading_table(results));
    out.push_str(&extras_table(results));
    let goals = goals_table(results);
    if !goals.is_empty() {
        out.push('\n');
        out.push_str(&goals);
    }
    let bulk: Vec<&Measurement> = results
        .iter()
        .filter(|m| m.scenario == "bulk_send")
        .collect();
    if !bulk.is_empty() {
        out.push_str(
            "\n| browser | bulk_send | time to drain, median | peak bufferedAmount | reads of bufferedAmount per MiB | wasm memory growth | JS heap growth |\n|---|---|---|---|---|---|---|\n",
        );
        for m in bulk {
            let optional = |value: Option<f64>| value.map_or("n/a".to_owned(), format_bytes);
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} ms | {} | {} | {} | {} |",
                m.browser,
                display_name(&m.implementation),
                m.median_ms,
                optional(m.peak_buffered_bytes),
                m.buffered_reads_per_mib
                    .map_or("n/a".to_owned(), |reads| format!("{reads:.1}")),
                optional(m.wasm_memory_growth_bytes),
                optional(m.js_heap_growth_bytes),
            );
        }
    }
    if !sizes.is_empty() {
        out.push('\n');
        out.push_str(&sizes_table(sizes));
    }
    out
}

/// The minimal apps' sizes, one row each.
pub fn sizes_table(sizes: &[WasmSize]) -> String {
    let mut out = String::from("| minimal app | wasm, wasm-opt -Oz, gzip -9 |\n|---|---|\n");
    for size in sizes {
        let _ = writeln!(
            out,
            "| {} | {} bytes |",
            size.implementation, size.wasm_gz_bytes
        );
    }
    out
}

fn format_bytes(bytes: f64) -> String {
    if bytes.abs() >= 1048576.0 {
        format!("{:.1} MiB", bytes / 1048576.0)
    } else if bytes.abs() >= 1024.0 {
        format!("{:.0} KiB", bytes / 1024.0)
    } else {
        format!("{bytes:.0} B")
    }
}

/// A horizontal bar chart (SVG) of throughput relative to raw JS: one group per
/// browser and scenario, one bar per crate with its 95 % interval as a
/// whisker, a line at 1.0.
pub fn svg_chart(results: &[Measurement]) -> String {
    const ROW: f64 = 16.0;
    const LABEL: f64 = 190.0;
    const PLOT: f64 = 420.0;
    let max_ratio = results
        .iter()
        .filter_map(|m| ratio_to_raw(results, m))
        .map(|interval| interval.high)
        .fold(1.2_f64, f64::max)
        .min(3.0);
    let scale = PLOT / max_ratio;
    let colors = [
        ("this_crate", "#2757c8"),
        ("gloo_net", "#e08a1e"),
        ("ws_stream_wasm", "#2e9d5b"),
        ("websocket_web", "#9b4dca"),
    ];
    let mut bars = String::new();
    let mut y = 34.0;
    for browser in browsers(results) {
        for scenario in SCENARIOS {
            let group: Vec<(&str, Interval)> = IMPLEMENTATIONS
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
            for (implementation, interval) in group {
                let color = colors
                    .iter()
                    .find(|(name, _)| *name == implementation)
                    .map_or("#888", |(_, c)| c);
                let x = |ratio: f64| LABEL + (ratio.clamp(0.0, max_ratio) * scale);
                let width = (x(interval.estimate) - LABEL).max(1.0);
                let middle = y + (ROW - 3.0) / 2.0;
                let _ = write!(
                    bars,
                    r##"<rect x="{LABEL}" y="{y}" width="{width:.1}" height="{h}" fill="{color}"><title>{implementation}: {text}</title></rect><line x1="{lo:.1}" y1="{middle}" x2="{hi:.1}" y2="{middle}" stroke="#1d2330"/><line x1="{lo:.1}" y1="{t}" x2="{lo:.1}" y2="{b}" stroke="#1d2330"/><line x1="{hi:.1}" y1="{t}" x2="{hi:.1}" y2="{b}" stroke="#1d2330"/><text x="{tx:.1}" y="{ty}" class="value">{text}</text>"##,
                    h = ROW - 3.0,
                    text = format_interval(&interval),
                    lo = x(interval.low),
                    hi = x(interval.high),
                    t = middle - 3.0,
                    b = middle + 3.0,
                    tx = x(interval.high).max(LABEL + width) + 4.0,
                    ty = y + ROW - 5.0
                );
                y += ROW;
            }
            y += 8.0;
        }
    }
    let height = y + 10.0;
    let width = LABEL + PLOT + 190.0;
    let one = LABEL + scale;
    let mut legend = String::new();
    for (index, (name, color)) in colors.iter().enumerate() {
        let x = LABEL + index as f64 * 150.0 - 150.0;
        let _ = write!(
            legend,
            r#"<rect x="{x}" y="8" width="12" height="12" fill="{color}"/><text x="{tx}" y="18" class="label">{name}</text>"#,
            name = display_name(name),
            tx = x + 16.0
        );
    }
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11"><style>.label{{fill:#1d2330}}.value{{fill:#5a6275;font-size:10px}}</style><rect width="100%" height="100%" fill="#fff"/>{legend}<text x="{one}" y="30" text-anchor="middle" class="value">1.0 = raw JS</text><line x1="{one}" y1="32" x2="{one}" y2="{y}" stroke="#b3261e" stroke-dasharray="3 3"/>{bars}<text x="{LABEL}" y="{foot}" class="value">throughput relative to raw JavaScript in the same browser (higher is faster): trimmed mean of paired rounds, 95 % interval</text></svg>"##,
        foot = height - 2.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(browser: &str, scenario: &str, implementation: &str, ms: &[f64]) -> Measurement {
        Measurement::new(browser, scenario, implementation, ms.to_vec(), None)
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn rotation_balances_positions_and_predecessors() {
        assert_eq!(rotation(0, 3), [0, 1, 2]);
        assert_eq!(rotation(1, 3), [1, 2, 0]);
        assert_eq!(rotation(2, 3), [2, 0, 1]);
        assert_eq!(rotation(3, 3), [0, 2, 1]);
        assert_eq!(rotation(6, 3), [0, 1, 2]);
        let mut position = [[0; 3]; 3];
        let mut after = [[0; 3]; 3];
        for round in 0..6 {
            let order = rotation(round, 3);
            for (place, contender) in order.iter().enumerate() {
                position[*contender][place] += 1;
            }
            for pair in order.windows(2) {
                after[pair[0]][pair[1]] += 1;
            }
        }
        assert_eq!(position, [[2; 3]; 3]);
        assert_eq!(after, [[0, 2, 2], [2, 0, 2], [2, 2, 0]]);
        assert_eq!(rotation(1, 2), [1, 0]);
        assert!(rotation(0, 0).is_empty());
    }

    #[test]
    fn ratios_pair_rounds_and_skip_missing_times() {
        assert_eq!(
            paired_ratios(&[100.0, 90.0, 80.0, 70.0], &[50.0, f64::NAN, 80.0]),
            [2.0, 1.0]
        );
    }

    #[test]
    fn interval_is_deterministic_and_brackets_the_estimate() {
        let ratios: Vec<f64> = (0..40).map(|i| 1.0 + f64::from(i % 7 - 3) * 0.01).collect();
        let a = ratio_interval(&ratios).unwrap();
        let b = ratio_interval(&ratios).unwrap();
        assert_eq!(a, b);
        assert!((a.estimate - 1.0).abs() < 0.005, "{a:?}");
        assert!(a.low <= 1.0 && a.high >= 1.0, "{a:?}");
        assert!(a.half_width() < TARGET_HALF_WIDTH);
        assert!(a.settled());
        assert_eq!(a.verdict(), Verdict::Tie);
        assert!(ratio_interval(&[1.0]).is_none());
    }

    #[test]
    fn verdicts_and_settling() {
        let faster: Vec<f64> = (0..30).map(|i| 1.10 + f64::from(i % 5) * 0.002).collect();
        let interval = ratio_interval(&faster).unwrap();
        assert_eq!(interval.verdict(), Verdict::Faster);
        let slower: Vec<f64> = faster.iter().map(|r| 1.0 / r).collect();
        assert_eq!(ratio_interval(&slower).unwrap().verdict(), Verdict::Slower);
        // Narrow but on too few rounds: not settled yet.
        let few = ratio_interval(&faster[..5]).unwrap();
        assert!(few.half_width() < TARGET_HALF_WIDTH && !few.settled());
        // Wide: not settled, and marked as such.
        let wide = ratio_interval(&[0.7, 1.3, 0.8, 1.2, 1.0, 0.9, 1.1, 0.75, 1.25, 1.05]).unwrap();
        assert!(!wide.settled());
        assert!(
            format_interval(&wide).ends_with("tie*"),
            "{}",
            format_interval(&wide)
        );
        assert_eq!(
            format_interval(&Interval {
                estimate: 1.02,
                low: 0.99,
                high: 1.04,
                rounds: 20
            }),
            "1.02× [0.99–1.04] tie"
        );
    }

    #[test]
    fn a_heavy_tailed_outlier_does_not_move_the_interval_much() {
        let mut ratios: Vec<f64> = (0..30).map(|i| 0.95 + f64::from(i % 5) * 0.005).collect();
        let calm = ratio_interval(&ratios).unwrap();
        ratios[3] = 0.3;
        ratios[17] = 3.0;
        let noisy = ratio_interval(&ratios).unwrap();
        assert!(
            (noisy.estimate - calm.estimate).abs() < 0.006,
            "{calm:?} {noisy:?}"
        );
        assert!(noisy.settled());
    }

    #[test]
    fn trimmed_mean_drops_a_fifth_at_each_end() {
        let sorted: Vec<f64> = (1..=10).map(f64::from).collect();
        // Drops 1, 2 and 9, 10.
        assert_eq!(trimmed_mean(&sorted), 5.5);
        assert_eq!(trimmed_mean(&[1.0, 2.0, 100.0, 101.0, 102.0]), 203.0 / 3.0);
        assert_eq!(trimmed_mean(&[3.0]), 3.0);
    }

    #[test]
    fn ratios_compare_to_raw_js_in_the_same_browser() {
        let raw = [100.0, 110.0, 90.0, 100.0, 105.0, 95.0];
        let this: Vec<f64> = raw.iter().map(|ms| ms * 1.25).collect();
        let mut results = vec![
            measured("chrome", "flood", "raw_js", &raw),
            measured("chrome", "flood", "this_crate", &this),
            measured("firefox", "flood", "raw_js", &raw),
            measured("firefox", "flood", "this_crate", &raw),
        ];
        with_intervals(&mut results);
        assert!(results[0].ratio_to_raw.is_none());
        let chrome = results[1].ratio_to_raw.unwrap();
        assert_eq!((chrome.estimate, chrome.low, chrome.high), (0.8, 0.8, 0.8));
        assert_eq!(chrome.verdict(), Verdict::Slower);
        assert_eq!(results[3].ratio_to_raw.unwrap().verdict(), Verdict::Tie);
        let table = markdown_table(&results, &[]);
        assert!(
            table.contains(
                "| chrome | flood | 6 / – / – / – | 100.0 ms | 0.80× [0.80–0.80] slower | – | – | – |"
            ),
            "{table}"
        );
        let svg = svg_chart(&results);
        assert!(svg.starts_with("<svg") && svg.contains("0.80×"));
    }

    #[test]
    fn each_scenario_runs_every_crate_and_its_own_limits() {
        assert_eq!(contenders("echo_binary"), IMPLEMENTATIONS);
        assert_eq!(contenders("flood")[5..], *READING_CONTENDERS);
        assert_eq!(
            contenders("echo_text")[5..],
            ["raw_js_text_to_wasm", "raw_js_text_encode_into"]
        );
        assert_eq!(
            contenders("bulk_send")[5..],
            ["this_crate_reconnecting", "raw_js_paced"]
        );
        assert_eq!(contenders("json_large")[5..], ["this_crate_js_parse"]);
        // Every goal compares two contenders of its scenario.
        for goal in GOALS {
            let ran = contenders(goal.scenario);
            assert!(
                ran.contains(&goal.contender) && ran.contains(&goal.baseline),
                "{goal:?}"
            );
        }
    }

    #[test]
    fn the_spread_over_runs_sets_each_run_beside_the_others() {
        let raw = [100.0, 110.0, 90.0, 100.0, 105.0, 95.0];
        let run = |factor: f64| {
            let this: Vec<f64> = raw.iter().map(|ms| ms * factor).collect();
            let mut results = vec![
                measured("chrome", "flood", "raw_js", &raw),
                measured("chrome", "flood", "this_crate", &this),
            ];
            with_intervals(&mut results);
            results
        };
        let table = spread_table(&[run(1.0), run(1.25), run(1.0 / 0.9)]);
        assert!(
            table.contains(
                "| chrome | flood | this crate | raw JS | 1.00 / 0.80 / 0.90 | 0.20 | 0.00 |"
            ),
            "{table}"
        );
        assert_eq!(spread_table(&[run(1.0)]), "", "one run has no spread");
    }

    #[test]
    fn goals_are_met_on_the_lower_end_of_the_interval() {
        let paced = [100.0, 110.0, 90.0, 100.0, 105.0, 95.0];
        let times = |factor: f64| -> Vec<f64> { paced.iter().map(|ms| ms * factor).collect() };
        let results = vec![
            measured("webkit", "bulk_send", "raw_js", &times(0.5)),
            measured("webkit", "bulk_send", "raw_js_paced", &paced),
            measured("webkit", "bulk_send", "this_crate", &times(1.05)),
        ];
        let table = goals_table(&results);
        assert!(
            table.contains("| webkit | bulk_send | this crate | raw JS holding the watermarks, looking every turn | 0.95× [0.95–0.95] slower | ≥ 0.90 | yes |"),
            "{table}"
        );
        assert!(
            table.contains("| webkit | bulk_send | this crate | raw JS | 0.48× [0.48–0.48] slower | ≥ 0.90 | no |"),
            "{table}"
        );
    }

    #[test]
    fn the_flood_read_other_ways_has_its_table() {
        let raw = [100.0, 110.0, 90.0, 100.0, 105.0, 95.0];
        let times = |factor: f64| -> Vec<f64> { raw.iter().map(|ms| ms * factor).collect() };
        let mut results = vec![
            measured("firefox", "flood", "raw_js", &raw),
            measured("firefox", "flood", "this_crate", &times(1.25)),
            measured("firefox", "flood", "this_crate_callbacks", &raw),
            measured("firefox", "flood", "raw_js_await", &times(1.25)),
            measured("firefox", "flood", "raw_js_bytes", &raw),
            measured("firefox", "flood", "raw_js_wasm_call", &raw),
        ];
        with_intervals(&mut results);
        let table = markdown_table(&results, &[]);
        assert!(
            table.contains(
                "| firefox | 0.80× [0.80–0.80] slower | 1.00× [1.00–1.00] tie | 0.80× [0.80–0.80] slower | 1.00× [1.00–1.00] tie | 1.00× [1.00–1.00] tie |"
            ),
            "{table}"
        );
        // Without the extra contenders there is no such table.
        let table = markdown_table(&results[..2], &[]);
        assert!(!table.contains("awaiting"), "{table}");
    }

    #[test]
    fn bulk_send_has_its_memory_table() {
        let mut raw = measured("webkit", "bulk_send", "raw_js", &[10.0, 12.0]);
        raw.peak_buffered_bytes = Some(64.0 * 1048576.0);
        raw.wasm_memory_growth_bytes = Some(0.0);
        let table = markdown_table(&[raw], &[]);
        assert!(
            table.contains("| webkit | raw JS | 11.0 ms | 64.0 MiB | n/a | 0 B | n/a |"),
            "{table}"
        );
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
            r#"[{"browser":"webkit","scenario":"large","implementation":"this_crate","median_ms":2.0,"samples_ms":[2.0],"peak_buffered_bytes":1024.0,"ratio_to_raw":null,"wasm_memory_growth_bytes":null,"js_heap_growth_bytes":null,"buffered_reads_per_mib":null},{"implementation":"gloo_net","wasm_gz_bytes":14685}]"#
        );
        let back: Vec<Record> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, records);
    }
}
