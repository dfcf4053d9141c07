//! The AWS SDK configuration every client of a function is built from, loaded once.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Loads the shared configuration from the environment (region, credentials of the
/// execution role, `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` overrides).
/// Build every client from it once at init and reuse them on every invocation:
/// `aws_sdk_dynamodb::Client::new(&config)`.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await
}

/// The SDK's default HTTPS client (hyper 1 and rustls with the platform's roots, proxy
/// settings from the environment, the SDK's connect and read timeouts and sleep), with ring
/// as rustls' crypto provider instead of aws-lc-rs: reqwest (hub callbacks, order
/// management) already uses ring, and one provider in a bootstrap instead of two keeps it
/// small (docs/functions.md, "Size"). The same construction as
/// `aws_smithy_runtime::client::http::default_https_client`, which cannot be given a
/// provider. The connector, and with it the root store, is built on the first request.
pub fn https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, runtime_components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = runtime_components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}
