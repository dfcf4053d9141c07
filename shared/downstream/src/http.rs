//! [`HttpDownstream`]: `POST {base}/productOrder` with reqwest.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use q2c_service::dispatch::{Downstream, DownstreamAnswer, Sleeper};
use q2c_service::error::error_chain;
use serde_json::Value;

use crate::credential::Credential;

/// Where and how to call order management.
#[derive(Debug, Clone)]
pub struct HttpDownstreamConfig {
    /// Name in logs and metrics (the circuit breaker's name).
    pub name: String,
    /// Base URL of the TMF622 API, e.g. `https://oms.example.com/tmf-api/productOrdering/v4`;
    /// orders are POSTed to `<base>/productOrder`.
    pub base_url: String,
    /// Most time to establish a connection.
    pub connect_timeout: Duration,
    /// Most time for a whole call (connect, send, answer and its body).
    pub total_timeout: Duration,
}

impl HttpDownstreamConfig {
    /// `order-management` at `base_url`, connect timeout 2 s, total 10 s.
    pub fn new(base_url: impl Into<String>) -> Self {
        HttpDownstreamConfig {
            name: "order-management".into(),
            base_url: base_url.into(),
            connect_timeout: Duration::from_secs(2),
            total_timeout: Duration::from_secs(10),
        }
    }
}

/// The downstream over HTTP. Cheap to clone; share one per process (connection pool).
#[derive(Clone)]
pub struct HttpDownstream {
    config: HttpDownstreamConfig,
    url: String,
    client: reqwest::Client,
    credential: Arc<dyn Credential>,
}

impl std::fmt::Debug for HttpDownstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpDownstream")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HttpDownstream {
    /// A client for `config`, authenticating with `credential` (fetched on the first call).
    ///
    /// HTTPS verifies the server against the platform's root certificates.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS backend initialisation).
    pub fn new(
        config: HttpDownstreamConfig,
        credential: Arc<dyn Credential>,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.total_timeout)
            .build()?;
        let url = format!("{}/productOrder", config.base_url.trim_end_matches('/'));
        Ok(HttpDownstream {
            config,
            url,
            client,
            credential,
        })
    }
}

#[async_trait]
impl Downstream for HttpDownstream {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn call_timeout(&self) -> Duration {
        self.config.total_timeout
    }

    #[tracing::instrument(name = "downstream.post_order", skip_all, fields(downstream = %self.config.name))]
    async fn post_order(&self, order: &Value, idempotency_key: &str) -> DownstreamAnswer {
        let token = match self.credential.token().await {
            Ok(token) => token,
            Err(e) => return DownstreamAnswer::Unreachable(format!("no credential: {e}")),
        };
        let answer = self.post(order, idempotency_key, token.as_deref()).await;
        // A refused credential may have been rotated: forget it, fetch again, and try once
        // more with the new one (same Idempotency-Key) if it differs.
        let refused = matches!(
            answer,
            DownstreamAnswer::Http {
                status: 401 | 403,
                ..
            }
        );
        let Some(old) = token.filter(|_| refused) else {
            return answer;
        };
        self.credential.refused(&old).await;
        match self.credential.token().await {
            Ok(Some(new)) if new != old => {
                tracing::info!(
                    "order management refused the credential; retrying with the refetched one"
                );
                self.post(order, idempotency_key, Some(&new)).await
            }
            Ok(_) => answer,
            Err(e) => DownstreamAnswer::Unreachable(format!("no credential: {e}")),
        }
    }
}

impl HttpDownstream {
    /// One POST of the order with `token` as bearer token.
    async fn post(
        &self,
        order: &Value,
        idempotency_key: &str,
        token: Option<&str>,
    ) -> DownstreamAnswer {
        let mut request = self
            .client
            .post(&self.url)
            .header("Idempotency-Key", idempotency_key)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(order);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return failed(&e),
        };
        let status = response.status().as_u16();
        match response.text().await {
            Ok(body) => DownstreamAnswer::Http { status, body },
            Err(e) => failed(&e),
        }
    }
}

/// A call that got no complete answer.
fn failed(error: &reqwest::Error) -> DownstreamAnswer {
    let text = error_chain(error);
    if error.is_timeout() {
        DownstreamAnswer::Timeout(text)
    } else {
        DownstreamAnswer::Unreachable(text)
    }
}

/// The `Sleeper` port on tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}
