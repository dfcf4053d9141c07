//! Races and retries: optimistic locking and idempotent POSTs.

use q2c_tests::{QUOTES, assert_tmf_error, quote_body, spawn_as_admin};
use serde_json::{Value, json};

#[tokio::test]
async fn two_concurrent_patches_with_one_if_match_give_one_200_and_one_412() {
    let (app, token) = spawn_as_admin().await;
    for round in 0..5 {
        let id = app.created_id(&token, "mobile-s").await;
        let (patch_a, patch_b) = (
            json!({"description": format!("a{round}")}),
            json!({"description": format!("b{round}")}),
        );
        let (a, b) = tokio::join!(
            app.patch_quote(&token, &id, &patch_a, Some("\"1\"")),
            app.patch_quote(&token, &id, &patch_b, Some("\"1\"")),
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}");
        let quote: Value = app.get_json(&format!("{QUOTES}/quote/{id}"), &token).await;
        assert!(
            quote["description"] == json!(format!("a{round}"))
                || quote["description"] == json!(format!("b{round}"))
        );
    }
}

#[tokio::test]
async fn an_idempotent_post_replays_and_a_reused_key_is_422() {
    let (app, token) = spawn_as_admin().await;
    let post = async |offering: &str| {
        app.create_quote_with_key(&token, "order-form-7", &quote_body(offering))
            .await
    };
    let first = post("mobile-s").await;
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.expect("json");

    let replay = post("mobile-s").await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["location"], location);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.expect("json"), first);

    let reused = post("mobile-l").await;
    assert_tmf_error(reused, 422, "IDEMPOTENCY_KEY_REUSED").await;

    let list = app.get(&format!("{QUOTES}/quote"), &token).await;
    assert_eq!(list.headers()["x-total-count"], "1");
}

#[tokio::test]
async fn concurrent_creates_with_one_key_create_one_quote() {
    let (app, token) = spawn_as_admin().await;
    let body = quote_body("mobile-s");
    let requests = (0..8).map(|_| app.create_quote_with_key(&token, "burst", &body));
    let responses = futures::future::join_all(requests).await;
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert!(statuses.contains(&201));
    let list = app.get(&format!("{QUOTES}/quote"), &token).await;
    assert_eq!(list.headers()["x-total-count"], "1");
}
