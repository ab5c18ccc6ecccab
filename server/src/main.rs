//! The project's native server for the browser tests, the demo and the benchmarks.
//!
//! Binds 127.0.0.1 only, on `--port N` (default 0: the system picks), and prints
//! `listening on http://127.0.0.1:PORT` as its first line. With `--www DIR` it also
//! serves the demo page from `DIR`. Routes: see [`routes`].

mod routes;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use tokio::net::TcpListener;

struct Options {
    port: u16,
    www: Option<PathBuf>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options { port: 0, www: None };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a number")?;
                options.port = value.parse().map_err(|_| format!("bad port {value:?}"))?;
            }
            "--www" => options.www = Some(args.next().ok_or("--www needs a directory")?.into()),
            "--help" | "-h" => {
                return Err("usage: websocket-web-server [--port N] [--www DIR]".to_owned())
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
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, options.port));
    let listener = match TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {address}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let bound = listener.local_addr().unwrap_or(address);
    println!("listening on http://{bound}/");
    let app = routes::router(options.www);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(error) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("server error: {error}");
        return ExitCode::FAILURE;
    }
    println!("stopped");
    ExitCode::SUCCESS
}
