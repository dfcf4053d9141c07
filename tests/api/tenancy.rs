//! Subscriptions are the subscriber's, never the system's: no hub lets a tenant name a queue
//! the deployment consumes or produces itself, in any form; a subscriber queue by rule
//! (`subscriber-<tenant>`) is accepted for its own tenant only and receives only that
//! tenant's events.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use q2c_local::SqliteQueues;
use q2c_service::messaging::{dlq_name, queues};
use q2c_service::ports::{HubApi, HubStore};
use q2c_service::testing::drain;
use q2c_tests::{
    CATALOG, ORDERING, QUOTES, QUOTES_V5, TestApp, assert_message_contains, assert_tmf_error,
    spawn_configured,
};
use serde_json::{Value, json};

/// Every hub: TMF648 v4 and v5 (one quote hub), the catalog hub, the ordering hub.
fn hubs() -> [(&'static str, String, HubApi); 4] {
    [
        ("v4", format!("{QUOTES}/hub"), HubApi::Quote),
        ("v5", format!("{QUOTES_V5}/hub"), HubApi::Quote),
        ("catalog", format!("{CATALOG}/hub"), HubApi::Catalog),
        ("ordering", format!("{ORDERING}/hub"), HubApi::Ordering),
    ]
}

async fn subscribe(app: &TestApp, token: &str, hub: &str, callback: &str) -> reqwest::Response {
    app.post_json(hub, token, &json!({"callback": callback}))
        .await
}

#[tokio::test]
async fn no_hub_accepts_a_system_queue_or_any_dead_letter_queue() {
    // 120 registrations in a row: the rate quota is not what this test is about.
    let app = spawn_configured(|c| c.quotas.requests_per_second = 0).await;
    let token = app.admin("acme");
    let names: Vec<String> = queues::SYSTEM
        .iter()
        .flat_map(|q| [(*q).to_owned(), dlq_name(q)])
        .chain(["subscriber-acme-dlq".to_owned()])
        .collect();
    for (version, hub, _) in hubs() {
        for name in &names {
            for callback in [
                format!("local:{name}"),
                format!("arn:aws:sqs:eu-west-1:123456789012:{name}"),
                format!("https://sqs.eu-west-1.amazonaws.com/123456789012/{name}"),
            ] {
                let response = subscribe(&app, &token, &hub, &callback).await;
                let body = assert_tmf_error(response, 400, "INVALID_INPUT").await;
                let message = body["message"].as_str().unwrap_or_default();
                assert!(
                    message.starts_with("callback:")
                        && message.contains(&format!("the system queue `{name}`"))
                        && message.contains("subscriber-<tenant>"),
                    "{version} {callback}: {message}"
                );
            }
        }
    }
    let store = app.store();
    let acme = q2c_service::TenantId::parse("acme").expect("tenant");
    for api in [HubApi::Quote, HubApi::Catalog, HubApi::Ordering] {
        assert_eq!(
            store.list(&acme, api).await.expect("list"),
            [],
            "nothing was stored on the {} hub",
            api.as_str()
        );
    }
}

/// Everything on `queue` ([`drain`]): each message's tenant and body.
async fn drain_bodies(queues: &SqliteQueues, queue: &str) -> Vec<(String, Value)> {
    drain(queues, queue)
        .await
        .into_iter()
        .map(|message| {
            let tenant = message
                .attributes
                .get("tenant")
                .cloned()
                .unwrap_or_default();
            (tenant, serde_json::from_str(&message.body).expect("JSON"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_queue_by_rule_is_its_tenants_alone_and_receives_only_its_events() {
    let app = spawn_configured(|c| c.consumers = true).await;
    let store = app.store();
    let queues = SqliteQueues::new(&store);
    for tenant in ["acme", "globex"] {
        q2c_embedded::queues::create(&queues, &format!("subscriber-{tenant}"))
            .await
            .expect("create the subscriber queue");
    }
    let (acme, globex) = (app.admin("acme"), app.admin("globex"));
    let [v4, v5, catalog, ordering] = hubs().map(|(_, hub, _)| hub);

    // Each tenant's own queue, on any hub...
    for (token, hub, callback) in [
        (&acme, &v4, "local:subscriber-acme"),
        (&globex, &v5, "local:subscriber-globex"),
        (&acme, &ordering, "local:subscriber-acme"),
    ] {
        let response = subscribe(&app, token, hub, callback).await;
        assert_eq!(response.status(), 201, "{hub} {callback}");
    }
    // ...never another tenant's.
    for hub in [&v4, &v5, &catalog, &ordering] {
        let response = subscribe(&app, &globex, hub, "local:subscriber-acme").await;
        let body = assert_tmf_error(response, 400, "INVALID_INPUT").await;
        assert_message_contains(&body, "subscriber-globex");
    }

    let mut created: [BTreeSet<String>; 2] = Default::default();
    for (i, token) in [&acme, &globex].into_iter().enumerate() {
        for _ in 0..2 {
            let quote = app.created_quote(token, "mobile-s").await;
            created[i].insert(quote["id"].as_str().expect("id").to_owned());
        }
    }

    let deadline = Instant::now() + Duration::from_secs(30);
    let mut received: [Vec<(String, Value)>; 2] = Default::default();
    while received.iter().any(|r| r.len() < 2) {
        assert!(
            Instant::now() < deadline,
            "each subscriber queue gets its tenant's two QuoteCreateEvents: {received:?}"
        );
        for (i, tenant) in ["acme", "globex"].into_iter().enumerate() {
            received[i].extend(drain_bodies(&queues, &format!("subscriber-{tenant}")).await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (i, tenant) in ["acme", "globex"].into_iter().enumerate() {
        let ids: BTreeSet<String> = received[i]
            .iter()
            .map(|(from, body)| {
                assert_eq!(from, tenant, "only {tenant}'s events on its queue: {body}");
                assert_eq!(body["eventType"], "QuoteCreateEvent");
                // acme subscribed through v4, globex through v5: each event is valid in its
                // version's official document.
                q2c_tests::conformance::assert_event(body, tenant == "globex");
                body["event"]["quote"]["id"]
                    .as_str()
                    .expect("quote id")
                    .to_owned()
            })
            .collect();
        assert_eq!(ids, created[i], "{tenant}'s queue holds exactly its quotes");
    }
    // The built-in billing route is untouched by the tenants: nothing of theirs is there.
    let billing = drain_bodies(&queues, queues::BILLING_UPDATES).await;
    assert!(
        billing.iter().all(|(tenant, _)| tenant.is_empty()),
        "{billing:?}"
    );
}
