//! Token verification and tenant isolation on every route.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, get_current_timestamp};
use q2c_service::Scope;
use q2c_tests::{
    CATALOG, QUOTES, TestApp, assert_not_found, assert_tmf_error, hub_path, quote_body, spawn_app,
};
use serde_json::{Value, json};

fn claims(overrides: Value) -> Value {
    let now = get_current_timestamp();
    let mut claims = json!({
        "sub": "mallory", "tenant": "acme", "scope": "quote.read quote.write",
        "iss": "q2c-local", "aud": "q2c", "iat": now, "exp": now + 600,
    });
    for (key, value) in overrides.as_object().expect("object") {
        claims[key] = value.clone();
    }
    claims
}

fn signed(secret: &str, claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

async fn assert_rejected(app: &TestApp, token: &str, what: &str) {
    let response = app.get(&format!("{QUOTES}/quote"), token).await;
    assert_eq!(response.status(), 401, "{what}");
    assert_tmf_error(response, 401, "UNAUTHORIZED").await;
}

/// A token with the test claims changed by `overrides`, signed with the app's secret, is
/// refused.
async fn assert_claims_rejected(app: &TestApp, overrides: Value, what: &str) {
    assert_rejected(app, &signed(&app.secret, &claims(overrides)), what).await;
}

#[tokio::test]
async fn a_correctly_signed_token_is_accepted() {
    let app = spawn_app().await;
    let token = signed(&app.secret, &claims(json!({})));
    assert_eq!(
        app.get(&format!("{QUOTES}/quote"), &token).await.status(),
        200
    );
}

#[tokio::test]
async fn a_forged_signature_is_rejected() {
    let app = spawn_app().await;
    assert_rejected(
        &app,
        &signed("someone-elses-secret", &claims(json!({}))),
        "forged",
    )
    .await;
}

#[tokio::test]
async fn an_expired_token_is_rejected() {
    let app = spawn_app().await;
    let past = get_current_timestamp() - 3600;
    assert_claims_rejected(&app, json!({"exp": past, "iat": past - 60}), "expired").await;
}

#[tokio::test]
async fn a_token_not_yet_valid_is_rejected() {
    let app = spawn_app().await;
    let later = get_current_timestamp() + 3600;
    assert_claims_rejected(&app, json!({"nbf": later, "exp": later + 600}), "nbf").await;
}

#[tokio::test]
async fn wrong_issuer_or_audience_is_rejected() {
    let app = spawn_app().await;
    assert_claims_rejected(&app, json!({"iss": "evil"}), "issuer").await;
    assert_claims_rejected(&app, json!({"aud": "other-api"}), "audience").await;
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_rejected() {
    let app = spawn_app().await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(json!({})).to_string());
    assert_rejected(&app, &format!("{header}.{payload}."), "alg none").await;
}

#[tokio::test]
async fn a_token_without_a_valid_tenant_is_rejected() {
    let app = spawn_app().await;
    assert_claims_rejected(&app, json!({"tenant": "a b/c"}), "bad tenant").await;
    let mut no_tenant = claims(json!({}));
    no_tenant.as_object_mut().expect("object").remove("tenant");
    assert_rejected(&app, &signed(&app.secret, &no_tenant), "no tenant").await;
}

#[tokio::test]
async fn one_tenant_never_sees_or_changes_another_tenants_quotes() {
    let app = spawn_app().await;
    let acme = app.admin("acme");
    let globex = app.admin("globex");
    let quote = app.created_quote(&acme, "mobile-s").await;
    let id = quote["id"].as_str().expect("id");
    let path = format!("{QUOTES}/quote/{id}");

    let list = app.get(&format!("{QUOTES}/quote"), &globex).await;
    assert_eq!(list.headers()["x-total-count"], "0");
    assert_eq!(list.json::<Value>().await.expect("json"), json!([]));
    app.get_error(&path, &globex, 404, "NOT_FOUND").await;
    assert_not_found(
        app.patch_quote(&globex, id, &json!({"state": "cancelled"}), None)
            .await,
    )
    .await;
    let delete = app.delete(&path, &globex).await;
    assert_not_found(delete).await;

    let still: Value = app.get_json(&path, &acme).await;
    assert_eq!(still, quote);
}

#[tokio::test]
async fn hubs_are_per_tenant() {
    let app = spawn_app().await;
    let acme = app.admin("acme");
    let globex = app.admin("globex");
    let created = app
        .subscribe(&acme, &json!({"callback": "http://127.0.0.1:9/listener"}))
        .await;
    assert_eq!(created.status(), 201);
    let path = hub_path(&created.json().await.expect("json"));
    let foreign = app.delete(&path, &globex).await;
    assert_not_found(foreign).await;
    let own = app.delete(&path, &acme).await;
    assert_eq!(own.status(), 204);
}

#[tokio::test]
async fn idempotency_keys_are_per_tenant() {
    let app = spawn_app().await;
    let body = quote_body("mobile-s");
    let first = app
        .create_quote_with_key(&app.admin("acme"), "same-key", &body)
        .await;
    let second = app
        .create_quote_with_key(&app.admin("globex"), "same-key", &body)
        .await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (201, 201)
    );
    assert!(second.headers().get("idempotent-replayed").is_none());
    let a: Value = first.json().await.expect("json");
    let b: Value = second.json().await.expect("json");
    assert_ne!(a["id"], b["id"]);
}

