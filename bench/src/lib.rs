//! The benchmark suite, run in the browser: each scenario written three times,
//! in raw JavaScript (`raw.js`), with this crate, and with gloo-net 0.7, timed
//! the same way (from the first send, or the request that starts a flood, to the
//! last byte received, or for `bulk_send` to the browser's buffer draining;
//! connecting and closing are not timed). The `flood` also runs read four more
//! ways, to show where a per-message cost comes from: this crate's callbacks
//! API, and raw JS that awaits a promise per message, that reads each
//! message's bytes, or that calls into wasm once per message (see
//! [`browser_websocket_bench_report::READING_CONTENDERS`]).
//!
//! The contenders take turns sample by sample, in rounds: each round runs each
//! contender once, in the order [`rotation`] gives, and the first rounds are
//! warm-ups that are thrown away. Each crate's time is paired with raw JS's in
//! the same round, and the rounds go on until every crate's ratio to raw JS is
//! settled (its 95 % interval narrower than ± 0.03) or the scenario's round or
//! time budget is spent. A crate whose ratio is settled stops running, so the
//! rounds that remain are shorter.
#![forbid(unsafe_code)]

mod contenders;
mod json;
mod page;
mod requests;

use std::hint::black_box;

use contenders::peers;

use browser_websocket_bench_report::{
    contenders, median, paired_ratios, ratio_interval, rotation, with_intervals, Measurement,
    SCENARIOS,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(module = "/src/raw.js")]
extern "C" {
    fn now() -> f64;
    #[wasm_bindgen(js_name = rawEcho, catch)]
    async fn raw_echo(url: &str, count: u32, size: u32, text: bool) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = rawEchoTextToWasm, catch)]
    async fn raw_echo_text_to_wasm(
        url: &str,
        count: u32,
        size: u32,
        to_wasm: &Closure<dyn FnMut(String) -> u32>,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = rawEchoTextEncodeInto, catch)]
    async fn raw_echo_text_encode_into(
        url: &str,
        count: u32,
        size: u32,
        memory: &JsValue,
        address: u32,
        capacity: u32,
        to_wasm: &Closure<dyn FnMut(u32) -> u32>,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = rawJsonEcho, catch)]
    async fn raw_json_echo(url: &str, count: u32, payload: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = rawJsonEcho, catch)]
    async fn raw_json_echo_to_wasm(
        url: &str,
        count: u32,
        payload: &str,
        to_wasm: &Closure<dyn FnMut(JsValue) -> u32>,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = rawRequests, catch)]
    async fn raw_requests(url: &str, count: u32, payload: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = rawFlood, catch)]
    async fn raw_flood(url: &str, count: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = rawFloodAwait, catch)]
    async fn raw_flood_await(url: &str, count: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = rawFloodReadingBytes, catch)]
    async fn raw_flood_reading_bytes(url: &str, count: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = rawFloodCallingWasm, catch)]
    async fn raw_flood_calling_wasm(
        url: &str,
        count: u32,
        call_wasm: &Closure<dyn FnMut(u32)>,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = rawBulk, catch)]
    async fn raw_bulk(url: &str, total: u32, chunk: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = rawBulk, catch)]
    async fn raw_bulk_paced(
        url: &str,
        total: u32,
        chunk: u32,
        high: u32,
        low: u32,
    ) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = trackSockets)]
    fn track_sockets(on: bool);
    #[wasm_bindgen(js_name = notePeak)]
    fn note_peak();
    #[wasm_bindgen(js_name = peakBuffered)]
    fn peak_buffered() -> f64;
    #[wasm_bindgen(js_name = bufferedReadCount)]
    fn buffered_read_count() -> f64;
    async fn drained() -> JsValue;
    #[wasm_bindgen(js_name = collectGarbage)]
    fn collect_garbage();
    #[wasm_bindgen(js_name = jsHeapUsed)]
    fn js_heap_used() -> f64;
}

/// The sizes of each scenario's sample (one run of one contender).
pub mod sizes {
    /// `echo_binary` / `echo_text`: this many messages of `ECHO_SIZE` bytes.
    pub const ECHO_COUNT: u32 = 1_000;
    pub const ECHO_SIZE: u32 = 1024;
    pub const FLOOD_COUNT: u32 = 5_000;
    pub const FLOOD_SIZE: u32 = 64;
    pub const LARGE_SIZE: u32 = 8 << 20;
    pub const BULK_TOTAL: u32 = 32 << 20;
    pub const BULK_CHUNK: u32 = 64 << 10;
    /// `json_small`: this many copies of a one-item document (about 100 bytes).
    pub const JSON_SMALL_COUNT: u32 = 1_000;
    /// `json_large`: this many copies of a 64 KiB document.
    pub const JSON_LARGE_COUNT: u32 = 20;
    pub const JSON_LARGE_SIZE: usize = 64 << 10;
    /// `requests`: this many requests of `REQUESTS_PAYLOAD` bytes, sent back
    /// to back.
    pub const REQUESTS_COUNT: u32 = 1_000;
    pub const REQUESTS_PAYLOAD: usize = 64;
    /// The reader's pace for `bulk_send`, bytes per second: far above what a
    /// browser sends, so the time measured is the sender's, not the reader's.
    pub const BULK_RATE: u64 = 1 << 40;
}

