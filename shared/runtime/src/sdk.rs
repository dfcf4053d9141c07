//! The AWS SDK configuration every client of a function is built from, loaded once.

use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the shared configuration from the environment (region, credentials of the
/// execution role, `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` overrides).
/// Build every client from it once at init and reuse them on every invocation:
/// `aws_sdk_dynamodb::Client::new(&config)`.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}
