//! Slow and idle clients cannot hold `q2c local` (the real binary, over TCP): half-open
//! connections are closed after the header timeout while the server keeps answering others,
//! a body that does not arrive is a 408, the connection cap holds further clients back
//! without refusing them, and SIGTERM exits within the drain bound with a slow client still
//! connected.

use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod local_common;

const SECRET: &str = "slow-clients-secret";

/// A running `q2c local` with these extra flags; its `host:port`.
fn start(flags: &[&str]) -> (Child, String, tempfile::TempDir) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let flags = [&["--no-consumers"], flags].concat();
    let spawned = local_common::spawn(data_dir.path(), &flags, SECRET);
    let addr = spawned.url.trim_start_matches("http://").to_owned();
    (spawned.child, addr, data_dir)
}

/// `GET /health` on a new connection: the status line's code.
async fn health(addr: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: q2c\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    status_of(&mut stream).await
}

/// Reads a response's status code (the connection must send one).
async fn status_of(stream: &mut TcpStream) -> u16 {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n") {
        let n = stream.read(&mut byte).await.expect("read");
        assert!(n > 0, "closed before a status line: {head:?}");
        head.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&head);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not a status line: {line}"))
}

/// Whether the server closed `stream` (EOF or reset), reading whatever it sent first.
async fn closed_by_server(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

fn terminate(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "SIGTERM delivered");
}

/// Waits for the child to exit, at most `within`; its status, `None` when still running.
fn exited(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_half_open_connections_are_closed_and_the_server_keeps_answering() {
    let (mut child, addr, _dir) = start(&["--header-timeout", "3s"]);
    let mut half_open = Vec::new();
    for i in 0..500 {
        let mut stream = TcpStream::connect(&addr).await.expect("connect");
        if i % 2 == 1 {
            // Half a request header; the other half sent nothing at all.
            stream
                .write_all(b"GET /health HTTP/1.1\r\nHost: q2c\r\nX-Slow: ")
                .await
                .expect("write");
        }
        half_open.push(stream);
    }
    for _ in 0..5 {
        assert_eq!(health(&addr).await, 200, "answers beside 500 half-open");
    }
    // A kept-alive connection that went idle after a request is closed the same way.
    let mut idle = TcpStream::connect(&addr).await.expect("connect");
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: q2c\r\n\r\n")
        .await
        .expect("write");
    assert_eq!(status_of(&mut idle).await, 200);

    for (i, stream) in half_open.iter_mut().enumerate() {
        assert!(
            closed_by_server(stream, Duration::from_secs(30)).await,
            "half-open connection {i} was closed"
        );
    }
    assert!(
        closed_by_server(&mut idle, Duration::from_secs(30)).await,
        "the idle keep-alive connection was closed"
    );
    assert_eq!(health(&addr).await, 200, "and still answers");
    terminate(&child);
    assert!(exited(&mut child, Duration::from_secs(30)).is_some_and(|s| s.success()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_exits_within_the_drain_bound_with_a_slow_client_connected() {
    // A header timeout far beyond the drain bound: only the bound can end the drain.
    let (mut child, addr, _dir) = start(&["--header-timeout", "600s", "--drain-timeout", "2s"]);
    let mut slow = TcpStream::connect(&addr).await.expect("connect");
    slow.write_all(b"POST /tmf-api/quoteManagement/v4/quote HTTP/1.1\r\nHost: q2c\r\n")
        .await
        .expect("write");
    assert_eq!(health(&addr).await, 200);
    terminate(&child);
    let status = exited(&mut child, Duration::from_secs(60))
        .expect("exits after the drain bound, long before the 600 s header timeout");
    assert!(status.success(), "{status:?}");
    assert!(
        closed_by_server(&mut slow, Duration::from_secs(5)).await,
        "the slow client was disconnected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_body_that_does_not_arrive_is_408_and_the_connection_closes() {
    let (mut child, addr, _dir) = start(&["--body-timeout", "1s"]);
    let token = q2c_embedded::local::dev_token(
        SECRET,
        "slow",
        &q2c_service::Scope::ALL,
        Duration::from_secs(600),
    )
    .expect("token");
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    let head = format!(
        "POST /tmf-api/quoteManagement/v4/quote HTTP/1.1\r\nHost: q2c\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"quoteItem\":"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    assert_eq!(status_of(&mut stream).await, 408);
    let mut rest = String::new();
    stream
        .read_to_string(&mut rest)
        .await
        .expect("the rest of the response, then the close");
    assert!(rest.contains("\"code\":\"REQUEST_TIMEOUT\""), "{rest}");
    terminate(&child);
    assert!(exited(&mut child, Duration::from_secs(30)).is_some_and(|s| s.success()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_connection_cap_holds_further_clients_until_one_closes() {
    let (mut child, addr, _dir) = start(&["--max-connections", "4", "--header-timeout", "600s"]);
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(&addr).await.expect("connect"));
    }
    let fifth = tokio::spawn({
        let addr = addr.clone();
        async move { health(&addr).await }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !fifth.is_finished(),
        "a fifth connection waits while 4 are open"
    );
    drop(held.pop());
    let status = tokio::time::timeout(Duration::from_secs(30), fifth)
        .await
        .expect("served once a connection closed")
        .expect("task");
    assert_eq!(status, 200);
    terminate(&child);
    assert!(exited(&mut child, Duration::from_secs(30)).is_some_and(|s| s.success()));
}
