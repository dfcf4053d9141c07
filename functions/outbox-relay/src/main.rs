//! `outbox-relay` bootstrap: configuration and clients at init, then one stream batch or
//! scheduled sweep per invocation.
#![recursion_limit = "256"]

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use q2c_aws::{DynamoStore, SqsPublisher};
use q2c_fn_outbox_relay::{Config, Relay};
use q2c_runtime::{LambdaEnv, Metrics, init_tracing, sdk_config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let config = Config::from_env()?;
    let prefix = config.queue_prefix()?;
    let sdk = sdk_config().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name);
    let publisher = SqsPublisher::new(aws_sdk_sqs::Client::new(&sdk)).with_prefix(prefix);
    let metrics = Arc::new(Metrics::new(LambdaEnv::from_env().function_name));
    let relay = Relay::new(store, publisher, metrics.clone()).emitting(config.event_schema);
    let relay = &relay;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let metrics = metrics.clone();
        async move {
            metrics.record_cold_start();
            let response = relay.invoke(event.payload).await;
            metrics.flush();
            response.map_err(Error::from)
        }
    }))
    .await
}
