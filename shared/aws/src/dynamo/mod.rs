//! DynamoDB adapters: one [`DynamoStore`] over the single table implements every store port;
//! [`DynamoSettings`] reads tenant settings with a short cache.
//!
//! Resources are stored as their JSON text in a `body` attribute next to the key and index
//! attributes, rather than mapped attribute by attribute (`serde_dynamo`): the JSON keeps
//! decimals exactly as the model serialises them (no float detour through DynamoDB
//! numbers), keeps unknown TMF extensions verbatim, and makes the round trip the same as the
//! API's and the SQLite adapter's. Only what a key, index, condition or filter needs is
//! copied into attributes of its own.

mod catalog;
mod cursor;
mod deliveries;
mod dispatch_log;
mod fanout;
mod hubs;
mod idempotency;
mod item;
mod keys;
mod open_quotes;
mod orders;
mod outbox;
mod page;
mod products;
mod query;
mod quote_list;
mod quotes;
mod settings;
mod transact;

pub use settings::{DynamoSettings, SETTINGS_CACHE_TTL};

/// Write shards of the outbox's pending and published partitions on its index `outbox`
/// (`OUTBOX#PENDING#<n>`, `OUTBOX#PUBLISHED#<n>`); a read of the pending events queries each
/// of them, and those older releases wrote on `gsi2`.
pub const OUTBOX_SHARDS: u32 = keys::OUTBOX_SHARDS;

use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::ConsumedCapacity;
use q2c_service::fanout::{Announce, FanoutPorts};
use q2c_service::messaging::QueueClient;
use q2c_service::ports::{Clock, Ports, SettingsSource};

use crate::metrics::{Operation, RequestCounter};

/// The DynamoDB adapter of every store port (`QuoteStore`, `OrderStore`, `CatalogStore`,
/// `HubStore`, `IdempotencyStore`, `OutboxStore`, `DispatchLog`, `DeliveryLog`,
/// `ProductStore`) over one table with the key schema of the SAM
/// template: `pk`/`sk`, GSIs `gsi1` (`gsi1pk`/`gsi1sk`), `gsi2` (`gsi2pk`/`gsi2sk`) and
/// `outbox` (`obpk`/`obsk`, keys only), TTL attribute `expires_at`.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    requests: RequestCounter,
}

impl DynamoStore {
    /// A store over `table`, reusing `client` (build it once per Lambda container).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            requests: RequestCounter::new(),
        }
    }

    /// The AWS requests this store (and its clones) has made, per operation.
    pub fn requests(&self) -> &RequestCounter {
        &self.requests
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The use-cases' [`Ports`] over this store (every store port), with the given settings
    /// and clock.
    pub fn ports(&self, settings: Arc<dyn SettingsSource>, clock: Arc<dyn Clock>) -> Ports {
        let store = Arc::new(self.clone());
        Ports {
            quotes: store.clone(),
            orders: store.clone(),
            products: store.clone(),
            catalog: store.clone(),
            hubs: store.clone(),
            idempotency: store,
            settings,
            clock,
        }
    }

    /// The price fan-out's [`FanoutPorts`] over this store (quotes, catalog, both catalog
    /// writers, the open-quote index), with the given settings, continuation queue,
    /// announcer and clock.
    pub fn fanout_ports(
        &self,
        settings: Arc<dyn SettingsSource>,
        queue: Arc<dyn QueueClient>,
        announce: Arc<dyn Announce>,
        clock: Arc<dyn Clock>,
    ) -> FanoutPorts {
        let store = Arc::new(self.clone());
        FanoutPorts {
            quotes: store.clone(),
            catalog: store.clone(),
            writer: store.clone(),
            offerings: store.clone(),
            index: store,
            settings,
            queue,
            announce,
            clock,
        }
    }

    /// Adds the capacity DynamoDB reported for a request of `operation`.
    fn record_capacity<'a>(
        &self,
        operation: Operation,
        consumed: impl IntoIterator<Item = &'a ConsumedCapacity>,
    ) {
        let units = consumed
            .into_iter()
            .filter_map(ConsumedCapacity::capacity_units)
            .sum();
        self.requests.record_capacity(operation, units);
    }
}
