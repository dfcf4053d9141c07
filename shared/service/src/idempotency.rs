//! Idempotent replay of API requests (`Idempotency-Key`): the [`IdempotencyStore`] port
//! and the records it keeps. Names only the foundation.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::context::TenantId;
use crate::store::StoreError;

/// A response kept for idempotent replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers worth replaying (`Location`, `ETag`, `Content-Type`).
    pub headers: Vec<(String, String)>,
    /// Body bytes as UTF-8 text.
    pub body: String,
}

/// Outcome of claiming an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// First use (or the previous claim expired): proceed, then `complete` or `release`.
    Claimed,
    /// Completed before with the same request: replay this response.
    Replay(StoredResponse),
    /// Another request with this key is still being processed.
    InProgress,
    /// The key was used with a different request body.
    Mismatch,
}

/// Idempotency records (`Idempotency-Key`), per tenant. Expiry is checked on claim; the
/// background clean-up only reclaims space.
///
/// An adapter guarantees that `claim` is one conditional write (of concurrent claims of a
/// key at most one answers [`IdempotencyClaim::Claimed`]) and that keys are per tenant
/// (checked by `q2c-contract`'s `idempotency_contract`).
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request whose body hashes to `request_hash`. A claim in progress
    /// older than `in_progress_until` may be taken over; a completed record past its
    /// expiry counts as absent.
    async fn claim(
        &self,
        tenant: &TenantId,
        key: &str,
        request_hash: &str,
        now: OffsetDateTime,
        in_progress_until: OffsetDateTime,
    ) -> Result<IdempotencyClaim, StoreError>;
    /// Records the response of a claimed key, kept until `expires_at`.
    async fn complete(
        &self,
        tenant: &TenantId,
        key: &str,
        response: &StoredResponse,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Drops a claim whose request failed without effect, so the client can retry.
    async fn release(&self, tenant: &TenantId, key: &str) -> Result<(), StoreError>;
    /// Deletes records expired at `now`; returns how many.
    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
}
