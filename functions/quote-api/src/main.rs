//! `quote-api` bootstrap: configuration and clients at init, then the router per request.

use std::sync::Arc;

use lambda_http::{Error, service_fn};
use q2c_fn_quote_api::{Config, QuoteApi};
use q2c_runtime::{LambdaEnv, Metrics, init_tracing, sdk_config};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_tracing();
    let config = Config::from_env()?;
    let sdk = sdk_config().await;
    let metrics = Arc::new(Metrics::new(LambdaEnv::from_env().function_name));
    let api = QuoteApi::new(
        config,
        aws_sdk_dynamodb::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
        metrics.clone(),
    )?;
    let api = &api;
    lambda_http::run(service_fn(move |request| {
        let metrics = metrics.clone();
        async move {
            metrics.record_cold_start();
            let response = api.handle(request).await;
            metrics.flush();
            response
        }
    }))
    .await
}
