//! Hub delivery: every published event to every matching subscriber of its API's hub.
//!
//! - [`query`]: [`SubscriptionQuery`], the `query` grammar of subscriptions and its matching.
//! - [`policy`]: [`CallbackPolicy`], the callback allow-list and address rules.
//! - [`hub`]: [`HubDelivery`], the use-case a queue consumer runs over a batch of messages.
//! - the ports it needs beside [`HubStore`](crate::ports::HubStore): [`DeliveryLog`]
//!   (which subscriber received which `eventId`) and [`CallbackSender`] (batched queue sends
//!   and HTTP POSTs).

use std::collections::BTreeSet;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::messaging::{OutgoingMessage, SendOutcome};
use crate::ports::{BoxError, StoreError};

pub mod hub;
pub mod policy;
pub mod query;
#[cfg(test)]
mod tests;

pub use hub::{BuiltinSubscriber, DeliveryConfig, HubDelivery, billing_updates_subscriber, hub_of};
pub use policy::{CallbackPolicy, CallbackRefusal, CallbackTarget, is_forbidden_address};
pub use query::{QueryError, SubscriptionQuery};

/// Which subscriber received which event, so a redelivered message goes only to the
/// subscribers that have not had it yet. A subscriber is named by a stable key
/// ([`hub::subscriber_key`]).
#[async_trait]
pub trait DeliveryLog: Send + Sync {
    /// The subscribers among `subscribers` with a recorded delivery of `event_id`.
    async fn delivered(
        &self,
        event_id: &str,
        subscribers: &[String],
    ) -> Result<BTreeSet<String>, StoreError>;

    /// Records that `subscriber` received `event_id`, kept until `expires_at` (a
    /// conditional insert); `false` when it was recorded already.
    async fn record(
        &self,
        event_id: &str,
        subscriber: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}

/// Sends to callbacks that passed the [`CallbackPolicy`].
#[async_trait]
pub trait CallbackSender: Send + Sync {
    /// Sends up to 10 messages to a queue callback (SQS ARN/URL, or `local:<name>`) in one
    /// batch request; refused entries are in [`SendOutcome::failed`].
    ///
    /// # Errors
    /// When the whole request failed (unknown queue, network, a form this sender cannot
    /// address).
    async fn send_queue(
        &self,
        queue: &str,
        messages: &[OutgoingMessage],
    ) -> Result<SendOutcome, BoxError>;

    /// POSTs `body` (JSON) with `headers` to an HTTP callback, retrying a few times; `Ok`
    /// once the listener answered 2xx.
    ///
    /// # Errors
    /// When no attempt succeeded (the message says why).
    async fn post_http(
        &self,
        url: &str,
        body: &str,
        headers: &[(String, String)],
    ) -> Result<(), BoxError>;
}
