//! Assembling the use-cases the SQS-triggered functions share over the AWS adapters, so that
//! `price-fanout` and `hub-delivery` wire hub delivery the same way.

use std::sync::Arc;

use q2c_callbacks::{HttpCallbacks, HttpConfig};
use q2c_service::delivery::{
    CallbackPolicy, DeliveryConfig, HubDelivery, billing_updates_subscriber,
};
use q2c_service::event_versions::SchemaMajor;
use q2c_service::ports::{BoxError, SystemClock};

use crate::dynamo::DynamoStore;
use crate::sqs::SqsCallbackSender;

/// Hub delivery over the table (subscriptions, delivery log) and SQS/HTTPS callbacks:
/// registered callbacks must pass the deployment's policy (the template's
/// `CallbackAllowlist`, subscriber queues `<subscriber_prefix><tenant>`, never a system
/// queue: [`CallbackPolicy::for_deployment`]), billing-updates receives every catalog event
/// first as a built-in subscriber (system routing, not subject to that policy), and a
/// message still missing a subscriber on its `max_attempts`-th receive (the queue's
/// `maxReceiveCount`) is dead-lettered naming it. Built-in subscribers receive schema major
/// `emit` (the function's `EVENT_SCHEMA_VERSION`); registered ones the version they
/// registered with.
///
/// # Errors
/// When the allow-list has an invalid entry or the HTTP client cannot be built.
pub fn hub_delivery(
    store: &DynamoStore,
    sqs: aws_sdk_sqs::Client,
    allowlist: &str,
    subscriber_prefix: Option<&str>,
    billing_updates_queue_url: &str,
    max_attempts: u32,
    emit: SchemaMajor,
) -> Result<HubDelivery, BoxError> {
    let policy =
        CallbackPolicy::for_deployment(allowlist, billing_updates_queue_url, subscriber_prefix)?;
    let http = HttpCallbacks::new(policy.clone(), HttpConfig::default())?;
    Ok(HubDelivery::new(
        Arc::new(store.clone()),
        store.delivery_log(),
        Arc::new(SqsCallbackSender::new(sqs, http)),
        policy,
        Arc::new(SystemClock),
        DeliveryConfig {
            max_attempts,
            catalog_builtins: vec![billing_updates_subscriber(billing_updates_queue_url)],
            emit,
            ..DeliveryConfig::default()
        },
    ))
}

/// The queue-name prefix of a stack from one of its queue URLs: the URL's last segment
/// without `queue` (`…/q2c-pricing-changes` → `q2c-`).
///
/// # Errors
/// A message naming the URL when its last segment does not end in `queue`.
pub fn queue_prefix(queue_url: &str, queue: &str) -> Result<String, String> {
    let name = queue_url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    name.strip_suffix(queue)
        .map(str::to_owned)
        .ok_or_else(|| format!("queue `{name}` of {queue_url} is not a `{queue}` queue"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_the_queue_name_minus_the_template_name() {
        assert_eq!(
            queue_prefix(
                "https://sqs.eu-west-1.amazonaws.com/123/q2c-pricing-changes",
                "pricing-changes"
            ),
            Ok("q2c-".to_owned())
        );
        assert_eq!(
            queue_prefix(
                "http://localhost:5055/000/pricing-changes/",
                "pricing-changes"
            ),
            Ok(String::new())
        );
        assert!(queue_prefix("https://x/123/q2c-orders", "pricing-changes").is_err());
    }
}
