//! Quote use-cases: create (configure + price), read, list, patch (re-price, state changes,
//! approval), delete. Each change and the events announcing it are one store write.

use q2c_model::lifecycle::new_quote_validity;
use q2c_model::tmf::{Quote, QuoteState};

use std::sync::Arc;

use crate::configure::{assign_item_ids, check_stored, configure_items, load_catalog_for};
use crate::contention::{self, Sleeper, UNCONDITIONAL_ATTEMPTS};
use crate::context::RequestContext;
use crate::error::{ServiceError, found, serialisation_error};
use crate::events::{QuoteEventType, quote_event};
use crate::hrefs;
use crate::store::{Listing, Page, StoreError};

pub mod ports;

pub use ports::{Ports, QuoteFilter, QuoteStore, StoredQuote, write_limits};

/// Fields of a quote only the server sets: sending them on create (or changing them by
/// PATCH) is refused, so nobody can extend validity, forge an approval or set a price.
pub const SERVER_OWNED_FIELDS: [&str; 9] = [
    "id",
    "href",
    "quoteDate",
    "quoteTotalPrice",
    "validFor",
    "authorization",
    "state",
    "effectiveQuoteCompletionDate",
    // The accepted quote's reference to its order (`quote_patch::PRODUCT_ORDER_REF`).
    "productOrder",
];

/// Fields the server sets that a client may still change by PATCH: refused on create only.
/// TMF648 `Quote_Create` (v4) lists `expectedQuoteCompletionDate` among its skipped
/// (server-set) properties and v5's `Quote_FVO` leaves it out, while both `Quote_Update` and
/// `Quote_MVO` carry it.
pub const SERVER_SET_ON_CREATE: [&str; 1] = ["expectedQuoteCompletionDate"];

/// Path of v4 quotes under the server's public URL (`quote_href_base` ends with it).
pub use crate::hrefs::QUOTE_HREF_PATH;

/// Configuration of the quote use-cases.
#[derive(Debug, Clone)]
pub struct QuoteServiceConfig {
    /// Base of quote hrefs, e.g. `/tmf-api/quoteManagement/v4/quote` (no trailing slash).
    pub quote_href_base: String,
}

/// The quote use-cases.
#[derive(Clone)]
pub struct QuoteService {
    pub(crate) ports: Ports,
    config: QuoteServiceConfig,
    /// Waits between the attempts of a write that lost a version race.
    sleeper: Option<Arc<dyn Sleeper>>,
}

impl QuoteService {
    /// Builds the use-cases over the given ports.
    pub fn new(ports: Ports, config: QuoteServiceConfig) -> Self {
        QuoteService {
            ports,
            config,
            sleeper: None,
        }
    }

    /// The server's public URL: what precedes the v4 quote path in `quote_href_base`
    /// (empty when hrefs are root-relative), for the hrefs of the orders quotes create.
    pub(crate) fn public_base(&self) -> &str {
        self.config
            .quote_href_base
            .strip_suffix(QUOTE_HREF_PATH)
            .unwrap_or_default()
    }