/// How long each scenario may run.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Rounds run first and thrown away.
    pub warmup_rounds: u32,
    /// At most this many rounds are kept.
    pub max_rounds: u32,
    /// A scenario starts no new round after this many ms (warm-ups included).
    pub budget_ms: f64,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            warmup_rounds: 2,
            max_rounds: 300,
            budget_ms: 30_000.0,
        }
    }
}

/// One timed run: milliseconds, and for `bulk_send` the memory figures.
#[derive(Default)]
pub struct Sample {
    pub ms: f64,
    pub peak_buffered: Option<f64>,
    pub wasm_growth: Option<f64>,
    pub heap_growth: Option<f64>,
    pub buffered_reads_per_mib: Option<f64>,
}

/// The byte length of the page's wasm memory.
fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length()
        .into()
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
    if scenario == "bulk_send" {
        return bulk_once(origin, implementation).await;
    }
    if scenario == "requests" {
        let ms = requests::once(&format!("{origin}/echo"), implementation).await?;
        return Ok(Sample {
            ms,
            ..Sample::default()
        });
    }
    if let Some((count, payload)) = json::scenario(scenario) {
        let ms = json::once(&format!("{origin}/echo"), implementation, count, &payload).await?;
        return Ok(Sample {
            ms,
            ..Sample::default()
        });
    }
    use sizes::*;
    let echo = format!("{origin}/echo");
    let flood = format!("{origin}/flood?n={FLOOD_COUNT}&size={FLOOD_SIZE}");
    let ms = match (implementation, scenario) {
        ("raw_js", "echo_binary") => raw_ms(raw_echo(&echo, ECHO_COUNT, ECHO_SIZE, false).await),
        ("raw_js", "echo_text") => raw_ms(raw_echo(&echo, ECHO_COUNT, ECHO_SIZE, true).await),
        ("raw_js_text_to_wasm", "echo_text") => {
            let to_wasm = Closure::<dyn FnMut(String) -> u32>::new(|text: String| {
                black_box(text).len() as u32
            });
            raw_ms(raw_echo_text_to_wasm(&echo, ECHO_COUNT, ECHO_SIZE, &to_wasm).await)
        }
        ("raw_js_text_encode_into", "echo_text") => text_encoded_into_wasm(&echo).await,
        ("raw_js", "flood") => raw_ms(raw_flood(&flood, FLOOD_COUNT).await),
        ("raw_js_await", "flood") => raw_ms(raw_flood_await(&flood, FLOOD_COUNT).await),
        ("raw_js_wasm_call", "flood") => {
            let bytes = std::rc::Rc::new(std::cell::Cell::new(0u64));
            let counted = std::rc::Rc::clone(&bytes);
            let call_wasm = Closure::<dyn FnMut(u32)>::new(move |len: u32| {
                counted.set(counted.get() + u64::from(len));
            });
            let ms = raw_ms(raw_flood_calling_wasm(&flood, FLOOD_COUNT, &call_wasm).await);
            std::hint::black_box(bytes.get());
            ms
        }
        ("raw_js_bytes", "flood") => raw_ms(raw_flood_reading_bytes(&flood, FLOOD_COUNT).await),
        ("this_crate_callbacks", "flood") => {
            contenders::this_crate::flood_with_callbacks(&flood, FLOOD_COUNT).await
        }
        ("raw_js", "large") => raw_ms(raw_echo(&echo, 1, LARGE_SIZE, false).await),
        ("this_crate", "echo_binary") => {
            contenders::this_crate::echo(&echo, ECHO_COUNT, ECHO_SIZE, false).await
        }
        ("this_crate", "echo_text") => {
            contenders::this_crate::echo(&echo, ECHO_COUNT, ECHO_SIZE, true).await
        }
        ("this_crate", "flood") => contenders::this_crate::flood(&flood, FLOOD_COUNT).await,
        ("this_crate", "large") => contenders::this_crate::echo(&echo, 1, LARGE_SIZE, false).await,
        ("gloo_net", _) => run_peer::<peers::Gloo>(scenario, &echo, &flood).await,
        ("ws_stream_wasm", _) => run_peer::<peers::WsStreamWasm>(scenario, &echo, &flood).await,
        ("websocket_web", _) => run_peer::<peers::WebsocketWeb>(scenario, &echo, &flood).await,
        _ => Err(format!(
            "unknown scenario {scenario:?} or implementation {implementation:?}"
        )),
    }?;
    Ok(Sample {
        ms,
        ..Sample::default()
    })
}

