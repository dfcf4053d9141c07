//! The ports' old home, kept only so that dependents' paths (`q2c_service::ports::QuoteStore`)
//! keep resolving: `pub use` of each port and record from the module that owns it. Nothing in
//! this crate uses this module; new code names the owner (see the crate doc's layering).

pub use crate::catalog::{CatalogStore, SettingsSource};
pub use crate::clock::{Clock, SystemClock};
pub use crate::hubs::{HubApi, HubStore, VersionedSubscription};
pub use crate::idempotency::{IdempotencyClaim, IdempotencyStore, StoredResponse};
pub use crate::orders::{OrderStore, StoredOrder};
pub use crate::outbox::{
    Destination, OutboxEvent, OutboxStore, ParkedEvent, PendingEvent, UndecodableEvent,
};
pub use crate::quotes::ports::{Ports, QuoteFilter, QuoteStore, StoredQuote, write_limits};
pub use crate::store::{BoxError, Listing, Page, StoreError};
