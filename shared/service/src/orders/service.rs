//! [`OrderService`]: reading orders, and the listener taking order state changes from order
//! management. Also builds the order of a quote being accepted (used by the quote PATCH).

use std::sync::Arc;

use q2c_model::inventory::{product_count, products_from_order};
use q2c_model::limits::MAX_PRODUCTS_PER_ORDER;
use q2c_model::ordering::{
    OrderStateChange, order_from_quote, report_item_states, report_order_state,
};
use q2c_model::tmf::{ProductOrderItemState, ProductOrderState, Quote};
use serde_json::Value;
use time::OffsetDateTime;

use super::events::{OrderEventType, order_created_event, order_event};
use super::{Dispatch, OrderStore, PRODUCT_ORDER_HREF_BASE, StateChange, StoredOrder};
use crate::clock::Clock;
use crate::context::RequestContext;
use crate::error::ServiceError;
use crate::error::{found, serialisation_error};
use crate::inventory::{ProductEventType, StoredProduct, product_event};
use crate::outbox::OutboxEvent;
use crate::store::{Listing, Page, StoreError};

/// A state change that loses a race with another write re-reads and re-applies this often.
const MAX_ATTEMPTS: usize = 3;

/// The event type the listener accepts.
const STATE_CHANGE_EVENT: &str = "ProductOrderStateChangeEvent";

/// Error code of a reported state the TMF622 order machine does not allow (HTTP 422).
pub const ILLEGAL_ORDER_STATE_TRANSITION: &str = "ILLEGAL_ORDER_STATE_TRANSITION";

/// Error code of a completion creating more products than one write holds
/// (`maxProductsPerOrder`, HTTP 422): the order keeps its state.
pub const ORDER_TOO_LARGE_TO_COMPLETE: &str = "ORDER_TOO_LARGE_TO_COMPLETE";

/// The ports of the order use-cases: their part of [`crate::Ports`] (which converts into
/// them).
#[derive(Clone)]
pub struct OrderPorts {
    /// Product orders.
    pub orders: Arc<dyn OrderStore>,
    /// Clock.
    pub clock: Arc<dyn Clock>,
}

/// The product order use-cases.
#[derive(Clone)]
pub struct OrderService {
    ports: OrderPorts,
}

impl OrderService {
    /// Builds the use-cases over the given ports (the whole [`crate::Ports`] will do).
    pub fn new(ports: impl Into<OrderPorts>) -> Self {
        OrderService {
            ports: ports.into(),
        }
    }

    /// The order `id` of the caller's tenant.
    ///
    /// # Errors
    /// `NotFound` (also for another tenant's id), `Unavailable`.
    pub async fn get(&self, ctx: &RequestContext, id: &str) -> Result<StoredOrder, ServiceError> {
        found(self.ports.orders.get(&ctx.tenant, id).await?, ORDER, id)
    }

