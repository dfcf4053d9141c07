//! Hub delivery: every published event to every matching subscriber of its API's hub.
//!
//! - [`query`]: [`SubscriptionQuery`], the `query` grammar of subscriptions and its matching.
//! - [`policy`]: [`CallbackPolicy`], the callback allow-list and address rules.
//! - [`hub`]: [`HubDelivery`], the use-case a queue consumer runs over a batch of messages.
//! - [`ports`]: the ports it needs beside [`HubStore`](crate::hubs::HubStore) (the
//!   subscriptions): [`DeliveryLog`] (which subscriber received which `eventId`) and
//!   [`CallbackSender`] (batched queue sends and HTTP POSTs).

pub mod hub;
pub mod policy;
pub mod ports;
pub mod query;
#[cfg(test)]
mod tests;

pub use hub::{BuiltinSubscriber, DeliveryConfig, HubDelivery, billing_updates_subscriber, hub_of};
pub use policy::{CallbackPolicy, CallbackRefusal, CallbackTarget, is_forbidden_address};
pub use ports::{CallbackSender, DeliveryLog};
pub use query::{QueryError, SubscriptionQuery};
