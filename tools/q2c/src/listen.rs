//! `q2c listen`: a hub subscriber to try hub delivery with. It accepts every `POST` (any
//! path, so the callback may be `http://127.0.0.1:9000/listener`), answers `204 No
//! Content`, and prints each event: a header line (time, method, path), the delivery headers
//! (`X-Q2C-*`, `Content-Type`, `X-Correlation-Id`, `Idempotency-Key`, `User-Agent`) and the
//! body, pretty-printed JSON (or as received when it is not JSON).

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use clap::Args;
use q2c_embedded::local::{bind_error, shutdown_signal};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::flags::parse_duration;

/// Where events are printed (stdout in the command, a buffer in tests).
pub type Sink = Arc<Mutex<dyn Write + Send>>;

/// The most a delivered body may be: hub deliveries are single events, far below it.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
struct Listener {
    sink: Sink,
    received: Arc<Mutex<u64>>,
    exit_after: Option<u64>,
    done: Arc<Notify>,
}

/// Whether a request header is part of the delivery worth showing.
fn shown(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("x-q2c-")
        || matches!(
            name.as_str(),
            "content-type" | "x-correlation-id" | "idempotency-key" | "user-agent"
        )
}

/// One event as printed.
pub fn render(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> String {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut out = format!("--- {now} {method} {uri}\n");
    let mut names: Vec<_> = headers
        .iter()
        .filter(|(name, _)| shown(name.as_str()))
        .collect();
    names.sort_by_key(|(name, _)| name.as_str().to_owned());
    for (name, value) in names {
        out.push_str(&format!(
            "{}: {}\n",
            name.as_str(),
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => out.push_str(&serde_json::to_string_pretty(&json).unwrap_or_default()),
        Err(_) => out.push_str(&String::from_utf8_lossy(body)),
    }
    out.push('\n');
    out
}

async fn receive(
    State(listener): State<Listener>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    if method != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED;
    }
    let text = render(&method, &uri, &headers, &body);
    let written = {
        let mut sink = listener.sink.lock().unwrap_or_else(|e| e.into_inner());
        sink.write_all(text.as_bytes()).and_then(|()| sink.flush())
    };
    if written.is_err() {
        // The reader went away (`q2c listen | head`): stop quietly, as other commands do.
        listener.done.notify_one();
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let mut received = listener.received.lock().unwrap_or_else(|e| e.into_inner());
    *received += 1;
    if listener.exit_after.is_some_and(|n| *received >= n) {
        listener.done.notify_one();
    }
    StatusCode::NO_CONTENT
}

/// Serves until `shutdown` completes, or until `exit_after` events were printed, or the sink
/// is closed. Returns how many events were printed.
///
/// # Errors
/// When the server fails.
pub async fn serve(
    listener: TcpListener,
    sink: Sink,
    exit_after: Option<u64>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<u64> {
    let state = Listener {
        sink,
        received: Arc::new(Mutex::new(0)),
        exit_after,
        done: Arc::new(Notify::new()),
    };
    let done = state.done.clone();
    let received = state.received.clone();
    let router = Router::new()
        .fallback(receive)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            tokio::select! {
                () = shutdown => {}
                () = done.notified() => {}
            }
        })
        .await?;
    let count = *received.lock().unwrap_or_else(|e| e.into_inner());
    Ok(count)
}

/// Options of `q2c listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Address to listen on (port 0: any free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub addr: SocketAddr,
    /// Exit (status 0) once this many events were printed.
    #[arg(long)]
    pub exit_after: Option<u64>,
    /// Exit with status 1 when --exit-after events have not arrived within this time (e.g.
    /// 60s).
    #[arg(long, value_parser = parse_duration, requires = "exit_after")]
    pub timeout: Option<Duration>,
}

/// Runs `q2c listen` until its events arrived (or the timeout, or Ctrl-C).
///
/// # Errors
/// When the address is taken, serving fails, or the events did not all arrive in time.
pub async fn run(args: ListenArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| bind_error(e, args.addr, "the listener", "--addr"))?;
    let bound = listener.local_addr()?;
    // On stderr: stdout carries the events only (`q2c listen | tee events.log`).
    eprintln!(
        "q2c listen: printing the events POSTed to http://{bound}/<any path> (e.g. \
         http://{bound}/listener), answering 204"
    );
    let sink: Sink = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let timeout = args.timeout;
    let stop = async move {
        match timeout {
            Some(limit) => {
                tokio::select! {
                    () = shutdown_signal() => {}
                    () = tokio::time::sleep(limit) => {}
                }
            }
            None => shutdown_signal().await,
        }
    };
    let printed = serve(listener, sink, args.exit_after, stop).await?;
    match args.exit_after {
        Some(wanted) if printed < wanted => anyhow::bail!(
            "q2c listen: {printed} of {wanted} events arrived within {}",
            humantime::format_duration(args.timeout.unwrap_or_default())
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_limits_md_states_the_body_limit() {
        let doc = include_str!("../../../docs/limits.md");
        assert!(
            doc.contains("| `q2c listen` body | 1,048,576 | bytes |"),
            "docs/limits.md must state q2c listen's body limit"
        );
        assert_eq!(MAX_BODY_BYTES, 1_048_576);
    }

    #[test]
    fn an_event_is_printed_with_its_delivery_headers_and_pretty_json() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-q2c-eventtype",
            "QuoteStateChangeEvent".parse().expect("v"),
        );
        headers.insert("content-type", "application/json".parse().expect("v"));
        headers.insert("accept", "*/*".parse().expect("v"));
        let text = render(
            &Method::POST,
            &"/listener".parse().expect("uri"),
            &headers,
            br#"{"eventType":"QuoteStateChangeEvent","event":{"quote":{"state":"approved"}}}"#,
        );
        assert!(text.starts_with("--- "), "{text}");
        assert!(text.contains(" POST /listener\n"), "{text}");
        assert!(
            text.contains("x-q2c-eventtype: QuoteStateChangeEvent\n"),
            "{text}"
        );
        assert!(text.contains("content-type: application/json\n"), "{text}");
        assert!(!text.contains("accept:"), "not a delivery header: {text}");
        assert!(
            text.contains("\n  \"eventType\": \"QuoteStateChangeEvent\""),
            "{text}"
        );
    }
}
