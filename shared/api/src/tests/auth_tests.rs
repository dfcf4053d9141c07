//! Authentication and authorisation: token verification failures, scopes, tenants, and the
//! trusted-context mode used behind API Gateway.

use axum::body::Body;
use axum::http::{Request, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use q2c_service::Scope;
use serde_json::{Value, json};

use super::{AUDIENCE, ISSUER, SECRET, app, app_with, assert_error, req_as, send, token};
use crate::{ApiConfig, Authenticator, JwtKey, JwtVerifier, VerifiedClaims};

const QUOTES: &str = "/tmf-api/quoteManagement/v4/quote";
const HUB: &str = "/tmf-api/quoteManagement/v4/hub";

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims() -> Value {
    json!({"sub": "u1", "tenant": "t1", "scope": "quote.read hub.write",
        "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 600})
}

fn sign(claims: &Value, alg: Algorithm, secret: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret))
        .expect("a token")
}

fn with_token(token: &str) -> Request<Body> {
    Request::builder()
        .uri(format!("{HUB}/nope"))
        .method("DELETE")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("a request")
}

/// A token accepted by the verifier reaches the handler (here: 404 for an unknown hub id).
#[tokio::test]
async fn a_valid_token_reaches_the_handler() {
    let (app, _) = app();
    let reply = send(&app, with_token(&sign(&claims(), Algorithm::HS256, SECRET))).await;
    assert_error(&reply, 404, "NOT_FOUND");
}

#[tokio::test]
async fn a_missing_token_is_401_with_a_bearer_challenge() {
    let (app, _) = app();
    let request = Request::get(QUOTES).body(Body::empty()).expect("a request");
    let reply = send(&app, request).await;
    assert_error(&reply, 401, "UNAUTHORIZED");
    assert_eq!(reply.headers[header::WWW_AUTHENTICATE], "Bearer");
}

#[tokio::test]
async fn tokens_failing_verification_are_401() {
    let (app, _) = app();
    let mut cases = vec![
        (
            "forged signature",
            sign(&claims(), Algorithm::HS256, b"another-secret"),
        ),
        (
            "algorithm mismatch",
            sign(&claims(), Algorithm::HS384, SECRET),
        ),
        ("not a token", "abc.def".to_owned()),
    ];
    let mutations: [(&str, &str, Value); 6] = [
        ("expired", "exp", json!(now() - 3600)),
        ("not yet valid", "nbf", json!(now() + 3600)),
        ("wrong issuer", "iss", json!("someone-else")),
        ("wrong audience", "aud", json!("another-api")),
        ("invalid tenant", "tenant", json!("bad tenant!")),
        ("no exp", "exp", Value::Null),
    ];
    for (name, claim, value) in mutations {
        let mut c = claims();
        if value.is_null() {
            c.as_object_mut().expect("object").remove(claim);
        } else {
            c[claim] = value;
        }
        cases.push((name, sign(&c, Algorithm::HS256, SECRET)));
    }
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims().to_string());
    cases.push(("alg none", format!("{header}.{body}.")));
    for (name, token) in cases {
        let reply = send(&app, with_token(&token)).await;
        assert_eq!(reply.status, 401, "{name}: {:?}", reply.body);
        assert_eq!(reply.code(), "UNAUTHORIZED", "{name}");
    }
}

#[tokio::test]
async fn rs256_tokens_verify_with_the_public_key() {
    let public = include_bytes!("../../tests/fixtures/rs256-public.pem").to_vec();
    let private = include_bytes!("../../tests/fixtures/rs256-private.pem");
    let verifier =
        JwtVerifier::new(JwtKey::Rs256PublicPem(public), ISSUER, AUDIENCE).expect("a key");
    let (app, _) = app_with(
        Authenticator::jwt(verifier),
        ApiConfig::new("", "https://docs.test"),
    );
    let key = EncodingKey::from_rsa_pem(private).expect("a private key");
    let good =
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims(), &key).expect("a token");
    assert_eq!(send(&app, with_token(&good)).await.status, 404);
    let hs = sign(&claims(), Algorithm::HS256, SECRET);
    assert_eq!(send(&app, with_token(&hs)).await.status, 401);
}

