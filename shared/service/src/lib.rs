//! q2c use-cases and the ports they need. Adapters (`q2c-local`, `q2c-aws`) implement the
//! ports; the HTTP edge (`q2c-api`) and the functions call the use-cases.
//!
//! # Layout
//! - [`context`]: the verified caller (tenant, subject, scopes, correlation id).
//! - [`error`]: `ServiceError`, one variant per case callers act on.
//! - [`ports`]: store, clock and settings traits, and the records they exchange.
//! - [`quotes`]: the quote use-cases.
#![warn(missing_docs)]

pub mod context;
pub mod error;
pub mod ports;
pub mod quotes;

pub use context::{RequestContext, Scope, TenantId};
pub use error::ServiceError;
pub use ports::Ports;
pub use quotes::{QuoteService, QuoteServiceConfig};
