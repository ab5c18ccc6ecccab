//! The shared socket across real windows: three windows of `tabs.html` share
//! one connection to the test server's recording route; each window's
//! messages reach the server once and in its order, and every window receives
//! every message; the leading window closed, another leads and connects
//! again, and what the others sent meanwhile reaches the new connection once,
//! in order; the new leading window goes to another page (into the
//! back/forward cache where the browser keeps it): the other window leads and
//! connects meanwhile, and after Back both get what both send.

use std::time::{Duration, Instant};

use fantoccini::wd::WindowHandle;
use fantoccini::Client;

use crate::WAIT;
use serde_json::{json, Value};

const WINDOWS: usize = 3;
const PER_WINDOW: usize = 3;

/// Runs the check; on success, what it measured.
pub async fn share_one_connection(client: &Client, page: &str) -> Result<String, String> {
    let origin = page.trim_end_matches('/');
    let id = format!("tabs-e2e-{}", now_millis());
    let url = format!("{origin}/tabs.html?name={id}&path=%2Frecord%3Fid%3D{id}");
    let mut windows = vec![client.window().await.map_err(wd)?];
    for _ in 1..WINDOWS {
        windows.push(client.new_window(false).await.map_err(wd)?.handle);
    }
    for window in &windows {
        client.switch_to_window(window.clone()).await.map_err(wd)?;
        client.goto(&url).await.map_err(wd)?;
    }
    let leader = one_leader_all_open(client, &windows).await?;

    let sent = send_from_each(client, &windows, "first").await?;
    let received = all_received(client, &windows, sent.len()).await?;
    let log = server_log(client, origin, &id).await?;
    if log.len() != 1 || log[0] != received {
        return Err(format!(
            "expected one session with {received:?}; the server logged {log:?}"
        ));
    }
    each_in_order(&log[0], &sent)?;

    // Close the leading window; the others carry on.
    client
        .switch_to_window(windows[leader].clone())
        .await
        .map_err(wd)?;
    let closed_at = page_now(client).await?;
    client.close_window().await.map_err(wd)?;
    let rest: Vec<WindowHandle> = windows
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != leader)
        .map(|(_, window)| window.clone())
        .collect();
    client.switch_to_window(rest[0].clone()).await.map_err(wd)?;
    // Sent at once: some may go while no window leads; they wait.
    let sent_after = send_from_each(client, &rest, "second").await?;
    let new_leader = one_leader_all_open(client, &rest).await?;
    client
        .switch_to_window(rest[new_leader].clone())
        .await
        .map_err(wd)?;
    let connected_at = last_event_time(client, "Connected").await?;
    let failover_ms = connected_at - closed_at;

    all_received(client, &rest, sent.len() + sent_after.len()).await?;
    let log = server_log(client, origin, &id).await?;
    if log.len() != 2 || log[1].len() != sent_after.len() {
        return Err(format!(
            "expected a second session with {sent_after:?}; the server logged {log:?}"
        ));
    }
    each_in_order(&log[1], &sent_after)?;
    crate::figure(
        "leading window closed: another leads and is connected",
        &format!("{failover_ms:.0} ms"),
    );
    let away = leader_goes_away_and_back(client, origin, &id, &rest, new_leader).await?;
    Ok(format!(
        "{WINDOWS} windows: 1 connection on the server; the leader's window closed, \
         the next connected {failover_ms:.0} ms later; {} and {} messages, each once; {away}",
        sent.len(),
        sent_after.len()
    ))
}