#[tokio::test]
async fn a_missing_scope_is_403() {
    let (app, _) = app();
    let read_only = token("t1", &[Scope::QuoteRead]);
    let reply = send(&app, with_token(&read_only)).await;
    assert_error(&reply, 403, "MISSING_SCOPE");
    assert!(reply.message().contains("hub.write"));
}

#[tokio::test]
async fn the_tenant_claim_name_is_configurable() {
    let verifier = JwtVerifier::new(JwtKey::Hs256Secret(SECRET.to_vec()), ISSUER, AUDIENCE)
        .expect("a verifier")
        .with_tenant_claim("custom:tenant");
    let (app, _) = app_with(
        Authenticator::jwt(verifier),
        ApiConfig::new("", "https://docs.test"),
    );
    let mut c = claims();
    c["custom:tenant"] = json!("t9");
    assert_eq!(
        send(&app, with_token(&sign(&c, Algorithm::HS256, SECRET)))
            .await
            .status,
        404
    );
    c.as_object_mut().expect("object").remove("custom:tenant");
    assert_eq!(
        send(&app, with_token(&sign(&c, Algorithm::HS256, SECRET)))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn trusted_context_needs_the_verified_claims_extension() {
    let auth = Authenticator::TrustedContext {
        tenant_claim: "tenant".to_owned(),
    };
    let (app, _) = app_with(auth, ApiConfig::new("", "https://docs.test"));
    let bare = Request::delete(format!("{HUB}/x"))
        .body(Body::empty())
        .expect("a request");
    assert_error(&send(&app, bare).await, 401, "UNAUTHORIZED");

    let claims = json!({"sub": "u1", "tenant": "t1", "scp": ["hub.write"]});
    let mut request = Request::delete(format!("{HUB}/x"))
        .body(Body::empty())
        .expect("a request");
    let map = claims.as_object().expect("object").clone();
    request.extensions_mut().insert(VerifiedClaims(map));
    assert_error(&send(&app, request).await, 404, "NOT_FOUND");
}

#[test]
fn claims_give_subject_name_scopes_and_correlation_id() {
    let claims = json!({"sub": "u1", "name": "Ann", "tenant": "t1",
        "scope": "quote.read other.api", "scp": ["quote.approve"]});
    let ctx = crate::auth::context_from_claims(
        claims.as_object().expect("object"),
        "tenant",
        "c-1".into(),
    )
    .expect("a context");
    assert_eq!(ctx.subject_name.as_deref(), Some("Ann"));
    assert!(
        ctx.has(Scope::QuoteRead) && ctx.has(Scope::QuoteApprove) && !ctx.has(Scope::QuoteWrite)
    );
    assert_eq!(ctx.correlation_id, "c-1");
}

#[test]
fn api_gateway_bracketed_scope_strings_are_understood() {
    let claims = json!({"sub": "u1", "tenant": "t1", "scp": "[quote.read hub.write]"});
    let map = claims.as_object().expect("object");
    let ctx = crate::auth::context_from_claims(map, "tenant", "c".into()).expect("a context");
    assert!(ctx.has(Scope::QuoteRead) && ctx.has(Scope::HubWrite));
}

#[tokio::test]
async fn the_caller_carries_the_request_correlation_id() {
    use axum::extract::FromRequestParts;
    let state = super::state();
    let request = req_as("t1", &[Scope::QuoteRead], "GET", "/x")
        .body(())
        .expect("a request");
    let (mut parts, ()) = request.into_parts();
    parts
        .extensions
        .insert(crate::correlation::CorrelationId("corr-7".into()));
    let caller = crate::auth::Caller::from_request_parts(&mut parts, &state)
        .await
        .expect("a caller");
    assert_eq!(caller.0.correlation_id, "corr-7");
    assert_eq!(caller.0.tenant.as_str(), "t1");
    assert_eq!(caller.0.subject, "dev");
}
