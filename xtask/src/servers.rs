//! The servers the browser suites talk to: the project's test server and the
//! servers nobody here wrote (pywebsocket3, rpc-websockets, graphql-ws), each stopped
//! when dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::conformance::ConformanceServer;
use crate::shell::{self, cargo};

/// Where the browser tests look when not told otherwise (`tests/common`):
/// the README starts the servers by hand on these ports, and the test command
/// starts them there too, so that the README's commands are what runs.
pub const TEST_SERVER_PORT: u16 = 9001;
/// A port nothing listens on: the tests' refused connections.
pub const REFUSED_PORT: u16 = 9002;
/// The conformance server's port.
pub const CONFORMANCE_PORT: u16 = 9004;
/// The JSON-RPC server's port (rpc-websockets).
pub const RPC_PORT: u16 = 9005;
/// The GraphQL server's port (graphql-ws).
pub const GRAPHQL_PORT: u16 = 9006;

/// Which build of the test server: the tests use the debug build that
/// `cargo run` gives (built with the native tests' dependencies); the
/// benchmarks and the demo the release build.
#[derive(Clone, Copy)]
pub enum Build {
    Debug,
    Release,
}

/// The origin of the test server on [`TEST_SERVER_PORT`], as the tests
/// see it.
pub fn readme_test_origin() -> String {
    format!("ws://127.0.0.1:{TEST_SERVER_PORT}")
}

/// The test server, stopped when dropped.
pub struct TestServer {
    child: Child,
    pub origin: String,
}

impl TestServer {
    /// Builds `build` and starts it on a free port.
    pub fn start(build: Build) -> Result<Self, String> {
        Self::start_on(0, build)
    }

    /// Builds `build` and starts it on `port` (0: a free one), serving `www/`.
    pub fn start_on(port: u16, build: Build) -> Result<Self, String> {
        Self::spawn(&build_server(build)?, port)
    }

    /// Starts the built `binary` on `port` (0: a free one), serving `www/`.
    pub fn spawn(binary: &std::path::Path, port: u16) -> Result<Self, String> {
        let mut child = Command::new(binary)
            .args(["--port", &port.to_string(), "--www", "www"])
            .current_dir(shell::root())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
        let mut first_line = String::new();
        if let Some(stdout) = child.stdout.as_mut() {
            let _ = BufReader::new(stdout).read_line(&mut first_line);
        }
        let Some(address) = first_line.trim().strip_prefix("listening on http://") else {
            let _ = child.kill();
            return Err(format!("the test server did not start: {first_line:?}"));
        };
        let origin = format!("ws://{}", address.trim_end_matches('/'));
        println!("test server at {origin}");
        Ok(Self { child, origin })
    }

    /// The origin for pages: `http://127.0.0.1:PORT`.
    pub fn page_origin(&self) -> String {
        self.origin.replacen("ws:", "http:", 1)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds the test server (cargo skips it when up to date) and returns its binary.
pub fn build_server(build: Build) -> Result<PathBuf, String> {
    let mut command = match build {
        // The native build of the workspace, so that neither rebuilds it.
        Build::Debug => crate::test::native_workspace_build(),
        Build::Release => {
            let mut release = cargo();
            release.args(["build", "-p", "browser-websocket-server", "--release"]);
            release
        }
    };
    shell::run(&mut command)?;
    Ok(server_binary(build))
}

/// Where `build` of the test server is.
pub fn server_binary(build: Build) -> PathBuf {
    let dir = match build {
        Build::Debug => "debug",
        Build::Release => "release",
    };
    shell::root()
        .join("target")
        .join(dir)
        .join("browser-websocket-server")
}

/// Both servers on the README's ports, as its browser commands expect them.
pub struct ReadmeServers {
    _test: TestServer,
    _conformance: ConformanceServer,
    _rpc: ConformanceServer,
    _graphql: ConformanceServer,
}

impl ReadmeServers {
    pub fn start() -> Result<Self, String> {
        for (port, what) in [
            (TEST_SERVER_PORT, "the test server's"),
            (REFUSED_PORT, "the refused connections'"),
            (CONFORMANCE_PORT, "the conformance server's"),
            (RPC_PORT, "the JSON-RPC server's"),
            (GRAPHQL_PORT, "the GraphQL server's"),
        ] {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Err(format!(
                    "port {port} ({what}) is taken: stop what listens there (a server started \
                     by hand?) and run again"
                ));
            }
        }
        let test = TestServer::start_on(TEST_SERVER_PORT, Build::Debug)?;
        let python = crate::setup::conformance_venv()?;
        let conformance = ConformanceServer::start(&python, CONFORMANCE_PORT)?;
        let packages = crate::setup::rpc_server()?;
        let rpc = ConformanceServer::start_rpc(&packages, RPC_PORT)?;
        let graphql = ConformanceServer::start_graphql(&packages, GRAPHQL_PORT)?;
        Ok(Self {
            _test: test,
            _conformance: conformance,
            _rpc: rpc,
            _graphql: graphql,
        })
    }
}