    /// A page of the caller's orders, newest first.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn list(
        &self,
        ctx: &RequestContext,
        page: Page,
    ) -> Result<Listing<StoredOrder>, ServiceError> {
        Ok(self.ports.orders.list(&ctx.tenant, page).await?)
    }

    /// Takes a `ProductOrderStateChangeEvent` from order management: finds the order by
    /// `event.productOrder.externalId` (our id, as we sent it), else by its `id`; applies
    /// `state` through the TMF622 order machine; stores it with a
    /// `ProductOrderStateChangeEvent` for the ordering hub. The current state reported again
    /// (a redelivery) changes nothing and succeeds.
    ///
    /// # Errors
    /// `InvalidInput` (not such an event, no state, unknown state), `NotFound`,
    /// `BusinessRule` [`ILLEGAL_ORDER_STATE_TRANSITION`], `Unavailable` (also when the order
    /// kept changing concurrently).
    #[tracing::instrument(skip_all, fields(tenant = %ctx.tenant), err(level = "info"))]
    pub async fn apply_state_change(
        &self,
        ctx: &RequestContext,
        notification: &Value,
    ) -> Result<StoredOrder, ServiceError> {
        let reported = parse_notification(notification)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let stored = self.find(ctx, &reported.ids).await?;
            let mut next = stored.clone();
            let now = self.ports.clock.now();
            let items_changed =
                report_item_states(&mut next.order, &reported.items).map_err(|illegal| {
                    ServiceError::BusinessRule {
                        code: ILLEGAL_ORDER_STATE_TRANSITION,
                        message: format!("product order {}: {illegal}", stored.id()),
                        path: Some("event.productOrder.productOrderItem".to_owned()),
                    }
                })?;
            match report_order_state(&mut next.order, reported.state, now) {
                Ok(OrderStateChange::Unchanged) if !items_changed => return Ok(stored),
                Ok(_) => {}
                Err(illegal) => {
                    return Err(ServiceError::BusinessRule {
                        code: ILLEGAL_ORDER_STATE_TRANSITION,
                        message: format!(
                            "product order {} cannot move from {} to `{}`: {}",
                            stored.id(),
                            stored
                                .order
                                .state
                                .map_or("no state".to_owned(), |s| format!("`{}`", s.as_str())),
                            illegal.to.as_str(),
                            match stored.order.state {
                                Some(state) => format!("from `{}` it moves to {}", state.as_str(), state.next_states_text()),
                                None => "an order without a state enters it as `acknowledged` or `rejected`".to_owned(),
                            }
                        ),
                        path: Some("event.productOrder.state".to_owned()),
                    });
                }
            }
            next.version = stored.version + 1;
            let event = order_event(
                OrderEventType::StateChange,
                &next,
                &ctx.tenant,
                Some(&ctx.correlation_id),
                now,
            )
            .map_err(serialisation_error)?;
            // A completed order's products, created in the same write as its state: a
            // redelivered `completed` is `Unchanged` above and creates nothing again.
            let products = if reported.state == ProductOrderState::Completed
                && stored.order.state != Some(ProductOrderState::Completed)
            {
                completion_products(&next, now)?
            } else {
                Vec::new()
            };
            let mut events = vec![event];
            for product in &products {
                events.push(
                    product_event(
                        ProductEventType::Create,
                        product,
                        &ctx.tenant,
                        Some(&ctx.correlation_id),
                        now,
                    )
                    .map_err(serialisation_error)?,
                );
            }
            match self
                .ports
                .orders
                .record_state_change(
                    &ctx.tenant,
                    StateChange {
                        order: &next,
                        expected_version: stored.version,
                        products: &products,
                        events: &events,
                    },
                )
                .await
            {
                Ok(()) => {
                    tracing::info!(
                        order_id = next.id(),
                        state = ?reported.state,
                        products = products.len(),
                        "order state changed"
                    );
                    return Ok(next);
                }
                Err(StoreError::VersionConflict) if attempt < MAX_ATTEMPTS => {}
                // Lost every race: a transient condition, answered 503 so that the sender
                // retries (and a kept answer of the event is released).
                Err(e @ StoreError::VersionConflict) => return Err(e.into()),
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn find(
        &self,
        ctx: &RequestContext,
        ids: &[String],
    ) -> Result<StoredOrder, ServiceError> {
        for id in ids {
            if let Some(order) = self.ports.orders.get(&ctx.tenant, id).await? {
                return Ok(order);
            }
        }
        Err(ServiceError::NotFound {
            resource: ORDER,
            id: ids.first().cloned().unwrap_or_default(),
        })
    }
}

/// The order (version 1, dispatch pending) and its `ProductOrderCreateEvent` for `quote`,
/// which is being accepted.
/// `public_base` is the server's public URL (`https://api.example.com`, empty for
/// root-relative hrefs), as in the quote hrefs.
pub(crate) fn new_order_for(
    quote: &Quote,
    ctx: &RequestContext,
    now: OffsetDateTime,
    public_base: &str,
) -> Result<(StoredOrder, OutboxEvent), ServiceError> {
    let id = uuid::Uuid::now_v7().to_string();
    let mut order = order_from_quote(quote, &id, now);
    order.href = Some(format!("{public_base}{PRODUCT_ORDER_HREF_BASE}/{id}"));
    let stored = StoredOrder {
        order,
        version: 1,
        dispatch: Dispatch::new_order(),
    };
    let event = order_created_event(&stored, &ctx.tenant, Some(&ctx.correlation_id), now)
        .map_err(serialisation_error)?;
    Ok((stored, event))
}

/// The inventory products completing `order` creates (version 1, fresh ids), within
/// [`MAX_PRODUCTS_PER_ORDER`].
fn completion_products(
    order: &StoredOrder,
    now: OffsetDateTime,
) -> Result<Vec<StoredProduct>, ServiceError> {
    MAX_PRODUCTS_PER_ORDER
        .check(product_count(&order.order), || {
            "productOrder.productOrderItem".to_owned()
        })
        .map_err(|limit| ServiceError::BusinessRule {
            code: ORDER_TOO_LARGE_TO_COMPLETE,
            message: format!("product order {}: {limit}", order.id()),
            path: Some("event.productOrder".to_owned()),
        })?;
    Ok(
        products_from_order(&order.order, || uuid::Uuid::now_v7().to_string(), now)
            .into_iter()
            .map(|product| StoredProduct {
                product,
                version: 1,
            })
            .collect(),
    )
}

/// What the listener needs of a notification.
struct Reported {
    /// Ids to look the order up by, in order of preference.
    ids: Vec<String>,
    state: ProductOrderState,
    /// The item states reported (`productOrderItem[]`, at any depth): `(id, state)`.
    items: Vec<(String, ProductOrderItemState)>,
}

fn parse_notification(notification: &Value) -> Result<Reported, ServiceError> {
    let invalid = |path: &str, message: &str| ServiceError::InvalidInput {
        path: Some(path.to_owned()),
        message: message.to_owned(),
    };
    match notification.get("eventType").and_then(Value::as_str) {
        Some(STATE_CHANGE_EVENT) => {}
        _ => return Err(invalid("eventType", "must be ProductOrderStateChangeEvent")),
    }
    let order = notification
        .get("event")
        .and_then(|e| e.get("productOrder"))
        .filter(|o| o.is_object())
        .ok_or_else(|| invalid("event.productOrder", "missing required object"))?;
    let state_value = order
        .get("state")
        .ok_or_else(|| invalid("event.productOrder.state", "missing required field"))?;
    let state: ProductOrderState = serde_json::from_value(state_value.clone()).map_err(|_| {
        invalid(
            "event.productOrder.state",
            "not a TMF622 product order state",
        )
    })?;
    let ids: Vec<String> = ["externalId", "id"]
        .iter()
        .filter_map(|field| order.get(*field).and_then(Value::as_str))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    if ids.is_empty() {
        return Err(invalid(
            "event.productOrder",
            "needs externalId (our order id) or id",
        ));
    }
    let mut items = Vec::new();
    collect_item_states(
        order.get("productOrderItem"),
        "event.productOrder.productOrderItem",
        &mut items,
    )?;
    Ok(Reported { ids, state, items })
}

/// The `(id, state)` of every reported item that has both, depth first.
fn collect_item_states(
    items: Option<&Value>,
    path: &str,
    out: &mut Vec<(String, ProductOrderItemState)>,
) -> Result<(), ServiceError> {
    let Some(Value::Array(items)) = items else {
        return Ok(());
    };
    for (i, item) in items.iter().enumerate() {
        let here = format!("{path}[{i}]");
        if let (Some(id), Some(state)) = (item.get("id").and_then(Value::as_str), item.get("state"))
        {
            let state: ProductOrderItemState =
                serde_json::from_value(state.clone()).map_err(|_| ServiceError::InvalidInput {
                    path: Some(format!("{here}.state")),
                    message: "not a TMF622 product order item state".to_owned(),
                })?;
            out.push((id.to_owned(), state));
        }
        collect_item_states(
            item.get("productOrderItem"),
            &format!("{here}.productOrderItem"),
            out,
        )?;
    }
    Ok(())
}

/// The resource name of orders in errors.
const ORDER: &str = "ProductOrder";