/// The leading window navigates to another page, and later Back: while it is
/// away (in the back/forward cache or unloaded) the other window leads and
/// connects; back, it shares the connection again, and both windows get what
/// either sends.
async fn leader_goes_away_and_back(
    client: &Client,
    origin: &str,
    id: &str,
    windows: &[WindowHandle],
    leader: usize,
) -> Result<String, String> {
    let other = 1 - leader;
    client
        .switch_to_window(windows[leader].clone())
        .await
        .map_err(wd)?;
    let here = client.current_url().await.map_err(wd)?;
    script(client, crate::MARK_PAGE).await?;
    let left_at = page_now(client).await?;
    client
        .goto(&format!("{origin}/plain?away"))
        .await
        .map_err(wd)?;
    one_leader_all_open(client, &windows[other..=other])
        .await
        .map_err(|error| format!("while the leader's window is away: {error}"))?;
    let led_at = last_event_time(client, "Connected").await?;
    client
        .switch_to_window(windows[leader].clone())
        .await
        .map_err(wd)?;
    client.back().await.map_err(wd)?;
    let deadline = Instant::now() + WAIT;
    while client.current_url().await.map_err(wd)? != here {
        if Instant::now() > deadline {
            return Err("Back did not return".to_owned());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let restored = script(client, crate::RESTORED).await? == Value::Bool(true);
    one_leader_all_open(client, windows).await?;
    let sent = send_from_each(client, windows, "third").await?;
    let received = all_received_last(client, windows, sent.len()).await?;
    let log = server_log(client, origin, id).await?;
    let last = log.last().cloned().unwrap_or_default();
    let tail: Vec<String> = last.iter().rev().take(sent.len()).rev().cloned().collect();
    if tail.len() != sent.len() || received != tail {
        return Err(format!(
            "after Back: received {received:?}; the server's last session {last:?}"
        ));
    }
    each_in_order(&tail, &sent)?;
    crate::figure(
        "leading window to another page: the other is connected",
        &format!("{:.0} ms", led_at - left_at),
    );
    crate::figure(
        "leading window back: its page",
        if restored {
            "restored from the back/forward cache"
        } else {
            "loaded again"
        },
    );
    Ok(format!(
        "the leading window went to another page and the other connected {:.0} ms later; \
         after Back (page {}), {} messages reached both windows",
        led_at - left_at,
        if restored {
            "restored from the back/forward cache"
        } else {
            "loaded again"
        },
        sent.len()
    ))
}

/// Waits until exactly one window leads and every window's connection is
/// open; returns the leader's index.
async fn one_leader_all_open(client: &Client, windows: &[WindowHandle]) -> Result<usize, String> {
    let deadline = Instant::now() + WAIT;
    let mut states = Vec::new();
    while Instant::now() < deadline {
        states.clear();
        for window in windows {
            client.switch_to_window(window.clone()).await.map_err(wd)?;
            states.push(script(client, "return [document.getElementById('tab-role').textContent, document.getElementById('tab-connected').textContent]").await?);
        }
        let roles: Vec<&str> = states.iter().map(|s| s[0].as_str().unwrap_or("")).collect();
        let all_open = states.iter().all(|s| s[1].as_str() == Some("open"));
        let leaders: Vec<usize> = (0..roles.len()).filter(|&i| roles[i] == "leader").collect();
        let others_follow =
            roles.iter().filter(|role| **role == "follower").count() == roles.len() - 1;
        if all_open && leaders.len() == 1 && others_follow {
            return Ok(leaders[0]);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!(
        "no single leader with every window open: {states:?}"
    ))
}

/// Sends `PER_WINDOW` messages from each window; returns them all, by window.
async fn send_from_each(
    client: &Client,
    windows: &[WindowHandle],
    label: &str,
) -> Result<Vec<String>, String> {
    let mut sent = Vec::new();
    for (index, window) in windows.iter().enumerate() {
        client.switch_to_window(window.clone()).await.map_err(wd)?;
        for k in 0..PER_WINDOW {
            let text = format!("{label} w{index} #{k}");
            client
                .execute(
                    "const input = document.getElementById('tab-text'); input.value = arguments[0]; document.getElementById('tab-form').requestSubmit();",
                    vec![json!(text)],
                )
                .await
                .map_err(wd)?;
            sent.push(text);
        }
    }
    Ok(sent)
}

/// Every window's received messages, as its page lists them.
async fn received_lists(
    client: &Client,
    windows: &[WindowHandle],
) -> Result<Vec<Vec<String>>, String> {
    let mut lists = Vec::new();
    for window in windows {
        client.switch_to_window(window.clone()).await.map_err(wd)?;
        let texts = script(
            client,
            "return [...document.querySelectorAll('#tab-received li')].map(li => li.textContent)",
        )
        .await?;
        lists.push(strings(&texts));
    }
    Ok(lists)
}

/// Waits until every window received `count` messages, the same ones in the
/// same order; returns them.
async fn all_received(
    client: &Client,
    windows: &[WindowHandle],
    count: usize,
) -> Result<Vec<String>, String> {
    let deadline = Instant::now() + WAIT;
    let mut lists: Vec<Vec<String>> = Vec::new();
    while Instant::now() < deadline {
        lists = received_lists(client, windows).await?;
        if lists.iter().all(|list| list.len() >= count) {
            if lists
                .iter()
                .any(|list| list != &lists[0] || list.len() != count)
            {
                return Err(format!("the windows received differently: {lists:?}"));
            }
            // The first window's list may hold earlier messages too: the last `count`.
            return Ok(lists[0].clone());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!(
        "not every window received {count} messages: {lists:?}"
    ))
}

/// Waits until the last `count` messages of every window are the same; returns
/// them. (A window loaded again holds fewer of the earlier ones.)
async fn all_received_last(
    client: &Client,
    windows: &[WindowHandle],
    count: usize,
) -> Result<Vec<String>, String> {
    let deadline = Instant::now() + WAIT;
    let mut tails: Vec<Vec<String>> = Vec::new();
    while Instant::now() < deadline {
        tails = received_lists(client, windows).await?;
        for tail in &mut tails {
            tail.drain(..tail.len().saturating_sub(count));
        }
        if tails
            .iter()
            .all(|tail| tail.len() == count && tail == &tails[0])
        {
            return Ok(tails[0].clone());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!(
        "the windows' last {count} messages differ: {tails:?}"
    ))
}

/// Each window's messages appear in `log` once, in the order sent.
fn each_in_order(log: &[String], sent: &[String]) -> Result<(), String> {
    for window in 0..WINDOWS {
        let tag = format!(" w{window} #");
        let logged: Vec<&String> = log.iter().filter(|m| m.contains(&tag)).collect();
        let expected: Vec<&String> = sent.iter().filter(|m| m.contains(&tag)).collect();
        if logged != expected {
            return Err(format!(
                "window {window}: sent {expected:?}, logged {logged:?}"
            ));
        }
    }
    Ok(())
}

/// The sessions the server's `/record` route logged for `id`, read from the
/// current window.
pub(crate) async fn server_log(
    client: &Client,
    origin: &str,
    id: &str,
) -> Result<Vec<Vec<String>>, String> {
    let url = format!("{}/record-log?id={id}", origin.replacen("http", "ws", 1));
    let text = client
        .execute_async(
            "const done = arguments[arguments.length - 1]; const ws = new WebSocket(arguments[0]); ws.onmessage = (e) => done(e.data); ws.onerror = () => done('error');",
            vec![json!(url)],
        )
        .await
        .map_err(wd)?;
    let text = text.as_str().unwrap_or("");
    serde_json::from_str(text).map_err(|error| format!("record log {text:?}: {error}"))
}

async fn last_event_time(client: &Client, event: &str) -> Result<f64, String> {
    let time = script(
        client,
        &format!("const items = [...document.querySelectorAll('#tab-events li')].filter(li => li.textContent === '{event}'); return items.length ? Number(items[items.length - 1].dataset.time) : null"),
    )
    .await?;
    time.as_f64().ok_or_else(|| format!("no {event} event"))
}

async fn page_now(client: &Client) -> Result<f64, String> {
    script(client, "return Date.now()")
        .await?
        .as_f64()
        .ok_or_else(|| "no time".to_owned())
}

async fn script(client: &Client, source: &str) -> Result<Value, String> {
    client.execute(source, vec![]).await.map_err(wd)
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| item.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn now_millis() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or_default()
}

pub(crate) fn wd(error: impl std::fmt::Display) -> String {
    format!("WebDriver: {error}")
}
