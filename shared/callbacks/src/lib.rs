//! [`HttpCallbacks`]: POSTs hub events to HTTP(S) listeners, for both `q2c local` and the
//! hub-delivery Lambda (no AWS, no SQLite here).
//!
//! - Timeouts: connect 2 s, whole request 5 s (a slow listener cannot hold a batch).
//! - Retries: up to 3 attempts, 200 ms then 400 ms apart, on connection failures, timeouts,
//!   `429` and `5xx`; other answers are final. Only `2xx` counts as delivered.
//! - No redirects (every hop would need the address checks again; none is taken): a 3xx is
//!   a failed delivery, so a listener cannot bounce the POST to an address the policy
//!   refuses.
//! - DNS rebinding: host names are resolved by [`PolicyResolver`], which refuses a name if
//!   any of its addresses is one the [`CallbackPolicy`] forbids (any IANA special-purpose
//!   block, `q2c_service::delivery::policy::classify`), and the connection uses exactly the
//!   checked addresses. Literal addresses
//!   never reach the resolver; they were judged by the policy itself.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use q2c_service::delivery::CallbackPolicy;
use q2c_service::error::error_chain;
use q2c_service::ports::BoxError;
use reqwest::StatusCode;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Timeouts and retries of [`HttpCallbacks`].
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for a whole request, connection included.
    pub request_timeout: Duration,
    /// Attempts per POST (at least 1).
    pub attempts: u32,
    /// Pause before the second attempt; doubled for each further one.
    pub backoff: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            attempts: 3,
            backoff: Duration::from_millis(200),
        }
    }
}

/// Resolves host names and refuses those with an address the policy forbids.
#[derive(Debug, Clone)]
pub struct PolicyResolver {
    policy: Arc<CallbackPolicy>,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(bad) = addrs.iter().find(|a| !policy.address_allowed(a.ip())) {
                let message = format!("{host} resolves to {} which is not allowed", bad.ip());
                return Err(message.into());
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// POSTs to HTTP(S) callbacks. Cheap to clone (one connection pool).
#[derive(Debug, Clone)]
pub struct HttpCallbacks {
    client: reqwest::Client,
    config: HttpConfig,
}

impl HttpCallbacks {
    /// A client resolving names under `policy`.
    ///
    /// # Errors
    /// When the TLS backend cannot be set up.
    pub fn new(policy: CallbackPolicy, config: HttpConfig) -> Result<Self, BoxError> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(PolicyResolver {
                policy: Arc::new(policy),
            }))
            .build()?;
        Ok(HttpCallbacks { client, config })
    }

    /// POSTs `body` with `headers`, retrying as configured; `Ok` on a `2xx`.
    ///
    /// # Errors
    /// The last failure: the status, or the connection error.
    pub async fn post(
        &self,
        url: &str,
        body: &str,
        headers: &[(String, String)],
    ) -> Result<(), BoxError> {
        let attempts = self.config.attempts.max(1);
        let mut pause = self.config.backoff;
        let mut last: BoxError = "no attempt made".into();
        for attempt in 1..=attempts {
            if attempt > 1 {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            let mut request = self.client.post(url).body(body.to_owned());
            for (name, value) in headers {
                request = request.header(name.as_str(), value.as_str());
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => {
                    let status = response.status();
                    last = format!("listener answered {status}").into();
                    if !retryable(status) {
                        break;
                    }
                }
                Err(error) => {
                    last = format!("POST failed: {}", error_chain(&error)).into();
                    if !(error.is_connect() || error.is_timeout() || error.is_request()) {
                        break;
                    }
                }
            }
            tracing::debug!(url, attempt, error = %last, "callback POST failed");
        }
        Err(last)
    }
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use axum::Router;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;

    use super::*;

    /// A loopback listener answering the given statuses in turn (then 200), counting POSTs.
    async fn listener(statuses: Vec<u16>) -> (String, Arc<AtomicU32>) {
        let count = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&count);
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: String| {
                let counter = Arc::clone(&counter);
                let statuses = statuses.clone();
                async move {
                    assert_eq!(headers["x-q2c-eventid"], "e-1");
                    assert_eq!(body, r#"{"eventId":"e-1"}"#);
                    let n = counter.fetch_add(1, Ordering::SeqCst) as usize;
                    StatusCode::from_u16(statuses.get(n).copied().unwrap_or(200)).expect("status")
                }
            }),
        );
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = socket.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(socket, app).await.expect("serve") });
        (format!("http://{addr}/hook"), count)
    }

    fn quick() -> HttpConfig {
        HttpConfig {
            backoff: Duration::from_millis(1),
            ..HttpConfig::default()
        }
    }

    fn headers() -> Vec<(String, String)> {
        vec![("X-Q2C-eventId".into(), "e-1".into())]
    }

    #[tokio::test]
    async fn server_errors_are_retried_until_a_2xx() {
        let (url, count) = listener(vec![503, 500]).await;
        let http = HttpCallbacks::new(CallbackPolicy::local(), quick()).expect("client");
        http.post(&url, r#"{"eventId":"e-1"}"#, &headers())
            .await
            .expect("third attempt");
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn client_errors_are_final_and_retries_are_bounded() {
        let (url, count) = listener(vec![400]).await;
        let http = HttpCallbacks::new(CallbackPolicy::local(), quick()).expect("client");
        let error = http
            .post(&url, r#"{"eventId":"e-1"}"#, &headers())
            .await
            .expect_err("400");
        assert!(error.to_string().contains("400"), "{error}");
        assert_eq!(count.load(Ordering::SeqCst), 1);

        let (url, count) = listener(vec![500, 500, 500, 500]).await;
        assert!(
            http.post(&url, r#"{"eventId":"e-1"}"#, &headers())
                .await
                .is_err()
        );
        assert_eq!(count.load(Ordering::SeqCst), 3, "three attempts");
    }

    /// Redirects are never followed, so no hop can lead to an address the policy refuses:
    /// a 307 to another listener is a failed delivery and that listener sees nothing.
    #[tokio::test]
    async fn redirects_are_never_followed() {
        let (target, reached) = listener(vec![]).await;
        let app = Router::new().route(
            "/hook",
            post(move || {
                let target = target.clone();
                async move {
                    (
                        StatusCode::TEMPORARY_REDIRECT,
                        [(axum::http::header::LOCATION, target)],
                    )
                }
            }),
        );
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = socket.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(socket, app).await.expect("serve") });
        let http = HttpCallbacks::new(CallbackPolicy::local(), quick()).expect("client");
        let error = http
            .post(
                &format!("http://{addr}/hook"),
                r#"{"eventId":"e-1"}"#,
                &headers(),
            )
            .await
            .expect_err("a redirect is not a delivery");
        assert!(error.to_string().contains("307"), "{error}");
        assert_eq!(
            reached.load(Ordering::SeqCst),
            0,
            "the redirect was not followed"
        );
    }

    #[tokio::test]
    async fn names_resolving_to_forbidden_addresses_are_refused_before_connecting() {
        let (url, count) = listener(vec![]).await;
        let port = url.rsplit(':').next().expect("port");
        let by_name = format!("http://localhost:{port}");
        let strict = HttpCallbacks::new(CallbackPolicy::deny_all(), quick()).expect("client");
        let error = strict.post(&by_name, "{}", &[]).await.expect_err("refused");
        assert!(error.to_string().contains("not allowed"), "{error}");
        assert_eq!(count.load(Ordering::SeqCst), 0, "never connected");
    }
}
