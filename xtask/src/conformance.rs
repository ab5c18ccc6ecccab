//! The conformance server: pywebsocket3, the WebSocket server of the
//! web-platform-tests, serving the WPT-style handlers in
//! `conformance/handlers/` for `tests/browser/conformance.rs`. Stopped when
//! dropped.

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
        let log_path = shell::root().join("target/conformance-server.log");
        let log = std::fs::File::create(&log_path).map_err(|error| error.to_string())?;
        let errors = log.try_clone().map_err(|error| error.to_string())?;
        let child = Command::new(python)
            .args(["-m", "pywebsocket3.standalone", "-H", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .arg("-d")
            .arg(shell::root().join("conformance/handlers"))
            .args(["--log-level", "warning"])
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(errors))
            .spawn()
            .map_err(|error| format!("cannot start pywebsocket3: {error}"))?;
        let mut server = Self {
            child,
            origin: format!("ws://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = server.child.try_wait().map_err(|error| error.to_string())?;
            if exited.is_some() || started.elapsed() > Duration::from_secs(20) {
                return Err(format!(
                    "pywebsocket3 did not start on port {port} (see {})",
                    log_path.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        println!("conformance server (pywebsocket3) at {}", server.origin);
        Ok(server)
    }
}

impl Drop for ConformanceServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
