//! The outbox across a real reload: `outbox.html` sends a message the
//! server never acknowledges (its `/record` session is muted first), the page
//! is loaded again with the same outbox name and a session that answers, and
//! the message goes out again with the same id and is acknowledged; a third
//! load finds the outbox empty.

use std::time::{Duration, Instant};

use fantoccini::Client;

use crate::tabs::{now_millis, server_log, wd};
use crate::{click, fill, texts_of, WAIT};

/// Runs the check; on success, what it saw.
pub async fn kept_across_a_reload(client: &Client, page: &str) -> Result<String, String> {
    let origin = page.trim_end_matches('/');
    let id = format!("outbox-e2e-{}", now_millis());
    let page_for = |session: &str, mute: bool| {
        let mute = if mute { "&mute=1" } else { "" };
        format!("{origin}/outbox.html?name={id}&path=%2Frecord%3Fid%3D{id}-{session}{mute}")
    };
    client.goto(&page_for("muted", true)).await.map_err(wd)?;
    wait_text(client, "#outbox-state", |text| text == "restored 0").await?;
    fill(client, "#outbox-text", "kept").await?;
    click(client, "#outbox-send").await?;
    let sent = wait_text(client, "#outbox-sent li", |text| text.ends_with(" Sent")).await?;
    let message_id = sent.split(' ').next().unwrap_or_default().to_owned();

    // A new document: the page loaded again, with a session that answers.
    client
        .goto(&page_for("answering", false))
        .await
        .map_err(wd)?;
    wait_text(client, "#outbox-state", |text| text == "restored 1").await?;
    let acked = format!("{message_id} Acked");
    wait_text(client, "#outbox-restored li", |text| text == acked).await?;
    let log = server_log(client, origin, &format!("{id}-answering")).await?;
    let expected = format!("ack-me {message_id} kept");
    let first = log.first().and_then(|session| session.first());
    if first != Some(&expected) {
        return Err(format!(
            "the answering session received {log:?}, expected {expected:?} first"
        ));
    }

    client.refresh().await.map_err(wd)?;
    wait_text(client, "#outbox-state", |text| text == "restored 0").await?;
    Ok(format!(
        "message {message_id} sent, not acknowledged; after the reload sent again with id {message_id} and acknowledged; the next load found the outbox empty"
    ))
}

/// The text of the first element at `selector` that `wanted` accepts, once
/// there is one (looking every 100 ms, for at most `WAIT`).
async fn wait_text(
    client: &Client,
    selector: &str,
    wanted: impl Fn(&str) -> bool,
) -> Result<String, String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let texts = texts_of(client, selector).await;
        if let Some(text) = texts.iter().find(|text| wanted(text)) {
            return Ok(text.clone());
        }
        if Instant::now() > deadline {
            return Err(format!("{selector} shows {texts:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
