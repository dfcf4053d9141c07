//! `hub-delivery` bootstrap: configuration and clients at init, then one SQS batch per
//! invocation.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use q2c_aws::DynamoStore;
use q2c_fn_hub_delivery::{Config, Delivery, deadline_from_epoch_ms};
use q2c_runtime::{Invocation, init};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (config, sdk, metrics) = init(Config::from_env).await?;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.table_name.clone(),
    );
    let delivery = Delivery::new(
        &config,
        &store,
        aws_sdk_sqs::Client::new(&sdk),
        metrics.clone(),
    )?;
    let delivery = &delivery;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let invocation = Invocation::start(&metrics);
        async move {
            let deadline = deadline_from_epoch_ms(event.context.deadline);
            let response = delivery.handle(event.payload, deadline).await;
            Ok::<_, Error>(invocation.end(response))
        }
    }))
    .await
}