/// `echo_text` with each text encoded by JS straight into a wasm buffer
/// (`TextEncoder.encodeInto`), and wasm making its `String` from the bytes.
async fn text_encoded_into_wasm(echo: &str) -> Result<f64, String> {
    use sizes::*;
    let capacity = ECHO_SIZE * 3;
    // Written by JS between the calls below, so held as mutable data.
    let scratch = std::rc::Rc::new(std::cell::RefCell::new(vec![0u8; capacity as usize]));
    // The buffer's address in wasm memory, for JS to write into.
    let address = scratch.borrow_mut().as_mut_ptr() as usize as u32;
    let read = std::rc::Rc::clone(&scratch);
    let to_wasm = Closure::<dyn FnMut(u32) -> u32>::new(move |written: u32| {
        let buffer = read.borrow_mut();
        let bytes = buffer.get(..written as usize).unwrap_or_default();
        std::str::from_utf8(bytes).map_or(0, |text| black_box(text.to_owned()).len() as u32)
    });
    let ms = raw_ms(
        raw_echo_text_encode_into(
            echo,
            ECHO_COUNT,
            ECHO_SIZE,
            &wasm_bindgen::memory(),
            address,
            capacity,
            &to_wasm,
        )
        .await,
    );
    drop(scratch);
    ms
}

/// One scenario but `bulk_send` with another crate.
async fn run_peer<P: peers::Peer>(scenario: &str, echo: &str, flood: &str) -> Result<f64, String>
where
    <P::Socket as futures_util::Sink<P::Message>>::Error: std::fmt::Debug,
{
    use sizes::*;
    match scenario {
        "echo_binary" => peers::echo::<P>(echo, ECHO_COUNT, ECHO_SIZE, false).await,
        "echo_text" => peers::echo::<P>(echo, ECHO_COUNT, ECHO_SIZE, true).await,
        "flood" => peers::flood::<P>(flood, FLOOD_COUNT).await,
        "large" => peers::echo::<P>(echo, 1, LARGE_SIZE, false).await,
        _ => Err(format!("unknown scenario {scenario:?}")),
    }
}

/// `bulk_send` once: the time until the browser's buffer drains, its peak,
/// and how much the wasm memory and the JS heap grew over the run (the heap
/// from just after a forced collection where there is one, so the figure is
/// what the run allocated and had not yet collected when it ended).
async fn bulk_once(origin: &str, implementation: &str) -> Result<Sample, String> {
    use sizes::*;
    let url = format!("{origin}/slow?rate={BULK_RATE}");
    let wasm_before = wasm_memory_bytes();
    let heap_before = js_heap_used();
    track_sockets(true);
    let ms = match implementation {
        "raw_js" => raw_ms(raw_bulk(&url, BULK_TOTAL, BULK_CHUNK).await),
        "raw_js_paced" => {
            let flow = browser_websocket::FlowControl::default();
            raw_ms(raw_bulk_paced(&url, BULK_TOTAL, BULK_CHUNK, flow.high(), flow.low()).await)
        }
        "this_crate" => contenders::this_crate::bulk(&url, BULK_TOTAL, BULK_CHUNK).await,
        "this_crate_reconnecting" => {
            contenders::this_crate::bulk_reconnecting(&url, BULK_TOTAL, BULK_CHUNK).await
        }
        "gloo_net" => peers::bulk::<peers::Gloo>(&url, BULK_TOTAL, BULK_CHUNK).await,
        "ws_stream_wasm" => peers::bulk::<peers::WsStreamWasm>(&url, BULK_TOTAL, BULK_CHUNK).await,
        "websocket_web" => peers::bulk::<peers::WebsocketWeb>(&url, BULK_TOTAL, BULK_CHUNK).await,
        _ => Err(format!("unknown implementation {implementation:?}")),
    };
    let peak = peak_buffered();
    let reads = buffered_read_count();
    track_sockets(false);
    let heap_after = js_heap_used();
    Ok(Sample {
        ms: ms?,
        peak_buffered: Some(peak).filter(|peak| peak.is_finite()),
        wasm_growth: Some(wasm_memory_bytes() - wasm_before),
        heap_growth: Some(heap_after - heap_before).filter(|growth| growth.is_finite()),
        buffered_reads_per_mib: Some(reads / f64::from(BULK_TOTAL >> 20)),
    })
}