#[tokio::test]
async fn the_catalog_is_shared_but_needs_its_scope() {
    let app = spawn_app().await;
    for tenant in ["acme", "globex"] {
        let response = app
            .get(
                &format!("{CATALOG}/productOffering/mobile-s"),
                &app.admin(tenant),
            )
            .await;
        assert_eq!(response.status(), 200, "{tenant}");
    }
    let no_catalog_scope = app.token("acme", &[q2c_service::Scope::QuoteRead]);
    app.get_error(
        &format!("{CATALOG}/productOffering"),
        &no_catalog_scope,
        403,
        "MISSING_SCOPE",
    )
    .await;
}

#[tokio::test]
async fn q2c_local_can_verify_rs256_tokens_of_an_identity_provider() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = q2c_embedded::local::LocalConfig::with_defaults(
        "127.0.0.1:0".parse().expect("address"),
        data_dir.path().to_owned(),
        "unused-hs256-secret".to_owned(),
    );
    config.jwt_public_key_pem =
        Some(include_bytes!("../../shared/api/tests/fixtures/rs256-public.pem").to_vec());
    config.jwt_issuer = "https://idp.example".to_owned();
    config.jwt_audience = "q2c-api".to_owned();
    let app = q2c_tests::spawn_with(config, data_dir, "unused-hs256-secret".to_owned()).await;

    let private = EncodingKey::from_rsa_pem(include_bytes!(
        "../../shared/api/tests/fixtures/rs256-private.pem"
    ))
    .expect("key");
    let good = encode(
        &Header::new(Algorithm::RS256),
        &claims(json!({"iss": "https://idp.example", "aud": "q2c-api"})),
        &private,
    )
    .expect("sign");
    assert_eq!(
        app.get(&format!("{QUOTES}/quote"), &good).await.status(),
        200
    );

    let hs256 = signed(
        "unused-hs256-secret",
        &claims(json!({"iss": "https://idp.example", "aud": "q2c-api"})),
    );
    assert_rejected(&app, &hs256, "HS256 when RS256 is configured").await;

    // `q2c token --private-key` mints what this server accepts.
    let minted = q2c_api::issue_rs256_token(
        include_bytes!("../../shared/api/tests/fixtures/rs256-private.pem"),
        "acme",
        &Scope::ALL,
        std::time::Duration::from_secs(600),
        "https://idp.example",
        "q2c-api",
    )
    .expect("mint");
    assert_eq!(
        app.get(&format!("{QUOTES}/quote"), &minted).await.status(),
        200
    );
}

/// With `--jwt-public-key` the start-up banner says how to mint an RS256 token, never
/// printing an HS256 one the server would refuse.
#[test]
fn the_banner_never_offers_a_token_the_server_refuses() {
    let mut config = q2c_embedded::local::LocalConfig::with_defaults(
        "127.0.0.1:0".parse().expect("address"),
        std::env::temp_dir(),
        "hs256-secret".to_owned(),
    );
    let hs256 = q2c_embedded::local::token_help(&config).expect("help");
    assert!(hs256.contains("export TOKEN=eyJ"), "{hs256}");
    config.jwt_public_key_pem =
        Some(include_bytes!("../../shared/api/tests/fixtures/rs256-public.pem").to_vec());
    config.jwt_issuer = "https://idp.example".to_owned();
    let rs256 = q2c_embedded::local::token_help(&config).expect("help");
    assert!(!rs256.contains("eyJ"), "no token at all: {rs256}");
    assert!(
        rs256.contains("q2c token --private-key <private-key.pem> --issuer 'https://idp.example'"),
        "{rs256}"
    );
}
