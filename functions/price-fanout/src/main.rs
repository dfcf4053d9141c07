//! `price-fanout` bootstrap: configuration and clients at init, then one SQS batch per
//! invocation.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use q2c_aws::DynamoStore;
use q2c_fn_price_fanout::{Config, Fanout};
use q2c_runtime::{Invocation, init};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (config, sdk, metrics) = init(Config::from_env).await?;
    let fanout = Fanout::new(
        &config,
        DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            config.table_name.clone(),
        ),
        aws_sdk_sqs::Client::new(&sdk),
        metrics.clone(),
    )?;
    let fanout = &fanout;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let invocation = Invocation::start(&metrics);
        async move { Ok::<_, Error>(invocation.end(fanout.handle(event.payload).await)) }
    }))
    .await
}
