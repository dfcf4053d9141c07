//! The wire formats of q2c's TMF648 API: how the one domain model ([`q2c_model::tmf::Quote`],
//! [`q2c_model::tmf::EventSubscription`]) is written and read by each served version.
//!
//! The model crate knows no version; each version is one module here that maps between the
//! model's JSON representation and that version's body:
//! - [`v4`]: TMF648 v4, the model's own serde representation (nearly the identity);
//! - [`v5`]: TMF648 v5 (`creationDate`, `externalId` as `ExternalIdentifier[]`, `ItemActionType`,
//!   `@type` and `instantSyncQuote` required on create, the `acknowledged`/`declined` states,
//!   `Hub`).
//!
//! Each version writes only what its specification defines plus the client's extensions
//! (unknown fields are kept verbatim). Adding v6 means adding one module with its
//! `quote_to_v6` / `quote_from_v6_create` / `quote_patch_from_v6` / `hub_to_v6` functions and
//! their tests, and registering it at the API edge; nothing else changes.
#![warn(missing_docs)]

pub mod v4;
pub mod v5;

use std::fmt;

/// Extension key under which the model keeps a v5 client's full `ExternalIdentifier[]` (the
/// model has one `externalId` string: the first identifier's `id`). v4 never writes it; v5
/// writes it back as `externalId` while its first `id` still matches the model's `externalId`.
pub const V5_EXTERNAL_IDENTIFIERS_KEY: &str = "x-q2c-v5-externalId";

/// Extension key under which the model marks a quote a v5 client moved to `declined`: the model
/// records it as `cancelled` (a final state either way), v5 reads it back as `declined`, v4
/// (which has no `declined`) as `cancelled`. Neither version writes the key itself, and a v4
/// body cannot set it.
pub const V5_DECLINED_KEY: &str = "x-q2c-v5-declined";

/// A body that cannot be mapped onto the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The body is not what the version's schema allows; `path` is the JSON path at fault
    /// (`$` for the whole body).
    Invalid {
        /// JSON path, e.g. `quoteItem[1].action`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A field only the server sets was sent (named as the version spells it).
    ForbiddenField(String),
}

impl WireError {
    pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        WireError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Invalid { path, message } => write!(f, "{path}: {message}"),
            WireError::ForbiddenField(field) => {
                write!(f, "{field} is set by the server and cannot be sent")
            }
        }
    }
}

impl std::error::Error for WireError {}
