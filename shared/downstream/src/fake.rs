//! A fake TMF622 order-management system for tests and demos, with fault knobs (the `fake`
//! feature; `q2c downstream` and `q2c local` serve it). `POST /productOrder` accepts orders
//! (de-duplicating by `Idempotency-Key` and `externalId`, as a real order system should);
//! `GET /productOrder` lists what it received and how many POSTs each order took. Served by
//! [`serve`], in-process or by `q2c downstream`.
//!
//! Faults, applied in this order to every POST: `latency`, then during the first `down_for`
//! after start `503`, then `400` (TMF630 body) to bodies containing `reject_match`, then a
//! `500` to a `fail_rate` fraction of POSTs — half of those after the order was stored, as
//! when an order system crashes after its commit, so the caller sees a failure for an order
//! that was in fact received.
//!
//! Completion ([`DownstreamConfig::completion`]): the fake then fulfils every order it
//! accepts, reporting `acknowledged`, `inProgress` and `completed` to q2c's TMF622 listener
//! `complete_after` later (zero: at once), as a real order system's notifications would
//! arrive. It learns the order's tenant from the `Idempotency-Key` q2c sends
//! (`q2c-order-<tenant>-<orderId>`) and calls with a token for that tenant.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The fault knobs.
#[derive(Debug, Clone, Default)]
pub struct DownstreamConfig {
    /// Fraction (0..=1) of POSTs answered 500.
    pub fail_rate: f64,
    /// Delay before answering each POST.
    pub latency: Duration,
    /// Answer every POST 503 for this long after start.
    pub down_for: Duration,
    /// Answer 400 to orders whose body contains this text.
    pub reject_match: Option<String>,
    /// Seed of the failure draws (random when absent).
    pub seed: Option<u64>,
    /// Complete every accepted order by notifying q2c (none: orders stay acknowledged).
    pub completion: Option<Completion>,
    /// When set, every POST must carry `Authorization: Bearer <the current value>`; others
    /// get 401 (TMF630 body). Rotate it with [`BearerToken::rotate`] while serving.
    pub bearer: Option<BearerToken>,
}

/// The bearer token the fake accepts, shared with whoever rotates it.
#[derive(Debug, Clone, Default)]
pub struct BearerToken(Arc<Mutex<String>>);

impl BearerToken {
    /// Accepts `token`.
    pub fn new(token: &str) -> Self {
        BearerToken(Arc::new(Mutex::new(token.to_owned())))
    }

    /// From now on accepts `token` only (the old one is refused).
    pub fn rotate(&self, token: &str) {
        token.clone_into(&mut lock(&self.0));
    }

    fn accepts(&self, headers: &HeaderMap) -> bool {
        let expected = format!("Bearer {}", lock(&self.0));
        headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == expected)
    }
}

/// A bearer token for a tenant (scope `order.write`), `None` when none can be had.
pub type TokenFor = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// How the fake reports orders completed.
#[derive(Clone)]
pub struct Completion {
    /// q2c's `.../listener/productOrderStateChangeEvent` URL.
    pub listener_url: String,
    /// How long after accepting an order it reports the order completed.
    pub complete_after: Duration,
    /// Tokens to call q2c with, per tenant.
    pub token_for: TokenFor,
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion")
            .field("listener_url", &self.listener_url)
            .field("complete_after", &self.complete_after)
            .finish_non_exhaustive()
    }
}

/// The states the fake reports, in order.
const FULFILMENT: [&str; 3] = ["acknowledged", "inProgress", "completed"];
/// Attempts of one notification the listener refuses with a retryable status.
const NOTIFY_ATTEMPTS: u32 = 10;

/// One order as received, by `externalId`.
#[derive(Debug, Clone)]
struct Received {
    /// Our id for it, once accepted.
    id: Option<String>,
    /// Every POST carrying this `externalId`, whatever the answer.
    posts: u64,
    /// The accepted order as stored.
    order: Option<Value>,
}

struct Fake {
    config: DownstreamConfig,
    started: Instant,
    rng: Mutex<StdRng>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_external_id: BTreeMap<String, Received>,
    /// Idempotency key → externalId of the order it created.
    keys: BTreeMap<String, String>,
    total_posts: u64,
    refused_while_down: u64,
    /// POSTs refused 401 (no or a stale bearer token).
    refused_unauthorized: u64,
    next_id: u64,
}

