//! The ports of hub delivery beside the subscriptions it reads ([`crate::hubs::HubStore`]):
//! which subscriber received which event ([`DeliveryLog`]) and the sending to callbacks
//! ([`CallbackSender`]). Names only the foundation and [`crate::messaging`].

use std::collections::BTreeSet;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::messaging::{OutgoingMessage, SendOutcome};
use crate::store::{BoxError, StoreError};

/// Which subscriber received which event, so a redelivered message goes only to the
/// subscribers that have not had it yet. A subscriber is named by a stable key
/// ([`super::hub::subscriber_key`]).
///
/// An adapter guarantees that `record` is a conditional insert (of two concurrent records
/// of one pair exactly one answers `true`) and that `delivered` sees every record not yet
/// expired.
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

/// Sends to callbacks that passed the [`CallbackPolicy`](super::CallbackPolicy).
///
/// An implementation sends only to the address it is given (the policy was applied
/// before), answers refusals per entry for queue batches, and reports a failure of the whole
/// call as `Err`.
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
