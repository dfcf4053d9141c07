//! Per-tenant quotas: subscriptions per hub (422 beyond), the request rate (429 with
//! `Retry-After`, other tenants unaffected), open quotes (422, soft: counted as the relay
//! publishes).

use std::time::{Duration, Instant};

use q2c_service::TenantId;
use q2c_service::quotas::OpenQuoteCounts;
use q2c_tests::{
    CATALOG, QUOTES, TestApp, assert_message_contains, assert_tmf_error, numeric_header,
    quote_body, spawn_configured,
};
use serde_json::json;

async fn subscribe(app: &TestApp, token: &str, hub: &str, i: usize) -> reqwest::Response {
    app.post_json(
        hub,
        token,
        &json!({"callback": format!("http://127.0.0.1:9/listener-{i}")}),
    )
    .await
}

#[tokio::test]
async fn the_subscription_after_the_quota_is_422_per_tenant_and_hub() {
    let app = spawn_configured(|c| c.quotas.max_subscriptions_per_api = 3).await;
    let (acme, globex) = (app.admin("acme"), app.admin("globex"));
    let hub = format!("{QUOTES}/hub");
    let mut ids = Vec::new();
    for i in 0..3 {
        let response = subscribe(&app, &acme, &hub, i).await;
        assert_eq!(response.status(), 201, "subscription {i}");
        ids.push(response.json::<serde_json::Value>().await.expect("json")["id"].clone());
    }
    let refused = assert_tmf_error(
        subscribe(&app, &acme, &hub, 3).await,
        422,
        "SUBSCRIPTION_QUOTA_EXCEEDED",
    )
    .await;
    assert_message_contains(&refused, "already has 3 subscriptions on the quote hub");
    assert_eq!(
        subscribe(&app, &acme, &format!("{CATALOG}/hub"), 0)
            .await
            .status(),
        201,
        "another hub has its own quota"
    );
    assert_eq!(
        subscribe(&app, &globex, &hub, 0).await.status(),
        201,
        "another tenant has its own quota"
    );
    let deleted = app
        .delete(&format!("{hub}/{}", ids[0].as_str().expect("id")), &acme)
        .await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        subscribe(&app, &acme, &hub, 4).await.status(),
        201,
        "a delete frees a place"
    );
    assert_eq!(subscribe(&app, &acme, &hub, 5).await.status(), 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_beyond_the_rate_is_429_while_another_tenant_keeps_its_pace() {
    let app = spawn_configured(|c| {
        c.quotas.requests_per_second = 5;
        c.quotas.burst = 10;
    })
    .await;
    let (noisy, calm) = (app.admin("noisy"), app.admin("calm"));
    let list = format!("{QUOTES}/quote");
    let started = Instant::now();
    let burst = futures::future::join_all((0..60).map(|_| app.get(&list, &noisy)));
    // The calm tenant: 8 requests, 200 ms apart (under its 5/s), during the burst.
    let paced = async {
        let mut statuses = Vec::new();
        for _ in 0..8 {
            statuses.push(app.get(&list, &calm).await.status().as_u16());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        statuses
    };
    let (burst, paced) = tokio::join!(burst, paced);
    let elapsed = started.elapsed();
    assert_eq!(
        paced, [200; 8],
        "the calm tenant is not limited by the noisy one"
    );
    let mut admitted = 0;
    let mut limited = Vec::new();
    for response in burst {
        match response.status().as_u16() {
            200 => admitted += 1,
            429 => limited.push(response),
            other => panic!("unexpected status {other}"),
        }
    }
    // The bucket: 10 at once, then 5 per second.
    let most = 10 + (5.0 * elapsed.as_secs_f64()).ceil() as usize;
    assert!(admitted <= most, "{admitted} admitted, at most {most}");
    assert!(
        !limited.is_empty(),
        "60 requests at once exceed a burst of 10"
    );
    for response in limited {
        let retry_after = numeric_header(&response, "retry-after");
        assert!(retry_after >= 1, "Retry-After {retry_after}");
        let body = assert_tmf_error(response, 429, "RATE_LIMITED").await;
        assert_message_contains(&body, "tenant noisy exceeded 5 requests per second");
    }
    // Once the bucket refills (a token per 200 ms) the noisy tenant is served again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.get(&list, &noisy).await.status(), 200);
}

/// Waits until the relay has counted `expected` open quotes for `tenant`.
async fn counted(app: &TestApp, tenant: &str, expected: u64) {
    let store = app.store();
    let tenant = TenantId::parse(tenant).expect("tenant");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let open = store.open_quotes(&tenant).await.expect("count");
        if open == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the relay counts {expected} open quotes, not {open}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn opening_a_quote_beyond_the_quota_is_422_and_closing_one_frees_a_place() {
    let app = spawn_configured(|c| c.quotas.max_open_quotes = 3).await;
    let token = app.admin("acme");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let quote = app.created_quote(&token, "mobile-s").await;
        ids.push(quote["id"].as_str().expect("id").to_owned());
    }
    counted(&app, "acme", 3).await;
    let refused = app
        .create_quote_error(&token, "mobile-s", 422, "OPEN_QUOTE_QUOTA_EXCEEDED")
        .await;
    assert_message_contains(&refused, "has 3 open quotes");
    assert_eq!(
        app.created_quote(&app.admin("globex"), "mobile-s").await["state"],
        "inProgress",
        "another tenant's quotes are its own"
    );

    // Cancelling (a final state) closes one; deleting an open one closes another.
    let cancelled = app
        .patch_quote(&token, &ids[0], &json!({"state": "cancelled"}), None)
        .await;
    assert_eq!(cancelled.status(), 200);
    let deleted = app
        .delete(&format!("{QUOTES}/quote/{}", ids[1]), &token)
        .await;
    assert_eq!(deleted.status(), 204);
    counted(&app, "acme", 1).await;
    for _ in 0..2 {
        assert_eq!(
            app.create_quote(&token, &quote_body("mobile-s"))
                .await
                .status(),
            201
        );
    }
    counted(&app, "acme", 3).await;
    assert_eq!(
        app.create_quote(&token, &quote_body("mobile-s"))
            .await
            .status(),
        422
    );
}