pub(crate) fn raw_ms(result: Result<JsValue, JsValue>) -> Result<f64, String> {
    let ms = result.map_err(js_error)?.as_f64().unwrap_or(f64::NAN);
    if ms.is_finite() {
        Ok(ms)
    } else {
        Err("raw JS run returned no time".to_owned())
    }
}

/// Runs the whole suite: every scenario, in rounds (see the crate's
/// documentation) within `plan`. Calls `progress(fraction done, label)` before
/// each run.
pub async fn run_suite(
    origin: &str,
    browser: &str,
    plan: Plan,
    scenarios: &[&str],
    mut progress: impl FnMut(f64, &str),
) -> Result<Vec<Measurement>, String> {
    let mut results = Vec::new();
    for (scenario_index, scenario) in scenarios.iter().enumerate() {
        let implementations = contenders(scenario);
        let contenders = implementations.len();
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); contenders];
        let mut peaks: Vec<Option<f64>> = vec![None; contenders];
        let mut wasm_growth: Vec<Option<f64>> = vec![None; contenders];
        let mut heap_growth: Vec<Vec<f64>> = vec![Vec::new(); contenders];
        let mut reads: Vec<Vec<f64>> = vec![Vec::new(); contenders];
        // Raw JS (index 0) always runs: it is every round's baseline.
        let mut running = vec![true; contenders];
        let started = now();
        let mut round: u32 = 0;
        loop {
            let kept = round >= plan.warmup_rounds;
            let active: Vec<usize> = (0..contenders).filter(|i| running[*i]).collect();
            for position in rotation(round as usize, active.len()) {
                let index = active[position];
                let implementation = implementations[index];
                let elapsed = (now() - started) / plan.budget_ms;
                let label = if kept {
                    format!(
                        "{scenario} · round {} · {implementation}",
                        round - plan.warmup_rounds + 1
                    )
                } else {
                    format!("{scenario} · warm-up · {implementation}")
                };
                progress(
                    (scenario_index as f64 + elapsed.min(1.0)) / scenarios.len() as f64,
                    &label,
                );
                collect_garbage();
                let sample = run_once(origin, scenario, implementation)
                    .await
                    .map_err(|error| format!("{scenario} with {implementation}: {error}"))?;
                if let Some(peak) = sample.peak_buffered {
                    peaks[index] = Some(peaks[index].map_or(peak, |seen: f64| seen.max(peak)));
                }
                if let Some(growth) = sample.wasm_growth {
                    wasm_growth[index] =
                        Some(wasm_growth[index].map_or(growth, |seen: f64| seen.max(growth)));
                }
                heap_growth[index].extend(sample.heap_growth);
                reads[index].extend(sample.buffered_reads_per_mib);
                if kept {
                    times[index].push(sample.ms);
                }
            }
            round += 1;
            if !kept {
                continue;
            }
            let rounds = round - plan.warmup_rounds;
            // The bootstrap is not free (tens of ms on hundreds of rounds):
            // past 30 rounds, look every 5th.
            let look = rounds < 30 || rounds % 5 == 0;
            for index in 1..contenders {
                if running[index] && look {
                    let settled = ratio_interval(&paired_ratios(&times[0], &times[index]))
                        .is_some_and(|interval| interval.settled());
                    running[index] = !settled;
                }
            }
            if running[1..].iter().all(|running| !running)
                || rounds >= plan.max_rounds
                || now() - started >= plan.budget_ms
            {
                break;
            }
        }
        for (index, implementation) in implementations.iter().enumerate() {
            let samples = std::mem::take(&mut times[index]);
            let mut measurement =
                Measurement::new(browser, scenario, implementation, samples, peaks[index]);
            measurement.wasm_memory_growth_bytes = wasm_growth[index];
            measurement.js_heap_growth_bytes =
                Some(median(&heap_growth[index])).filter(|growth| growth.is_finite());
            measurement.buffered_reads_per_mib =
                Some(median(&reads[index])).filter(|reads| reads.is_finite());
            results.push(measurement);
        }
    }
    with_intervals(&mut results);
    progress(1.0, "done");
    Ok(results)
}

/// All scenarios, for callers that want them all.
pub fn all_scenarios() -> Vec<&'static str> {
    SCENARIOS.to_vec()
}
