//! Serves the router over in-memory fakes on 127.0.0.1:`PORT` (default 8648), for fuzzing the
//! edge (e.g. with schemathesis) before the real adapters exist. Prints a dev token with every
//! scope. The quote use-cases are whatever `q2c-service` currently implements.

#[path = "../src/tests/fakes.rs"]
#[allow(dead_code)]
mod fakes;

use std::time::Duration;

use q2c_api::{ApiConfig, AppState, Authenticator, JwtKey, JwtVerifier, issue_dev_token, router};
use q2c_service::{QuoteService, QuoteServiceConfig, Scope};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = b"fake-server-secret".to_vec();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8648);
    let fakes = fakes::Fakes::default();
    let ports = fakes.ports();
    let href = "/tmf-api/quoteManagement/v4/quote".to_owned();
    let quotes = QuoteService::new(
        ports.clone(),
        QuoteServiceConfig {
            quote_href_base: href,
        },
    );
    let verifier = JwtVerifier::new(JwtKey::Hs256Secret(secret.clone()), "q2c-dev", "q2c-api")?;
    let base = format!("http://127.0.0.1:{port}");
    let config = ApiConfig::new(base.clone(), "");
    let app = router(AppState::new(
        quotes,
        ports,
        Authenticator::jwt(verifier),
        config,
    ));
    let day = Duration::from_secs(86_400);
    println!(
        "{}",
        issue_dev_token(&secret, "dev", &Scope::ALL, day, "q2c-dev", "q2c-api")
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
