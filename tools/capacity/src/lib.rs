//! The capacity model of q2c's AWS data model.
//!
//! moto proves the DynamoDB and SQS adapters correct, but it has no partitions and its
//! `ConsumedCapacity` is a constant, so it cannot say what a workload costs. This crate prices
//! a *recording* of the requests a workload made (one JSON line per request: the wire request
//! and response bodies, see [`record::Record`]) by the rules AWS publishes:
//!
//! - item size: attribute names plus values, numbers by significant digits, 3 bytes per list or
//!   map and 1 per element ([`item`]);
//! - writes in 1 KB units, reads in 4 KB units, transactional ×2, eventually consistent ×½,
//!   a query rounded once over what it read, a batch get rounded per item ([`units`]);
//! - every global secondary index a write touches: a put of the projected item when the item
//!   enters the index, a delete when it leaves, both when its index key changes, an update when a
//!   projected attribute changes ([`replay`]). The size before a write comes from replaying every
//!   recorded write into a shadow copy of the table, so updates and deletes are priced by the
//!   larger of the item before and after, as AWS does.
//!
//! The result is a per-operation cost table (write and read units, SQS requests, dollars at the
//! published on-demand prices of [`pricing`]) and the load on every partition key, extrapolated
//! to a target rate ([`report`]).

pub mod item;
pub mod pricing;
pub mod record;
pub mod replay;
pub mod report;
pub mod schema;
pub mod units;
pub mod update;
