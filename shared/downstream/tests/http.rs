//! `HttpDownstream` against a real HTTP server (axum on a loopback port).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use q2c_downstream::{BoxError, HttpDownstream, HttpDownstreamConfig, LazyToken, NoCredential};
use q2c_service::dispatch::{Downstream, DownstreamAnswer};
use serde_json::{Value, json};

type Seen = Arc<Mutex<Vec<(HeaderMap, Value)>>>;

/// Serves `router` on a free port; returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/tmf-api/productOrdering/v4/")
}

fn recording(seen: Seen, status: StatusCode, answer: Value) -> Router {
    Router::new().route(
        "/tmf-api/productOrdering/v4/productOrder",
        post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let seen = seen.clone();
            let answer = answer.clone();
            async move {
                seen.lock().unwrap().push((headers, body.0));
                (status, axum::Json(answer))
            }
        }),
    )
}

#[tokio::test]
async fn posts_the_order_with_key_and_lazily_fetched_token() {
    let seen = Seen::default();
    let base = serve(recording(
        seen.clone(),
        StatusCode::CREATED,
        json!({"id": "D-1"}),
    ))
    .await;
    let fetches = Arc::new(AtomicU32::new(0));
    let counter = fetches.clone();
    let token = LazyToken::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, BoxError>("t0ken".to_owned()) }
    });
    let downstream = HttpDownstream::new(HttpDownstreamConfig::new(base), Arc::new(token)).unwrap();
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        0,
        "not fetched before the first call"
    );
    for _ in 0..2 {
        let answer = downstream
            .post_order(&json!({"externalId": "o-1"}), "key-1")
            .await;
        assert_eq!(
            answer,
            DownstreamAnswer::Http {
                status: 201,
                body: r#"{"id":"D-1"}"#.into()
            }
        );
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "fetched once, then cached"
    );
    let seen = seen.lock().unwrap();
    let (headers, body) = &seen[0];
    assert_eq!(headers["idempotency-key"], "key-1");
    assert_eq!(headers["authorization"], "Bearer t0ken");
    assert_eq!(body, &json!({"externalId": "o-1"}));
}