    /// Pauses between the attempts of an unconditional write with `sleeper` (jitter,
    /// [`crate::contention`]); without one they follow at once.
    #[must_use]
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = Some(sleeper);
        self
    }

    /// Whether a sleeper is set.
    pub fn has_sleeper(&self) -> bool {
        self.sleeper.is_some()
    }

    /// After a write of quote `id` lost the version race on attempt `attempt`: with
    /// `If-Match` that is the client's 412, naming the version now current (a spurious
    /// conflict that left the version as expected is retried); without, it waits to try
    /// again, up to [`UNCONDITIONAL_ATTEMPTS`].
    pub(crate) async fn lost_race(
        &self,
        ctx: &RequestContext,
        id: &str,
        if_match: Option<u64>,
        attempt: u32,
    ) -> Result<(), ServiceError> {
        if let Some(expected) = if_match {
            let current = self.get(ctx, id).await?.version;
            if current != expected {
                return Err(ServiceError::VersionMismatch { expected, current });
            }
        }
        if attempt >= UNCONDITIONAL_ATTEMPTS {
            return Err(ServiceError::Contended {
                resource: "Quote",
                id: id.to_owned(),
                attempts: attempt,
            });
        }
        contention::wait(self.sleeper.as_ref(), attempt).await;
        Ok(())
    }

    /// Creates a quote from a client's `Quote_Create`: rejects server-owned fields, prices
    /// it, sets id, href, quoteDate, state `inProgress`, validFor and totals, and stores it
    /// with a `QuoteCreateEvent`.
    ///
    /// # Errors
    /// `ForbiddenField`, `InvalidInput`, `BusinessRule` (pricing), `Limit` (the priced quote
    /// does not fit the storage budget), `Unavailable`.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant), err(level = "info"))]
    pub async fn create(
        &self,
        ctx: &RequestContext,
        mut quote: Quote,
    ) -> Result<StoredQuote, ServiceError> {
        reject_server_owned(&quote)?;
        if quote.quote_item.is_empty() {
            return Err(ServiceError::InvalidInput {
                path: Some("quoteItem".to_owned()),
                message: "a quote needs at least one quoteItem".to_owned(),
            });
        }
        let now = self.ports.clock.now();
        let settings = self.ports.settings.settings(&ctx.tenant).await?;
        assign_item_ids(&mut quote.quote_item)?;
        let catalog = load_catalog_for(self.ports.catalog.as_ref(), &quote.quote_item).await?;
        let priced = configure_items(&quote.quote_item, &catalog, &settings, now)?;

        let id = uuid::Uuid::now_v7().to_string();
        quote.href = Some(format!("{}/{id}", self.config.quote_href_base));
        quote.id = Some(id);
        quote.quote_date = Some(now);
        quote.state = Some(QuoteState::InProgress);
        quote.valid_for = Some(new_quote_validity(&settings, now));
        quote.quote_item = priced.items;
        quote.quote_total_price = priced.total;
        if quote.type_info.type_name.is_none() {
            quote.type_info.type_name = Some("Quote".to_owned());
        }
        hrefs::serve_quote(&mut quote);
        check_stored(&quote, &priced.price_ids)?;
        let stored = StoredQuote {
            quote,
            version: 1,
            approval_required: priced.approval_required,
            price_ids: priced.price_ids,
        };
        let event = quote_event(QuoteEventType::Create, &stored.quote, ctx, now)
            .map_err(serialisation_error)?;
        self.ports
            .quotes
            .insert(&ctx.tenant, &stored, &[event])
            .await?;
        tracing::info!(quote_id = stored.id(), "quote created");
        Ok(stored)
    }

    /// The quote `id` of the caller's tenant.
    ///
    /// # Errors
    /// `NotFound` (also for another tenant's id), `Unavailable`.
    pub async fn get(&self, ctx: &RequestContext, id: &str) -> Result<StoredQuote, ServiceError> {
        found(self.ports.quotes.get(&ctx.tenant, id).await?, "Quote", id)
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
        Ok(self.ports.quotes.list(&ctx.tenant, filter, page).await?)
    }

    /// Deletes the quote (not when accepted) with a `QuoteDeleteEvent`. Without `if_match`
    /// a lost version race is re-read and tried again ([`crate::contention`]).
    ///
    /// # Errors
    /// `NotFound`, `Conflict` (accepted), `VersionMismatch`, `Contended`, `Unavailable`.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant, quote_id = id), err(level = "info"))]
    pub async fn delete(
        &self,
        ctx: &RequestContext,
        id: &str,
        if_match: Option<u64>,
    ) -> Result<(), ServiceError> {
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let stored = self.get(ctx, id).await?;
            check_if_match(if_match, stored.version)?;
            if stored.quote.state == Some(QuoteState::Accepted) {
                return Err(ServiceError::Conflict {
                    message: format!("quote {id} is accepted and cannot be deleted"),
                });
            }
            let now = self.ports.clock.now();
            let event = quote_event(QuoteEventType::Delete, &stored.quote, ctx, now)
                .map_err(serialisation_error)?;
            match self
                .ports
                .quotes
                .delete(&ctx.tenant, id, stored.version, &[event])
                .await
            {
                Ok(()) => return Ok(()),
                Err(StoreError::VersionConflict) => {
                    self.lost_race(ctx, id, if_match, attempt).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Refuses server-owned fields on create.
fn reject_server_owned(quote: &Quote) -> Result<(), ServiceError> {
    let present = [
        ("id", quote.id.is_some()),
        ("href", quote.href.is_some()),
        ("quoteDate", quote.quote_date.is_some()),
        ("quoteTotalPrice", !quote.quote_total_price.is_empty()),
        ("validFor", quote.valid_for.is_some()),
        ("authorization", !quote.authorization.is_empty()),
        ("state", quote.state.is_some()),
        (
            "effectiveQuoteCompletionDate",
            quote.effective_quote_completion_date.is_some(),
        ),
        (
            "expectedQuoteCompletionDate",
            quote.expected_quote_completion_date.is_some(),
        ),
        (
            "productOrder",
            quote.extensions.contains_key("productOrder"),
        ),
    ];
    match present.iter().find(|(_, set)| *set) {
        Some((field, _)) => Err(ServiceError::ForbiddenField {
            field: (*field).to_owned(),
        }),
        None => Ok(()),
    }
}

pub(crate) fn check_if_match(if_match: Option<u64>, current: u64) -> Result<(), ServiceError> {
    match if_match {
        Some(expected) if expected != current => {
            Err(ServiceError::VersionMismatch { expected, current })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
