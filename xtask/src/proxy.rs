//! A forward HTTP proxy on loopback for a browser's test page: each request
//! goes to its origin on a connection of its own that closes after the
//! response (`Connection: close`), and `CONNECT` (how a browser sends a
//! WebSocket through a proxy) is a plain tunnel.
//!
//! Why: the test runner's HTTP server (tiny_http 0.12) serves each connection
//! on a pooled thread for as long as the connection stays open, and decides
//! whether to start a thread by counting idle ones, so a burst of new
//! connections can leave one queued behind kept-alive ones until the browser
//! closes an idle connection (Chrome: after 300 s, when it has given up the
//! page load). Through this proxy, the server's every connection ends with its
//! response, so its threads are free again at once.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

/// The longest request head read (the test page's are a few hundred bytes).
const MAX_HEAD_LINES: usize = 100;
/// A connection to the origin that has not opened by then never will.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The running proxy. Its thread serves until the process ends.
pub struct Proxy {
    address: SocketAddr,
}

impl Proxy {
    /// Listens on a free loopback port.
    pub fn start() -> Result<Self, String> {
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|error| format!("proxy: {error}"))?;
        let address = listener
            .local_addr()
            .map_err(|error| format!("proxy: {error}"))?;
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                thread::spawn(move || {
                    // A failed exchange only ends that connection; the browser
                    // reports it as a network error.
                    let _ = serve(client);
                });
            }
        });
        Ok(Self { address })
    }

    /// `http://127.0.0.1:PORT`, as a browser's proxy setting.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

/// One client connection: one request forwarded, or one tunnel.
fn serve(client: TcpStream) -> io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let head = read_head(&mut reader)?;
    let Some((method, target, version)) = head.first().and_then(|line| request_line(line)) else {
        return refuse(client, "400 Bad Request");
    };
    if method == "CONNECT" {
        return tunnel(client, reader.buffer(), target);
    }
    let Some((authority, path)) = target
        .strip_prefix("http://")
        .map(|rest| rest.split_at(rest.find('/').unwrap_or(rest.len())))
    else {
        return refuse(client, "400 Bad Request");
    };
    let Some(mut origin) = connect_loopback(authority) else {
        return refuse(client, "502 Bad Gateway");
    };
    let path = if path.is_empty() { "/" } else { path };
    let mut request = format!("{method} {path} {version}\r\n");
    let mut body_len = 0;
    for header in &head[1..] {
        let (name, value) = header.split_once(':').unwrap_or((header, ""));
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") {
            body_len = value.trim().parse().unwrap_or(0);
        }
        let hop_by_hop = ["connection", "proxy-connection", "keep-alive"]
            .iter()
            .any(|hop| name.eq_ignore_ascii_case(hop));
        if !hop_by_hop {
            request.push_str(header);
            request.push_str("\r\n");
        }
    }
    request.push_str("Connection: close\r\n\r\n");
    origin.write_all(request.as_bytes())?;
    io::copy(&mut (&mut reader).take(body_len), &mut origin)?;
    // The origin closes after its response (the request asked it to), which
    // ends the copy; so does this side, for the browser.
    io::copy(&mut origin, &mut &client)?;
    client.shutdown(Shutdown::Both)
}

/// The request head's lines, without their line ends, up to the blank line.
fn read_head(reader: &mut impl BufRead) -> io::Result<Vec<String>> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || lines.len() == MAX_HEAD_LINES {
            return Err(io::ErrorKind::InvalidData.into());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            return Ok(lines);
        }
        lines.push(line.to_owned());
    }
}

/// `METHOD TARGET VERSION`.
fn request_line(line: &str) -> Option<(&str, &str, &str)> {
    let mut parts = line.split(' ');
    let parsed = (parts.next()?, parts.next()?, parts.next()?);
    parts.next().is_none().then_some(parsed)
}

/// A connection to `host:port` on this machine; `None` for any other host
/// (the test pages use only loopback; nothing else is reachable here).
fn connect_loopback(authority: &str) -> Option<TcpStream> {
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port),
        _ => (authority, "80"),
    };
    let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
    let address: SocketAddr = match host {
        "localhost" => format!("127.0.0.1:{port}"),
        _ => format!("{host}:{port}"),
    }
    .parse()
    .ok()?;
    loopback
        .then(|| TcpStream::connect_timeout(&address, CONNECT_TIMEOUT).ok())
        .flatten()
}

/// `CONNECT host:port`: bytes both ways until either side closes; `early`,
/// what the client sent after its request head without waiting for the
/// answer, goes first.
fn tunnel(client: TcpStream, early: &[u8], authority: &str) -> io::Result<()> {
    let Some(mut origin) = connect_loopback(authority) else {
        return refuse(client, "502 Bad Gateway");
    };
    (&client).write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")?;
    origin.write_all(early)?;
    let (client_in, origin_out) = (client.try_clone()?, origin.try_clone()?);
    let upstream = thread::spawn(move || pipe(client_in, origin_out));
    pipe(origin, client);
    let _ = upstream.join();
    Ok(())
}

/// Copies `from` to `to` until `from` ends, then ends both.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}

fn refuse(mut client: TcpStream, status: &str) -> io::Result<()> {
    write!(
        client,
        "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    client.shutdown(Shutdown::Both)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An origin that answers one request with `reply` and hands back the
    /// request it got.
    fn origin(reply: &'static str) -> (SocketAddr, thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let served = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = read_head(&mut reader).unwrap().join("\n");
            let mut body = String::new();
            if request.contains("Content-Length: 4") {
                reader.take(4).read_to_string(&mut body).unwrap();
            }
            request.push_str(&body);
            (&stream).write_all(reply.as_bytes()).unwrap();
            request
        });
        (address, served)
    }

    fn through_proxy(request: &str) -> String {
        let proxy = Proxy::start().unwrap();
        let mut client = TcpStream::connect(proxy.address).unwrap();
        client.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        client.read_to_string(&mut response).unwrap();
        response
    }

    #[test]
    fn a_request_reaches_its_origin_on_a_connection_that_closes_after_it() {
        let (address, served) = origin("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        let response = through_proxy(&format!(
            "POST http://{address}/run.js?x=1 HTTP/1.1\r\nHost: {address}\r\n\
             Proxy-Connection: keep-alive\r\nContent-Length: 4\r\n\r\nbody"
        ));
        assert_eq!(
            served.join().unwrap(),
            format!(
                "POST /run.js?x=1 HTTP/1.1\nHost: {address}\nContent-Length: 4\n\
                 Connection: closebody"
            )
        );
        // The browser's side ends with the response, too.
        assert_eq!(response, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    }

    #[test]
    fn connect_is_a_tunnel_both_ways() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let echo = thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut got = [0; 5];
            stream.read_exact(&mut got).unwrap();
            stream.write_all(&got).unwrap();
        });
        let response = through_proxy(&format!(
            "CONNECT {address} HTTP/1.1\r\nHost: {address}\r\n\r\nhello"
        ));
        echo.join().unwrap();
        assert_eq!(response, "HTTP/1.1 200 Connection Established\r\n\r\nhello");
    }

    #[test]
    fn other_hosts_and_bad_requests_are_refused() {
        let refused = |request: &str| through_proxy(request);
        assert!(refused("GET http://example.com/ HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 502"));
        assert!(refused("CONNECT example.com:443 HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 502"));
        assert!(refused("GET /relative HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400"));
        assert!(refused("nonsense\r\n\r\n").starts_with("HTTP/1.1 400"));
    }
}
