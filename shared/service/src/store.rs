//! Foundation: what every store port shares: its error, the boxed cause of a backend
//! failure, and the paging of listings. Names nothing else in the crate.

use q2c_model::limits::LimitError;

/// A boxed error cause from an adapter (driver, SDK).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of a store adapter.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write failed: the stored version is not the expected one.
    #[error("version conflict")]
    VersionConflict,
    /// An insert found the key already present.
    #[error("already exists")]
    AlreadyExists,
    /// The backend failed; retrying may help.
    #[error("store backend failed")]
    Backend(#[source] BoxError),
    /// The write exceeds a stated limit (`q2c_model::limits`: a quote over its byte budget,
    /// more index entries than a transaction holds, an event too large for an item). Refused
    /// before any request to the backend, identically by every adapter; retrying never helps.
    #[error(transparent)]
    Limit(LimitError),
}

/// A page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Items to skip.
    pub offset: u64,
    /// Most items to return.
    pub limit: u64,
}

impl Page {
    /// Every item in one page: what the default cursor scans of in-memory fakes read.
    pub fn everything() -> Page {
        Page {
            offset: 0,
            limit: i64::MAX as u64,
        }
    }
}

/// One page of results and the total count matching the filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    /// The page.
    pub items: Vec<T>,
    /// All matching items (`X-Total-Count`).
    pub total: u64,
}
