//! `quote-api` bootstrap: configuration and clients at init, then the router per request.

use lambda_http::{Error, service_fn};
use q2c_fn_quote_api::{Config, QuoteApi};
use q2c_runtime::{Invocation, init};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (config, sdk, metrics) = init(Config::from_env).await?;
    let api = QuoteApi::new(
        config,
        aws_sdk_dynamodb::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
        metrics.clone(),
    )?;
    let api = &api;
    lambda_http::run(service_fn(move |request| {
        let invocation = Invocation::start(&metrics);
        async move { invocation.end(api.handle(request).await) }
    }))
    .await
}
