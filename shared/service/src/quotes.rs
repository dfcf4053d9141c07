//! Quote use-cases: create (configure + price), read, list, patch (re-price, state changes,
//! approval), delete. Each change and the events announcing it are one store write.

use q2c_model::tmf::Quote;

use crate::context::RequestContext;
use crate::error::ServiceError;
use crate::ports::{Listing, Page, Ports, QuoteFilter, StoredQuote};

/// Configuration of the quote use-cases.
#[derive(Debug, Clone)]
pub struct QuoteServiceConfig {
    /// Base of quote hrefs, e.g. `/tmf-api/quoteManagement/v4/quote` (no trailing slash).
    pub quote_href_base: String,
}

/// The quote use-cases.
#[derive(Clone)]
pub struct QuoteService {
    ports: Ports,
    config: QuoteServiceConfig,
}

impl QuoteService {
    /// Builds the use-cases over the given ports.
    pub fn new(ports: Ports, config: QuoteServiceConfig) -> Self {
        QuoteService { ports, config }
    }

    /// Creates a quote from a client's `Quote_Create`: rejects server-owned fields, prices
    /// it, sets id, href, quoteDate, state `inProgress`, validFor and totals, and stores it
    /// with a `QuoteCreateEvent`.
    ///
    /// # Errors
    /// `ForbiddenField`, `InvalidInput`, `BusinessRule` (pricing), `Unavailable`.
    pub async fn create(
        &self,
        ctx: &RequestContext,
        input: Quote,
    ) -> Result<StoredQuote, ServiceError> {
        let _ = (ctx, input, &self.ports, &self.config);
        todo!("implemented by the service engineer")
    }

    /// The quote `id` of the caller's tenant.
    ///
    /// # Errors
    /// `NotFound` (also for another tenant's id), `Unavailable`.
    pub async fn get(&self, ctx: &RequestContext, id: &str) -> Result<StoredQuote, ServiceError> {
        let _ = (ctx, id);
        todo!()
    }

    /// A page of the caller's quotes.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        filter: &QuoteFilter,
        page: Page,
    ) -> Result<Listing<StoredQuote>, ServiceError> {
        let _ = (ctx, filter, page);
        todo!()
    }

    /// Applies a JSON merge patch (RFC 7396) to the quote. `if_match` is the version from
    /// the client's `If-Match`. Item changes re-price; a `state` change follows the
    /// lifecycle (approval needs `quote.approve` when the quote requires approval).
    ///
    /// # Errors
    /// `ForbiddenField`, `InvalidInput`, `NotFound`, `IllegalTransition`, `NotUpdatable`,
    /// `QuoteExpired`, `VersionMismatch`, `MissingScope`, `BusinessRule`, `Unavailable`.
    pub async fn patch(
        &self,
        ctx: &RequestContext,
        id: &str,
        patch: &serde_json::Value,
        if_match: Option<u64>,
    ) -> Result<StoredQuote, ServiceError> {
        let _ = (ctx, id, patch, if_match);
        todo!()
    }

    /// Deletes the quote (not when accepted) with a `QuoteDeleteEvent`.
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (accepted), `VersionMismatch`, `Unavailable`.
    pub async fn delete(
        &self,
        ctx: &RequestContext,
        id: &str,
        if_match: Option<u64>,
    ) -> Result<(), ServiceError> {
        let _ = (ctx, id, if_match);
        todo!()
    }
}
