//! The AWS SDK configuration of the commands that work on a deployment (`q2c dlq` on SQS,
//! `q2c catalog import|diff --table`): the default credential chain and region, overridden
//! by the flags as the aws CLI names them. The CLI only builds SDK clients (here and where a
//! command makes its client from this); the operations are in `q2c-aws`. A leaf module.

/// The SDK configuration for these flags: `--endpoint-url`, `--region`, `--profile`.
pub async fn sdk_config(
    endpoint_url: Option<&str>,
    region: Option<&str>,
    profile: Option<&str>,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}
