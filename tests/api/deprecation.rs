//! A deprecated version answers every response with `Deprecation` (RFC 9745), `Sunset`
//! (RFC 8594) and a `Link` to the same resource in its successor; other versions and APIs do
//! not.

use q2c_tests::{CATALOG, QUOTES, QUOTES_V5, TestApp, spawn_app, spawn_configured};
use reqwest::Method;

async fn spawn_with_v4_deprecated() -> TestApp {
    spawn_configured(|config| {
        config.deprecated_api_versions =
            q2c_api::deprecation::parse_deprecations("v4:2026-12-01:2027-06-30")
                .expect("a valid setting");
    })
    .await
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ASCII").to_owned())
}

/// Asserts the headers of v4 as [`spawn_with_v4_deprecated`] deprecates it, naming
/// `successor` (a path) as the successor of what `response` answered.
fn assert_deprecated(app: &TestApp, response: &reqwest::Response, successor: &str) {
    // 2026-12-01T00:00:00Z and 2027-06-30T00:00:00Z.
    assert_eq!(
        header(response, "deprecation").as_deref(),
        Some("@1796083200")
    );
    assert_eq!(
        header(response, "sunset").as_deref(),
        Some("Wed, 30 Jun 2027 00:00:00 GMT")
    );
    assert_eq!(
        header(response, "link"),
        Some(format!(
            "<{}{successor}>; rel=\"successor-version\"",
            app.base
        ))
    );
}

#[tokio::test]
async fn a_deprecated_version_announces_deprecation_sunset_and_successor_on_every_response() {
    let app = spawn_with_v4_deprecated().await;
    let token = app.admin("acme");
    let created = app.created_quote(&token, "mobile-s").await;
    let id = created["id"].as_str().expect("id");

    let read = app
        .get(&format!("{QUOTES}/quote/{id}?fields=state"), &token)
        .await;
    assert_eq!(read.status(), 200);
    assert_deprecated(&app, &read, &format!("{QUOTES_V5}/quote/{id}"));

    // Errors too (here: no token).
    let unauthorised = app.get_anonymous(&format!("{QUOTES}/quote")).await;
    assert_eq!(unauthorised.status(), 401);
    assert_deprecated(&app, &unauthorised, &format!("{QUOTES_V5}/quote"));

    // Not the successor, not another API.
    let v5 = app.get(&format!("{QUOTES_V5}/quote/{id}"), &token).await;
    assert_eq!(v5.status(), 200);
    let catalog = app.get(&format!("{CATALOG}/productOffering"), &token).await;
    assert_eq!(catalog.status(), 200);
    for response in [&v5, &catalog] {
        for name in ["deprecation", "sunset", "link"] {
            assert_eq!(header(response, name), None, "{name} on {}", response.url());
        }
    }
    let patched = app
        .request(Method::PATCH, &format!("{QUOTES}/quote/{id}"), &token)
        .header("Content-Type", "application/merge-patch+json")
        .body(r#"{"description":"still works"}"#)
        .send()
        .await
        .expect("PATCH");
    assert_eq!(patched.status(), 200, "a deprecated version still serves");
    assert!(header(&patched, "sunset").is_some());
}

#[tokio::test]
async fn without_configuration_no_version_is_deprecated() {
    let app = spawn_app().await;
    let token = app.admin("acme");
    let listed = app.get(&format!("{QUOTES}/quote"), &token).await;
    assert_eq!(listed.status(), 200);
    for name in ["deprecation", "sunset", "link"] {
        assert_eq!(header(&listed, name), None, "{name}");
    }
}
