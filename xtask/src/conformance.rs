//! The servers nobody here wrote: pywebsocket3, the WebSocket server of the
//! web-platform-tests, serving the WPT-style handlers in
//! `conformance/handlers/` for `tests/browser/conformance.rs`; the npm
//! package rpc-websockets, a JSON-RPC 2.0 server, for
//! `tests/browser/requests.rs`; and the npm package graphql-ws, a
//! graphql-transport-ws server, for `tests/browser/graphql.rs`. Each stopped
//! when dropped.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::shell;

/// The running server, stopped when dropped.
pub struct ConformanceServer {
    child: Child,
    pub origin: String,
}

impl ConformanceServer {
    /// Starts pywebsocket3 with the venv's `python` on `port` and waits until
    /// it accepts connections. Its log goes to `target/conformance-server.log`.
    pub fn start(python: &Path, port: u16) -> Result<Self, String> {
        let mut command = Command::new(python);
        command
            .args(["-m", "pywebsocket3.standalone", "-H", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .arg("-d")
            .arg(shell::root().join("conformance/handlers"))
            .args(["--log-level", "warning"]);
        Self::launch("pywebsocket3", command, port, "conformance-server.log")
    }

    /// Starts the JSON-RPC server (`conformance/rpc/server.mjs`, on the npm
    /// package rpc-websockets installed in `rpc_dir`) on `port`, for the
    /// request layer's tests. Its log goes to `target/rpc-server.log`.
    pub fn start_rpc(rpc_dir: &Path, port: u16) -> Result<Self, String> {
        Self::launch_node(
            rpc_dir,
            "server.mjs",
            port,
            "rpc-websockets",
            "rpc-server.log",
        )
    }

    /// Starts the GraphQL server (`conformance/rpc/graphql.mjs`, on the npm
    /// package graphql-ws installed in `rpc_dir`) on `port`. Its log goes to
    /// `target/graphql-server.log`.
    pub fn start_graphql(rpc_dir: &Path, port: u16) -> Result<Self, String> {
        Self::launch_node(
            rpc_dir,
            "graphql.mjs",
            port,
            "graphql-ws",
            "graphql-server.log",
        )
    }

    fn launch_node(
        dir: &Path,
        script: &str,
        port: u16,
        name: &str,
        log: &str,
    ) -> Result<Self, String> {
        let mut command = Command::new("node");
        command
            .arg(dir.join(script))
            .arg(port.to_string())
            .current_dir(dir);
        Self::launch(name, command, port, log)
    }

    /// Spawns `command` (the server `name`), its output into `target/LOG`,
    /// and waits until `port` accepts connections.
    fn launch(name: &str, mut command: Command, port: u16, log: &str) -> Result<Self, String> {
        let log_path = shell::root().join("target").join(log);
        let log = std::fs::File::create(&log_path).map_err(|error| error.to_string())?;
        let errors = log.try_clone().map_err(|error| error.to_string())?;
        let child = command
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(errors))
            .spawn()
            .map_err(|error| format!("cannot start {name}: {error}"))?;
        let mut server = Self {
            child,
            origin: format!("ws://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = server.child.try_wait().map_err(|error| error.to_string())?;
            if exited.is_some() || started.elapsed() > Duration::from_secs(20) {
                return Err(format!(
                    "{name} did not start on port {port} (see {})",
                    log_path.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        println!("{name} at {}", server.origin);
        Ok(server)
    }
}

impl Drop for ConformanceServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
