//! `outbox-relay` bootstrap: configuration and clients at init, then one stream batch or
//! scheduled sweep per invocation.
#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use q2c_aws::{DynamoStore, SqsPublisher};
use q2c_fn_outbox_relay::{Config, Relay};
use q2c_runtime::{Invocation, init};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ((config, prefix), sdk, metrics) = init(|| {
        let config = Config::from_env()?;
        let prefix = config.queue_prefix()?;
        Ok((config, prefix))
    })
    .await?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name);
    let publisher = SqsPublisher::new(aws_sdk_sqs::Client::new(&sdk)).with_prefix(prefix);
    let relay = Relay::new(store, publisher, metrics.clone()).emitting(config.event_schema);
    let relay = &relay;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let invocation = Invocation::start(&metrics);
        async move {
            invocation
                .end(relay.invoke(event.payload).await)
                .map_err(Error::from)
        }
    }))
    .await
}
