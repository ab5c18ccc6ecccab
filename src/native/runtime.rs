//! The IO runtime natively: one thread of the crate's own, running a tokio
//! runtime for every connection and timer of the process. The app may use any
//! executor (tokio, async-std, smol, `block_on`): nothing of it is asked for.

use std::sync::OnceLock;

use crate::rules::error::{Error, Result};

static RUNTIME: OnceLock<Option<tokio::runtime::Handle>> = OnceLock::new();

/// The runtime, started on first use. `Err` if the system refused a thread
/// or the IO driver (then no socket can open, and each says so).
pub(crate) fn handle() -> Result<&'static tokio::runtime::Handle> {
    RUNTIME
        .get_or_init(start)
        .as_ref()
        .ok_or_else(|| Error::Js {
            name: "NotSupportedError".to_owned(),
            message: "could not start the IO thread".to_owned(),
        })
}

fn start() -> Option<tokio::runtime::Handle> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .ok()?;
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name("browser-websocket-io".to_owned())
        .spawn(move || runtime.block_on(std::future::pending::<()>()))
        .ok()?;
    Some(handle)
}
