//! moto, the AWS emulator the tests talk to over real HTTP: its endpoint, SDK clients for it,
//! and unique names so that tests sharing one server never meet.

/// The variable naming moto's endpoint (`tools/test.sh` starts moto and sets it).
pub const ENDPOINT_VARIABLE: &str = "Q2C_TEST_AWS_ENDPOINT";

/// The moto endpoint; panics (fails the test) with instructions when it is unset. Tests
/// start with [`crate::require_moto!`], which skips them (or fails them under
/// [`crate::skip::REQUIRE_VARIABLE`]) before they get here.
pub fn endpoint() -> String {
    endpoint_if_set().unwrap_or_else(|| panic!("{}", missing_reason()))
}

/// The moto endpoint when set (benchmarks that skip moto without it).
pub fn endpoint_if_set() -> Option<String> {
    std::env::var(ENDPOINT_VARIABLE)
        .ok()
        .filter(|endpoint| !endpoint.is_empty())
}

/// Whether moto is there: `true` when [`ENDPOINT_VARIABLE`] is set; else the calling test
/// is skipped with a printed reason ([`crate::skip::skip`]), which fails it instead when
/// [`crate::skip::REQUIRE_VARIABLE`] is `1`. Call it through [`crate::require_moto!`].
pub fn available() -> bool {
    if endpoint_if_set().is_some() {
        return true;
    }
    crate::skip::skip(&missing_reason());
    false
}

/// Returns from the calling test unless moto is there ([`available`]): the
/// first statement of every test that talks to moto.
#[macro_export]
macro_rules! require_moto {
    () => {
        if !$crate::moto::available() {
            return;
        }
    };
}

fn missing_reason() -> String {
    format!(
        "{ENDPOINT_VARIABLE} is not set: this test needs moto. Run tools/test.sh, or start \
         `moto_server -H 127.0.0.1 -p 5055` and export \
         {ENDPOINT_VARIABLE}=http://127.0.0.1:5055 AWS_ACCESS_KEY_ID=testing \
         AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1"
    )
}

/// The region: `AWS_REGION`, else `eu-west-1`.
pub fn region() -> String {
    std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-west-1".into())
}

/// A unique name starting with `prefix` (33 characters more; queue names allow 80).
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A short unique queue-name prefix ending in `-` (`<prefix><12 hex>-`), for a test's set
/// of queues named as the template names them.
pub fn queue_prefix(prefix: &str) -> String {
    format!(
        "{prefix}{}-",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

fn credentials() -> aws_sdk_sqs::config::Credentials {
    aws_sdk_sqs::config::Credentials::new("testing", "testing", None, None, "moto")
}

/// The SQS configuration for moto (to add interceptors before building a client).
pub fn sqs_config() -> aws_sdk_sqs::Config {
    aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new(region()))
        .endpoint_url(endpoint())
        .credentials_provider(credentials())
        .build()
}

/// An SQS client for moto.
pub fn sqs_client() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::from_conf(sqs_config())
}

/// The DynamoDB configuration for moto (to add interceptors before building a client).
pub fn dynamo_config() -> aws_sdk_dynamodb::Config {
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new(region()))
        .endpoint_url(endpoint())
        .credentials_provider(credentials())
        .build()
}

/// A DynamoDB client for moto.
pub fn dynamo_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(dynamo_config())
}

/// A shared SDK configuration for moto, as `aws_config` loads it in the functions.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region()))
        .endpoint_url(endpoint())
        .credentials_provider(credentials())
        .load()
        .await
}