#[tokio::test]
async fn error_statuses_and_bodies_are_passed_on() {
    let seen = Seen::default();
    let body = json!({"code": "400", "reason": "bad"});
    let base = serve(recording(
        seen.clone(),
        StatusCode::BAD_REQUEST,
        body.clone(),
    ))
    .await;
    let downstream =
        HttpDownstream::new(HttpDownstreamConfig::new(base), Arc::new(NoCredential)).unwrap();
    let answer = downstream.post_order(&json!({}), "k").await;
    assert_eq!(
        answer,
        DownstreamAnswer::Http {
            status: 400,
            body: body.to_string()
        }
    );
    assert!(seen.lock().unwrap()[0].0.get("authorization").is_none());
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let router = Router::new().route(
        "/tmf-api/productOrdering/v4/productOrder",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::CREATED
        }),
    );
    let base = serve(router).await;
    let mut config = HttpDownstreamConfig::new(base);
    config.total_timeout = Duration::from_millis(200);
    let downstream = HttpDownstream::new(config, Arc::new(NoCredential)).unwrap();
    let answer = downstream.post_order(&json!({}), "k").await;
    assert!(matches!(answer, DownstreamAnswer::Timeout(_)), "{answer:?}");
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let downstream = HttpDownstream::new(
        HttpDownstreamConfig::new(format!("http://{addr}")),
        Arc::new(NoCredential),
    )
    .unwrap();
    let answer = downstream.post_order(&json!({}), "k").await;
    assert!(
        matches!(answer, DownstreamAnswer::Unreachable(_)),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_failing_credential_is_unreachable_without_a_call_and_retried_next_time() {
    let seen = Seen::default();
    let base = serve(recording(seen.clone(), StatusCode::CREATED, json!({}))).await;
    let fetches = Arc::new(AtomicU32::new(0));
    let counter = fetches.clone();
    let token = LazyToken::new(move || {
        let attempt = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if attempt == 0 {
                Err::<String, BoxError>("parameter store throttled".into())
            } else {
                Ok("t".to_owned())
            }
        }
    });
    let downstream = HttpDownstream::new(HttpDownstreamConfig::new(base), Arc::new(token)).unwrap();
    let first = downstream.post_order(&json!({}), "k").await;
    assert!(
        matches!(&first, DownstreamAnswer::Unreachable(why) if why.contains("throttled")),
        "{first:?}"
    );
    assert!(seen.lock().unwrap().is_empty());
    let second = downstream.post_order(&json!({}), "k").await;
    assert!(matches!(second, DownstreamAnswer::Http { status: 201, .. }));
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn https_is_supported_and_a_failed_handshake_is_unreachable() {
    // A plain-HTTP server: the TLS handshake fails, which proves the client speaks TLS.
    let seen = Seen::default();
    let base = serve(recording(seen.clone(), StatusCode::CREATED, json!({}))).await;
    let https = base.replacen("http://", "https://", 1);
    let downstream =
        HttpDownstream::new(HttpDownstreamConfig::new(https), Arc::new(NoCredential)).unwrap();
    let answer = downstream.post_order(&json!({}), "k").await;
    // rustls' complaint about the plain-HTTP answer to its ClientHello (without TLS support
    // reqwest would refuse the URL scheme instead).
    assert!(
        matches!(&answer, DownstreamAnswer::Unreachable(why) if why.contains("InvalidContentType")),
        "{answer:?}"
    );
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_order_with_unknown_fields_and_types_arrives_equal_as_json() {
    let seen = Seen::default();
    let base = serve(recording(
        seen.clone(),
        StatusCode::CREATED,
        json!({"id": "D-2"}),
    ))
    .await;
    let downstream =
        HttpDownstream::new(HttpDownstreamConfig::new(base), Arc::new(NoCredential)).unwrap();
    let order = json!({
        "externalId": "o-2",
        "@type": "ProductOrder",
        "x-salesChannel": {"partner": "p-7", "score": 0.1 + 0.2},
        "productOrderItem": [{
            "id": "1", "action": "add", "@type": "ProductOrderItem",
            "productOffering": {"id": "slice-5g", "@referredType": "FiveGSliceOffering"},
            "product": {
                "@type": "FiveGSliceProduct",
                "@schemaLocation": "https://schemas.example/FiveGSliceProduct.json",
                "productCharacteristic": [
                    {"name": "sliceLatencyMs", "valueType": "x-latency",
                     "value": {"p99": 12.345_678_901_234_5, "nested": [1, null, true]}}
                ]
            },
            "itemPrice": [{"priceType": "penalty", "price": {"dutyFreeAmount": {"unit": "EUR", "value": 500}}}]
        }],
        "orderTotalPrice": [{"priceType": "penalty", "price": {"dutyFreeAmount": {"unit": "EUR", "value": 500}}}]
    });

    let answer = downstream.post_order(&order, "key-2").await;

    assert!(
        matches!(answer, DownstreamAnswer::Http { status: 201, .. }),
        "{answer:?}"
    );
    assert_eq!(seen.lock().unwrap()[0].1, order);
}

/// Accepts only `Bearer <current>`: 401 otherwise; records the Authorization of every POST.
fn requiring(current: Arc<Mutex<String>>, seen: Arc<Mutex<Vec<String>>>) -> Router {
    Router::new().route(
        "/tmf-api/productOrdering/v4/productOrder",
        post(move |headers: HeaderMap| {
            let current = current.clone();
            let seen = seen.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                seen.lock().unwrap().push(auth.clone());
                if auth == format!("Bearer {}", current.lock().unwrap()) {
                    (StatusCode::CREATED, axum::Json(json!({"id": "D-1"})))
                } else {
                    (
                        StatusCode::UNAUTHORIZED,
                        axum::Json(json!({"reason": "bad token"})),
                    )
                }
            }
        }),
    )
}

#[tokio::test]
async fn a_refused_token_is_fetched_again_and_the_order_posted_once_more() {
    let current = Arc::new(Mutex::new("old".to_owned()));
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let base = serve(requiring(current.clone(), seen.clone())).await;
    // The parameter store: what a fetch returns now.
    let stored = Arc::new(Mutex::new("old".to_owned()));
    let source = stored.clone();
    let token = LazyToken::new(move || {
        let value = source.lock().unwrap().clone();
        async move { Ok::<_, BoxError>(value) }
    });
    let downstream = HttpDownstream::new(HttpDownstreamConfig::new(base), Arc::new(token)).unwrap();
    let order = json!({"externalId": "o-1"});
    let post = || downstream.post_order(&order, "key-1");
    assert!(matches!(
        post().await,
        DownstreamAnswer::Http { status: 201, .. }
    ));

    // The downstream rotates first: refused, fetched again (still old), not re-sent.
    "new".clone_into(&mut current.lock().unwrap());
    assert!(matches!(
        post().await,
        DownstreamAnswer::Http { status: 401, .. }
    ));
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "no second POST with the same token"
    );

    // Then the store: the refusal drops the cached token and the POST is repeated with the new.
    "new".clone_into(&mut stored.lock().unwrap());
    assert!(matches!(
        post().await,
        DownstreamAnswer::Http { status: 201, .. }
    ));
    assert_eq!(
        *seen.lock().unwrap(),
        ["Bearer old", "Bearer old", "Bearer old", "Bearer new"]
    );
}
