//! The `/bench` page: runs the suite in the visitor's browser with a progress
//! bar, then shows the table and the chart. `?auto=1` starts at once (used by
//! `cargo xtask bench`), `?rounds=N` caps the rounds kept per scenario (default
//! 300), `?budget=S` the seconds per scenario (default 30), `?warmup=N` the
//! rounds thrown away first (default 2), `?browser=NAME` names the browser in
//! the results, `?scenarios=a,b` runs only those.

use std::cell::RefCell;

use browser_websocket_bench_report::{markdown_table, svg_chart, SCENARIOS};
use gloo_events::EventListener;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

thread_local! {
    static START_LISTENER: RefCell<Option<EventListener>> = const { RefCell::new(None) };
}

fn element<T: JsCast>(id: &str) -> Option<T> {
    web_sys::window()?
        .document()?
        .get_element_by_id(id)?
        .dyn_into()
        .ok()
}

fn set_text(id: &str, text: &str) {
    if let Some(element) = element::<web_sys::Element>(id) {
        element.set_text_content(Some(text));
    }
}

fn query(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// A short browser name from the user agent, for visitors' own runs.
fn browser_name() -> String {
    let agent = web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default();
    if agent.contains("Firefox") {
        "firefox"
    } else if agent.contains("Chrom") {
        "chrome"
    } else if agent.contains("AppleWebKit") {
        "webkit"
    } else {
        "browser"
    }
    .to_owned()
}

#[wasm_bindgen(start)]
pub fn start() {
    if let Some(button) = element::<web_sys::HtmlButtonElement>("start") {
        let listener = EventListener::new(&button, "click", |_| {
            wasm_bindgen_futures::spawn_local(run())
        });
        START_LISTENER.with(|slot| *slot.borrow_mut() = Some(listener));
    }
    if query("auto").as_deref() == Some("1") {
        wasm_bindgen_futures::spawn_local(run());
    }
}

async fn run() {
    let Some(button) = element::<web_sys::HtmlButtonElement>("start") else {
        return;
    };
    if button.disabled() {
        return;
    }
    button.set_disabled(true);
    let defaults = crate::Plan::default();
    let plan = crate::Plan {
        warmup_rounds: query("warmup")
            .and_then(|s| s.parse().ok())
            .unwrap_or(defaults.warmup_rounds),
        max_rounds: query("rounds")
            .and_then(|s| s.parse().ok())
            .filter(|n| *n > 1)
            .unwrap_or(defaults.max_rounds),
        budget_ms: query("budget")
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .map_or(defaults.budget_ms, |seconds| seconds * 1000.0),
    };
    let browser = query("browser").unwrap_or_else(browser_name);
    let wanted = query("scenarios");
    let scenarios: Vec<&str> = SCENARIOS
        .iter()
        .copied()
        .filter(|scenario| {
            wanted
                .as_deref()
                .is_none_or(|list| list.split(',').any(|w| w == *scenario))
        })
        .collect();
    let host = web_sys::window()
        .and_then(|w| w.location().host().ok())
        .unwrap_or_default();
    let origin = format!("ws://{host}");
    let progress = element::<web_sys::HtmlProgressElement>("progress");
    let outcome = crate::run_suite(&origin, &browser, plan, &scenarios, |fraction, label| {
        if let Some(progress) = &progress {
            progress.set_max(1.0);
            progress.set_value(fraction);
        }
        set_text("status", label);
    })
    .await;
    match outcome {
        Ok(results) => {
            set_text("table", &markdown_table(&results, &[]));
            if let Some(chart) = element::<web_sys::Element>("chart") {
                chart.set_inner_html(&svg_chart(&results));
            }
            let json = serde_json::to_string(&results).unwrap_or_default();
            set_text("results-json", &json);
            set_text(
                "status",
                &format!("done: {} measurements in {browser}", results.len()),
            );
        }
        Err(error) => {
            set_text("status", &format!("failed: {error}"));
            set_text(
                "results-json",
                &serde_json::json!({ "error": error }).to_string(),
            );
        }
    }
    button.set_disabled(false);
}
