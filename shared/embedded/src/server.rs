//! The HTTP server of `q2c local`: an accept loop over hyper's HTTP/1.1 connections with
//! the limits a server facing slow or idle clients needs ([`ServerLimits`]):
//!
//! - **header-read timeout** (hyper's `header_read_timeout`): a client has that long to
//!   send a complete request header, counted from the moment the connection waits for one:
//!   its start, or the end of the previous response. So it is also the **idle keep-alive
//!   timeout**: a kept-alive connection that sends nothing more is closed after it.
//! - **request-body timeout** (tower-http's `RequestBodyTimeoutLayer`): a body not fully
//!   received in time is answered 408 `REQUEST_TIMEOUT`, and the connection is closed.
//! - **connection cap**: at most `max_connections` connections are open; beyond that the
//!   loop stops accepting (new clients wait in the listen backlog) until one closes.
//! - **bounded drain**: on shutdown the listener closes, in-flight requests finish and idle
//!   connections close (hyper-util's `GracefulShutdown`); whatever is still open after
//!   `drain_timeout` (a slow client) is closed.
//!
//! HTTP/1.1 only: hyper's header-read timeout exists for HTTP/1, and no client of
//! `q2c local` speaks cleartext HTTP/2.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// The limits of the server (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time to receive a request header (also the idle keep-alive timeout).
    pub header_timeout: Duration,
    /// Time to receive a request body.
    pub body_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// How long shutdown waits for open connections before closing them.
    pub drain_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 1024,
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// Pause after a failed `accept` (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` until `shutdown` completes, then drains for at most
/// `limits.drain_timeout` and closes what is left.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let service = router.layer(RequestBodyTimeoutLayer::new(limits.body_timeout));
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(error = %error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = builder.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(service.clone()),
        );
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            if let Err(error) = connection.await {
                // Header timeouts and clients going away end here.
                tracing::debug!(error = %error, "connection closed");
            }
            drop(permit);
        });
    }
    drop(listener);
    let open = connections.len();
    tokio::select! {
        () = graceful.shutdown() => tracing::info!(connections = open, "drained"),
        () = tokio::time::sleep(limits.drain_timeout) => tracing::warn!(
            still_open = connections.len(),
            drain_timeout_ms = limits.drain_timeout.as_millis() as u64,
            "drain bound reached; closing the remaining connections"
        ),
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}
