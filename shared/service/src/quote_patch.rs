//! `PATCH /quote/{id}`: a JSON merge patch (RFC 7396) applied to the stored quote, with
//! re-pricing when items change and lifecycle rules when the state changes.

use q2c_model::lifecycle::{Actor, LifecycleError, change_quote_state};
use q2c_model::limits::{self, MAX_JSON_DEPTH, MAX_ORDER_BYTES};
use q2c_model::tmf::{Quote, QuoteState};
use serde_json::Value;
use time::OffsetDateTime;

use crate::configure::{assign_item_ids, check_stored, configure_items, load_catalog_for};
use crate::context::{RequestContext, Scope};
use crate::error::{ServiceError, serialisation_error};
use crate::events::{QuoteEventType, quote_event};
use crate::fanout::{PRICE_RETIRED, retired_prices};
use crate::hrefs;
use crate::orders::{StoredOrder, new_order_for};
use crate::outbox::OutboxEvent;
use crate::quotes::StoredQuote;
use crate::quotes::{QuoteService, SERVER_OWNED_FIELDS, check_if_match};
use crate::store::StoreError;

impl QuoteService {
    /// Applies a JSON merge patch (RFC 7396) to the quote. `if_match` is the version from
    /// the client's `If-Match`. Item changes re-price; a `state` change follows the
    /// lifecycle (approval needs `quote.approve` when the quote requires approval). Without
    /// `if_match` a lost version race is re-read and re-applied ([`crate::contention`]).
    ///
    /// # Errors
    /// `ForbiddenField`, `InvalidInput`, `NotFound`, `IllegalTransition`, `NotUpdatable`,
    /// `QuoteExpired`, `VersionMismatch`, `Contended`, `MissingScope`, `BusinessRule`,
    /// `Unavailable`.
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant, quote_id = id), err(level = "info"))]
    pub async fn patch(
        &self,
        ctx: &RequestContext,
        id: &str,
        patch: &Value,
        if_match: Option<u64>,
    ) -> Result<StoredQuote, ServiceError> {
        let fields = validate_patch_shape(patch)?;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let stored = self.get(ctx, id).await?;
            check_if_match(if_match, stored.version)?;
            let now = self.ports.clock.now();
            let Some((next, mut events, order)) = self.apply(ctx, &stored, fields, now).await?
            else {
                return Ok(stored);
            };
            let written = if let Some((order, order_created)) = order {
                // Accepting creates the product order in the same transaction, with the
                // event that puts it on the orders queue.
                // The budget kept room for it (`check_stored` on every open quote); measured
                // again so that a store never sees an order over its limit.
                limits::measure(&order.order, MAX_ORDER_BYTES, MAX_JSON_DEPTH).map_err(
                    |e| match e {
                        limits::MeasureError::Limit(limit) => ServiceError::Limit(limit),
                        limits::MeasureError::Json(e) => serialisation_error(e),
                    },
                )?;
                events.push(order_created);
                self.ports
                    .quotes
                    .accept(&ctx.tenant, &next, stored.version, &order, &events)
                    .await
            } else {
                self.ports
                    .quotes
                    .update(&ctx.tenant, &next, stored.version, &events)
                    .await
            };
            match written {
                Ok(()) => return Ok(next),
                // Re-read and re-apply (without If-Match), or the client's 412.
                Err(StoreError::VersionConflict) => {
                    self.lost_race(ctx, id, if_match, attempt).await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Computes the patched quote and its events; `None` when nothing changes.
    async fn apply(
        &self,
        ctx: &RequestContext,
        stored: &StoredQuote,
        fields: &serde_json::Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<Option<Applied>, ServiceError> {
        let current_state = stored.quote.state.unwrap_or(QuoteState::InProgress);
        let requested_state = parse_state(fields)?;
        let attributes: serde_json::Map<String, Value> = fields
            .iter()
            .filter(|(k, _)| *k != "state")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();

        let mut next = stored.clone();
        let mut attributes_changed = false;
        if !attributes.is_empty() {
            let mut doc = serde_json::to_value(&stored.quote).map_err(serialisation_error)?;
            json_patch::merge(&mut doc, &Value::Object(attributes.clone()));
            let patched: Quote = deserialize_quote(doc)?;
            if patched != stored.quote {
                if !current_state.is_updatable() {
                    return Err(ServiceError::NotUpdatable {
                        state: current_state,
                    });
                }
                attributes_changed = true;
                next.quote = patched;
                if attributes.contains_key("quoteItem") {
                    self.reprice(ctx, &mut next, now).await?;
                }
            }
        }
        // What the attribute change touched, before a state change adds its own fields.
        let field_path = if attributes_changed {
            changed_attributes(&stored.quote, &next.quote)?
        } else {
            String::new()
        };

        // After `fieldPath`: hrefs the API already served as ours are no change to announce.
        hrefs::serve_quote(&mut next.quote);

        let state_changed = matches!(requested_state, Some(to) if to != current_state);
        if let Some(to) = requested_state.filter(|_| state_changed) {
            if to == QuoteState::Approved && next.approval_required && !ctx.has(Scope::QuoteApprove)
            {
                return Err(ServiceError::MissingScope {
                    scope: Scope::QuoteApprove,
                });
            }
            if to == QuoteState::Approved {
                let retired = retired_prices(self.ports.catalog.as_ref(), &next.price_ids).await?;
                if !retired.is_empty() {
                    return Err(ServiceError::BusinessRule {
                        code: PRICE_RETIRED,
                        message: format!(
                            "the quote uses retired price(s) {}: change the items using them before approval",
                            retired.join(", ")
                        ),
                        path: Some("quoteItem".to_owned()),
                    });
                }
            }
            let actor = Actor {
                id: ctx.subject.clone(),
                name: ctx.subject_name.clone(),
            };
            change_quote_state(&mut next.quote, to, &actor, now).map_err(lifecycle_error)?;
        }
        let order = if is_acceptance(stored, &next) {
            let (order, created) = new_order_for(&next.quote, ctx, now, self.public_base())?;
            refer_to_order(&mut next.quote, &order);
            Some((order, created))
        } else {
            None
        };
        if !attributes_changed && !state_changed {
            return Ok(None);
        }
        // Before the events are built: an approval adds an authorization, a re-pricing lines.
        check_stored(&next.quote, &next.price_ids)?;
        next.version = stored.version + 1;
        let mut events = Vec::with_capacity(2);
        if attributes_changed {
            let mut event =
                quote_event(QuoteEventType::AttributeValueChange, &next.quote, ctx, now)
                    .map_err(serialisation_error)?;
            set_field_path(&mut event, field_path);
            events.push(event);
        }
        if state_changed {
            events.push(
                quote_event(QuoteEventType::StateChange, &next.quote, ctx, now)
                    .map_err(serialisation_error)?,
            );
        }
        Ok(Some((next, events, order)))
    }

    async fn reprice(
        &self,
        ctx: &RequestContext,
        quote: &mut StoredQuote,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError> {
        if quote.quote.quote_item.is_empty() {
            return Err(ServiceError::InvalidInput {
                path: Some("quoteItem".to_owned()),
                message: "a quote needs at least one quoteItem".to_owned(),
            });
        }
        let settings = self.ports.settings.settings(&ctx.tenant).await?;
        assign_item_ids(&mut quote.quote.quote_item)?;
        let catalog =
            load_catalog_for(self.ports.catalog.as_ref(), &quote.quote.quote_item).await?;
        let priced = configure_items(&quote.quote.quote_item, &catalog, &settings, now)?;
        quote.quote.quote_item = priced.items;
        quote.quote.quote_total_price = priced.total;
        quote.approval_required = priced.approval_required;
        quote.price_ids = priced.price_ids;
        Ok(())
    }
}

/// The top-level attributes whose values differ between `before` and `after`, sorted and
/// comma-separated (the TMF630 `fields` syntax): the `fieldPath` of the
/// `QuoteAttributeValueChangeEvent` (TMF648 v4 event schema), e.g. `description` or
/// `quoteItem,quoteTotalPrice` after a re-pricing.
fn changed_attributes(before: &Quote, after: &Quote) -> Result<String, ServiceError> {
    let before = serde_json::to_value(before).map_err(serialisation_error)?;
    let after = serde_json::to_value(after).map_err(serialisation_error)?;
    let empty = serde_json::Map::new();
    let (before, after) = (
        before.as_object().unwrap_or(&empty),
        after.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&str> = before
        .keys()
        .chain(after.keys())
        .map(String::as_str)
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    Ok(keys.join(","))
}

/// Adds `fieldPath` to an attribute-change event's envelope.
fn set_field_path(event: &mut OutboxEvent, field_path: String) {
    if let Value::Object(envelope) = &mut event.body {
        envelope.insert("fieldPath".to_owned(), Value::String(field_path));
    }
}

/// A patched quote, its events, and the order (with its create event) when it was accepted.
type Applied = (
    StoredQuote,
    Vec<OutboxEvent>,
    Option<(StoredOrder, OutboxEvent)>,
);

/// Extension attribute of an accepted quote naming the product order it became
/// (`[{id, href, @referredType: ProductOrder}]`): neither TMF648 v4 nor v5 has a field for
/// it, and both leave a Quote open to extension attributes (TMF630 Part 2); server-owned.
/// docs/versioning.md, "Quote to order".
pub const PRODUCT_ORDER_REF: &str = "productOrder";

/// Adds the reference to `order` to the accepted `quote` (before its state-change event is
/// built, so subscribers learn the order with the acceptance).
fn refer_to_order(quote: &mut Quote, order: &StoredOrder) {
    let reference = serde_json::json!([{
        "id": order.id(),
        "href": order.order.href,
        "@referredType": "ProductOrder",
    }]);
    quote
        .extensions
        .insert(PRODUCT_ORDER_REF.to_owned(), reference);
}

/// Whether this write moves the quote into `accepted`.
fn is_acceptance(stored: &StoredQuote, next: &StoredQuote) -> bool {
    stored.quote.state != Some(QuoteState::Accepted)
        && next.quote.state == Some(QuoteState::Accepted)
}

/// The patch must be an object that leaves server-owned fields (but `state`) alone.
fn validate_patch_shape(patch: &Value) -> Result<&serde_json::Map<String, Value>, ServiceError> {
    let Value::Object(fields) = patch else {
        return Err(ServiceError::InvalidInput {
            path: None,
            message: "a merge patch must be a JSON object".to_owned(),
        });
    };
    if let Some(field) = fields
        .keys()
        .find(|k| *k != "state" && SERVER_OWNED_FIELDS.contains(&k.as_str()))
    {
        return Err(ServiceError::ForbiddenField {
            field: field.clone(),
        });
    }
    Ok(fields)
}

fn parse_state(
    fields: &serde_json::Map<String, Value>,
) -> Result<Option<QuoteState>, ServiceError> {
    fields
        .get("state")
        .map(|v| {
            serde_json::from_value(v.clone()).map_err(|e| ServiceError::InvalidInput {
                path: Some("state".to_owned()),
                message: format!("not a quote state: {e}"),
            })
        })
        .transpose()
}

fn deserialize_quote(doc: Value) -> Result<Quote, ServiceError> {
    serde_path_to_error::deserialize(doc).map_err(|e| ServiceError::InvalidInput {
        path: Some(e.path().to_string()),
        message: e.inner().to_string(),
    })
}

fn lifecycle_error(e: LifecycleError) -> ServiceError {
    match e {
        LifecycleError::Illegal(t) => ServiceError::IllegalTransition {
            from: t.from.wire_name(),
            to: t.to.wire_name(),
            allowed: t.from.next_states_text(),
        },
        LifecycleError::Expired { valid_until } => ServiceError::QuoteExpired { valid_until },
        LifecycleError::NotUpdatable { state } => ServiceError::NotUpdatable { state },
    }
}