/// The fake's routes (`/productOrder` and the same under the TMF622 base path).
pub fn router(config: DownstreamConfig) -> Router {
    let rng = match config.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_os_rng(),
    };
    let fake = Arc::new(Fake {
        config,
        started: Instant::now(),
        rng: Mutex::new(rng),
        inner: Mutex::new(Inner::default()),
    });
    let routes = get(list).post(create);
    Router::new()
        .route("/productOrder", routes.clone())
        .route("/tmf-api/productOrdering/v4/productOrder", routes)
        .with_state(fake)
}

/// Serves the fake on `listener` until `shutdown` completes.
///
/// # Errors
/// When serving fails.
pub async fn serve(
    config: DownstreamConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(config))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A TMF630 error the fake answers: its status, `code` and `reason`.
#[derive(Clone, Copy)]
struct TmfError(StatusCode, &'static str, &'static str);

const UNAUTHORIZED: TmfError = TmfError(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Unauthorized");
const INVALID_BODY: TmfError = TmfError(StatusCode::BAD_REQUEST, "INVALID_BODY", "Invalid body");
const UNAVAILABLE: TmfError = TmfError(
    StatusCode::SERVICE_UNAVAILABLE,
    "UNAVAILABLE",
    "Service unavailable",
);
const INVALID_ORDER: TmfError =
    TmfError(StatusCode::BAD_REQUEST, "INVALID_ORDER", "Order rejected");
const INTERNAL: TmfError = TmfError(
    StatusCode::INTERNAL_SERVER_ERROR,
    "INTERNAL",
    "Internal error",
);

fn tmf_error(TmfError(status, code, reason): TmfError, message: &str) -> Response {
    let body = json!({
        "code": code,
        "reason": reason,
        "message": message,
        "status": status.as_u16().to_string(),
        "@type": "Error"
    });
    (status, axum::Json(body)).into_response()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

async fn create(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: String) -> Response {
    if let Some(bearer) = &fake.config.bearer
        && !bearer.accepts(&headers)
    {
        lock(&fake.inner).refused_unauthorized += 1;
        return tmf_error(UNAUTHORIZED, "the bearer token is missing or not accepted");
    }
    let order: Value = match serde_json::from_str(&body) {
        Ok(order @ Value::Object(_)) => order,
        _ => {
            return tmf_error(INVALID_BODY, "the body is not a JSON object");
        }
    };
    let external_id = order
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    {
        let mut inner = lock(&fake.inner);
        inner.total_posts += 1;
        if let Some(external_id) = &external_id {
            inner
                .by_external_id
                .entry(external_id.clone())
                .or_insert(Received {
                    id: None,
                    posts: 0,
                    order: None,
                })
                .posts += 1;
        }
    }
    if !fake.config.latency.is_zero() {
        tokio::time::sleep(fake.config.latency).await;
    }
    if fake.started.elapsed() < fake.config.down_for {
        lock(&fake.inner).refused_while_down += 1;
        return tmf_error(UNAVAILABLE, "order management is down");
    }
    if let Some(text) = &fake.config.reject_match
        && body.contains(text.as_str())
    {
        return tmf_error(INVALID_ORDER, &format!("the order contains `{text}`"));
    }
    let (fail, fail_after_storing) = {
        let mut rng = lock(&fake.rng);
        (
            rng.random_bool(fake.config.fail_rate.clamp(0.0, 1.0)),
            rng.random_bool(0.5),
        )
    };
    if fail && !fail_after_storing {
        return tmf_error(INTERNAL, "injected failure");
    }
    let (status, stored, new) = accept(&fake, order, external_id.clone(), key.clone());
    if new
        && let (Some(completion), Some(external_id), Some(key)) =
            (&fake.config.completion, external_id, key)
    {
        tokio::spawn(complete(
            Arc::clone(&fake),
            completion.clone(),
            external_id,
            key,
        ));
    }
    if fail {
        return tmf_error(INTERNAL, "injected failure after storing");
    }
    (status, axum::Json(stored)).into_response()
}

/// Stores the order unless its key or `externalId` is known: 201 (new, or replay of the
/// same key) or 409 (same `externalId`, other key), with the stored order, and whether it is
/// new.
fn accept(
    fake: &Fake,
    mut order: Value,
    external_id: Option<String>,
    key: Option<String>,
) -> (StatusCode, Value, bool) {
    let mut inner = lock(&fake.inner);
    let known = |inner: &Inner, external_id: &str| {
        inner
            .by_external_id
            .get(external_id)
            .and_then(|r| r.order.clone())
    };
    if let Some(earlier) = key.as_ref().and_then(|k| inner.keys.get(k)).cloned()
        && let Some(stored) = known(&inner, &earlier)
    {
        return (StatusCode::CREATED, stored, false);
    }
    if let Some(stored) = external_id.as_deref().and_then(|e| known(&inner, e)) {
        return (StatusCode::CONFLICT, stored, false);
    }
    inner.next_id += 1;
    let id = format!("OM-{:06}", inner.next_id);
    order["id"] = json!(id);
    order["state"] = json!("acknowledged");
    let slot = external_id
        .clone()
        .unwrap_or_else(|| format!("(none)#{id}"));
    let received = inner
        .by_external_id
        .entry(slot.clone())
        .or_insert(Received {
            id: None,
            posts: 1,
            order: None,
        });
    received.id = Some(id);
    received.order = Some(order.clone());
    if let Some(key) = key {
        inner.keys.insert(key, slot);
    }
    (StatusCode::CREATED, order, true)
}

/// Fulfils the order `external_id` (q2c's id): after `complete_after`, reports each state of
/// [`FULFILMENT`] to q2c's listener, retrying what q2c answers 429/5xx (a lost race, a
/// restart), and records the state reached.
async fn complete(fake: Arc<Fake>, completion: Completion, external_id: String, key: String) {
    let Some(tenant) = key
        .strip_prefix("q2c-order-")
        .and_then(|rest| rest.strip_suffix(&format!("-{external_id}")))
    else {
        tracing::warn!(
            key,
            "cannot tell the order's tenant from its Idempotency-Key"
        );
        return;
    };
    let Some(token) = (completion.token_for)(tenant) else {
        tracing::warn!(
            tenant,
            "no token to notify q2c with; the order stays acknowledged"
        );
        return;
    };
    tokio::time::sleep(completion.complete_after).await;
    let client = reqwest::Client::new();
    let downstream_id = lock(&fake.inner)
        .by_external_id
        .get(&external_id)
        .and_then(|r| r.id.clone())
        .unwrap_or_default();
    for state in FULFILMENT {
        let notification = json!({
            "eventId": format!("{downstream_id}-{state}"),
            "eventTime": time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "eventType": "ProductOrderStateChangeEvent",
            "event": {"productOrder": {"id": downstream_id, "externalId": external_id, "state": state}}
        });
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answer = client
                .post(&completion.listener_url)
                .bearer_auth(&token)
                .json(&notification)
                .send()
                .await;
            let retry = match &answer {
                Ok(response) if response.status().is_success() => false,
                Ok(response) => {
                    let status = response.status();
                    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
                }
                Err(_) => true,
            };
            if !retry {
                if let Ok(response) = &answer
                    && !response.status().is_success()
                {
                    tracing::warn!(state, status = %response.status(), "q2c refused the notification");
                    return;
                }
                break;
            }
            if attempt >= NOTIFY_ATTEMPTS {
                tracing::warn!(state, "q2c's listener kept failing; giving up");
                return;
            }
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
        }
        if let Some(order) = lock(&fake.inner)
            .by_external_id
            .get_mut(&external_id)
            .and_then(|r| r.order.as_mut())
        {
            order["state"] = json!(state);
        }
    }
    tracing::info!(external_id, "order reported completed");
}

/// Every externalId received: `{externalId, id, accepted, posts, order}`; headers
/// `X-Total-Posts`, `X-Posts-While-Down` and `X-Posts-Unauthorized`.
async fn list(State(fake): State<Arc<Fake>>) -> Response {
    let inner = lock(&fake.inner);
    let entries: Vec<Value> = inner
        .by_external_id
        .iter()
        .map(|(external_id, r)| {
            json!({
                "externalId": external_id,
                "id": r.id,
                "accepted": r.order.is_some(),
                "posts": r.posts,
                "order": r.order,
            })
        })
        .collect();
    let mut response = axum::Json(entries).into_response();
    let headers = response.headers_mut();
    headers.insert("x-total-posts", HeaderValue::from(inner.total_posts));
    headers.insert(
        "x-posts-while-down",
        HeaderValue::from(inner.refused_while_down),
    );
    headers.insert(
        "x-posts-unauthorized",
        HeaderValue::from(inner.refused_unauthorized),
    );
    response
}
