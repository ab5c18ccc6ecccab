//! The benchmark suite, run in the browser: each scenario written three times,
//! in raw JavaScript (`raw.js`), with this crate, and with gloo-net 0.7, timed
//! the same way (from the first send, or the request that starts a flood, to the
//! last byte received; connecting and closing are not timed).
#![forbid(unsafe_code)]

mod contenders;
mod page;

use browser_websocket_bench_report::{Measurement, IMPLEMENTATIONS, SCENARIOS};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/raw.js")]
extern "C" {
    fn now() -> f64;
    #[wasm_bindgen(js_name = rawEcho, catch)]
    async fn raw_echo(url: &str, count: u32, size: u32, text: bool) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = rawFlood, catch)]
    async fn raw_flood(url: &str, count: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = rawBulk, catch)]
    async fn raw_bulk(url: &str, total: u32, chunk: u32) -> Result<JsValue, JsValue>;
}

/// The sizes of each scenario.
pub mod sizes {
    pub const ECHO_COUNT: u32 = 10_000;
    pub const ECHO_SIZE: u32 = 1024;
    pub const FLOOD_COUNT: u32 = 100_000;
    pub const FLOOD_SIZE: u32 = 64;
    pub const LARGE_SIZE: u32 = 16 << 20;
    pub const BULK_TOTAL: u32 = 256 << 20;
    pub const BULK_CHUNK: u32 = 64 << 10;
    /// The slow reader's pace for `bulk_send`, bytes per second.
    pub const BULK_RATE: u32 = 128 << 20;
}

/// One timed run: milliseconds, and the peak `bufferedAmount` where recorded.
pub struct Sample {
    pub ms: f64,
    pub peak_buffered: Option<f64>,
}

fn js_error(value: JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}

/// Runs one scenario once with one implementation against the server at
/// `origin` (`ws://host:port`).
pub async fn run_once(
    origin: &str,
    scenario: &str,
    implementation: &str,
) -> Result<Sample, String> {
    use sizes::*;
    let echo = format!("{origin}/echo");
    let flood = format!("{origin}/flood?n={FLOOD_COUNT}&size={FLOOD_SIZE}");
    let slow = format!("{origin}/slow?rate={BULK_RATE}");
    let timed = |ms: f64| Sample {
        ms,
        peak_buffered: None,
    };
    match (implementation, scenario) {
        ("raw_js", "echo_binary") => {
            raw_ms(raw_echo(&echo, ECHO_COUNT, ECHO_SIZE, false).await).map(timed)
        }
        ("raw_js", "echo_text") => {
            raw_ms(raw_echo(&echo, ECHO_COUNT, ECHO_SIZE, true).await).map(timed)
        }
        ("raw_js", "flood") => raw_ms(raw_flood(&flood, FLOOD_COUNT).await).map(timed),
        ("raw_js", "large") => raw_ms(raw_echo(&echo, 1, LARGE_SIZE, false).await).map(timed),
        ("raw_js", "bulk_send") => {
            let pair: js_sys::Array = raw_bulk(&slow, BULK_TOTAL, BULK_CHUNK)
                .await
                .map_err(js_error)?
                .into();
            Ok(Sample {
                ms: pair.get(0).as_f64().unwrap_or(f64::NAN),
                peak_buffered: pair.get(1).as_f64(),
            })
        }
        ("this_crate", "echo_binary") => {
            contenders::this_crate::echo(&echo, ECHO_COUNT, ECHO_SIZE, false)
                .await
                .map(timed)
        }
        ("this_crate", "echo_text") => {
            contenders::this_crate::echo(&echo, ECHO_COUNT, ECHO_SIZE, true)
                .await
                .map(timed)
        }
        ("this_crate", "flood") => contenders::this_crate::flood(&flood, FLOOD_COUNT)
            .await
            .map(timed),
        ("this_crate", "large") => contenders::this_crate::echo(&echo, 1, LARGE_SIZE, false)
            .await
            .map(timed),
        ("this_crate", "bulk_send") => {
            contenders::this_crate::bulk(&slow, BULK_TOTAL, BULK_CHUNK).await
        }
        ("gloo_net", "echo_binary") => contenders::gloo::echo(&echo, ECHO_COUNT, ECHO_SIZE, false)
            .await
            .map(timed),
        ("gloo_net", "echo_text") => contenders::gloo::echo(&echo, ECHO_COUNT, ECHO_SIZE, true)
            .await
            .map(timed),
        ("gloo_net", "flood") => contenders::gloo::flood(&flood, FLOOD_COUNT)
            .await
            .map(timed),
        ("gloo_net", "large") => contenders::gloo::echo(&echo, 1, LARGE_SIZE, false)
            .await
            .map(timed),
        ("gloo_net", "bulk_send") => contenders::gloo::bulk(&slow, BULK_TOTAL, BULK_CHUNK)
            .await
            .map(timed),
        _ => Err(format!(
            "unknown scenario {scenario:?} or implementation {implementation:?}"
        )),
    }
}

fn raw_ms(result: Result<JsValue, JsValue>) -> Result<f64, String> {
    let ms = result.map_err(js_error)?.as_f64().unwrap_or(f64::NAN);
    if ms.is_finite() {
        Ok(ms)
    } else {
        Err("raw JS run returned no time".to_owned())
    }
}

/// Runs the whole suite: every scenario, every implementation, `samples` times,
/// the implementations taking turns so that drift hits them alike. Calls
/// `progress(done, total, label)` before each run.
pub async fn run_suite(
    origin: &str,
    browser: &str,
    samples: u32,
    scenarios: &[&str],
    mut progress: impl FnMut(u32, u32, &str),
) -> Result<Vec<Measurement>, String> {
    let total = scenarios.len() as u32 * IMPLEMENTATIONS.len() as u32 * samples;
    let mut done = 0;
    let mut results = Vec::new();
    for scenario in scenarios {
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); IMPLEMENTATIONS.len()];
        let mut peaks: Vec<Option<f64>> = vec![None; IMPLEMENTATIONS.len()];
        for _ in 0..samples {
            for (index, implementation) in IMPLEMENTATIONS.iter().enumerate() {
                progress(done, total, &format!("{scenario} · {implementation}"));
                let sample = run_once(origin, scenario, implementation)
                    .await
                    .map_err(|error| format!("{scenario} with {implementation}: {error}"))?;
                times[index].push(sample.ms);
                if let Some(peak) = sample.peak_buffered {
                    peaks[index] = Some(peaks[index].map_or(peak, |seen: f64| seen.max(peak)));
                }
                done += 1;
            }
        }
        for (index, implementation) in IMPLEMENTATIONS.iter().enumerate() {
            let samples = std::mem::take(&mut times[index]);
            results.push(Measurement::new(
                browser,
                scenario,
                implementation,
                samples,
                peaks[index],
            ));
        }
    }
    progress(done, total, "done");
    Ok(results)
}

/// All scenarios, for callers that want them all.
pub fn all_scenarios() -> Vec<&'static str> {
    SCENARIOS.to_vec()
}
