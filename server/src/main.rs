//! The project's native server for the browser tests, the demo and the benchmarks.
//!
//! Binds 127.0.0.1 only, on `--port N` (default 0: the system picks), and prints
//! `listening on http://127.0.0.1:PORT` as its first line. With `--www DIR` it also
//! serves the demo page from `DIR`. Routes: see [`routes`]. The `/restart` route
//! makes it drop every WebSocket, stop listening, and listen again on the same
//! port, as a redeployed server would; `/instance` starts another server for a
//! test of its own (`--until-stdin-closes`: it stops when its parent lets go).

mod routes;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use std::future::IntoFuture;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

struct Options {
    port: u16,
    www: Option<PathBuf>,
    /// Stop when standard input closes (a server started by `/instance`).
    until_stdin_closes: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        www: None,
        until_stdin_closes: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a number")?;
                options.port = value.parse().map_err(|_| format!("bad port {value:?}"))?;
            }
            "--www" => options.www = Some(args.next().ok_or("--www needs a directory")?.into()),
            "--until-stdin-closes" => options.until_stdin_closes = true,
            "--help" | "-h" => {
                return Err(
                    "usage: browser-websocket-server [--port N] [--www DIR] [--until-stdin-closes]"
                        .to_owned(),
                )
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if options.until_stdin_closes {
        tokio::spawn(exit_when_stdin_closes());
    }
    let mut address = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let state = routes::AppState::default();
    let app = routes::router(options.www, state.clone());
    let mut first = true;
    loop {
        let listener = match bind(address).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("cannot listen on {address}: {error}");
                return ExitCode::FAILURE;
            }
        };
        if first {
            // With --port 0, restarts reuse the port the system chose.
            address = listener.local_addr().unwrap_or(address);
            println!("listening on http://{address}/");
            first = false;
        }
        // A restart drops the accept loop (and with it the listener) at once,
        // without waiting for open connections: a request that never ends must
        // not keep the server down.
        // TCP_NODELAY: a small write (an echo, the end of a burst) goes out at
        // once instead of waiting up to 40 ms for the peer's delayed ACK, which
        // made the benchmarks' echo times jump by that much at random.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let serving = axum::serve(listener, app.clone()).into_future();
        let stop = tokio::select! {
            result = serving => match result {
                Ok(()) => Stop::Quit,
                Err(error) => {
                    eprintln!("server error: {error}");
                    return ExitCode::FAILURE;
                }
            },
            () = state.restart_requested.notified() => Stop::Restart,
            _ = tokio::signal::ctrl_c() => Stop::Quit,
        };
        if stop == Stop::Quit {
            println!("stopped");
            return ExitCode::SUCCESS;
        }
        routes::AppState::drop_all_sockets();
        let down = state
            .restart
            .lock()
            .ok()
            .and_then(|mut down| down.take())
            .unwrap_or(1000);
        println!("restarting: down for {down} ms");
        tokio::time::sleep(std::time::Duration::from_millis(down)).await;
    }
}

#[derive(Debug, PartialEq)]
enum Stop {
    Restart,
    Quit,
}

/// Exits once standard input reaches its end: the process that started this
/// one (and held the other end) has let go of it, or died.
async fn exit_when_stdin_closes() {
    use tokio::io::AsyncReadExt;
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0u8; 256];
    while matches!(stdin.read(&mut buffer).await, Ok(read) if read > 0) {}
    std::process::exit(0);
}

/// Binds, retrying for a few seconds while the port is still held (after a restart).
async fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    let mut tries = 0;
    loop {
        match TcpListener::bind(address).await {
            Err(error) if error.kind() == std::io::ErrorKind::AddrInUse && tries < 50 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            result => return result,
        }
    }
}
