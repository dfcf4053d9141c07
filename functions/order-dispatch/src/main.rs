//! `order-dispatch` bootstrap: configuration and clients at init (the downstream credential
//! is fetched on first use, never here, and again after its TTL or a 401/403), then one SQS
//! batch per invocation.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use q2c_aws::DynamoStore;
use q2c_downstream::{
    Credential, HttpDownstream, HttpDownstreamConfig, LazyToken, NoCredential, TokioSleeper,
};
use q2c_fn_order_dispatch::{Config, Dispatcher, deadline_from_epoch_ms};
use q2c_runtime::{Invocation, LazySecret, init};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (config, sdk, metrics) = init(Config::from_env).await?;
    let credential: Arc<dyn Credential> = match &config.credential_parameter {
        Some(name) => {
            let secret = LazySecret::ssm_parameter(aws_sdk_ssm::Client::new(&sdk), name.clone());
            Arc::new(LazyToken::new(move || {
                let secret = secret.clone();
                // Fetched anew each time the token's TTL ends or order management refuses
                // it (LazyToken caches it), so a rotated parameter is picked up.
                async move { Ok(secret.fetch_now().await?) }
            }))
        }
        None => Arc::new(NoCredential),
    };
    let downstream = HttpDownstream::new(
        HttpDownstreamConfig::new(config.downstream_url.clone()),
        credential,
    )?;
    let dispatcher = Dispatcher::new(
        &config,
        DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            config.table_name.clone(),
        ),
        aws_sdk_sqs::Client::new(&sdk),
        Arc::new(downstream),
        Arc::new(TokioSleeper),
        metrics.clone(),
    );
    let dispatcher = &dispatcher;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let invocation = Invocation::start(&metrics);
        async move {
            let response = dispatcher
                .handle(
                    event.payload,
                    deadline_from_epoch_ms(event.context.deadline),
                )
                .await;
            Ok::<_, Error>(invocation.end(response))
        }
    }))
    .await
}
