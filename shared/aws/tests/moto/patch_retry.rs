//! The unconditional PATCH retry on DynamoDB: a write that loses the version race (a
//! competing write lands between its read and its `TransactWriteItems`, again and again) is
//! re-read and re-applied until it lands, keeping every change; past the bound it fails as
//! contended; with `If-Match` the lost race is a 412 naming the versions. The races are
//! made one after another (a store wrapper writes the competitor first): moto's transactions
//! are not safe to race for real (a cancelled one restores a snapshot of the whole table).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use q2c_aws::DynamoStore;
use q2c_contract::wrapper::{BeforeQuoteCall, QuoteCall};
use q2c_service::contention::UNCONDITIONAL_ATTEMPTS;
use q2c_service::context::{RequestContext, Scope, TenantId};
use q2c_service::ports::{Ports, QuoteStore, SystemClock};
use q2c_service::{QuoteService, QuoteServiceConfig, ServiceError};
use serde_json::json;
use time::macros::datetime;

use crate::common::{quote, store, unique};

/// Lets a competitor write the quote right before each of the next `races` updates.
struct Racing {
    inner: Arc<DynamoStore>,
    races: AtomicU32,
    competitors: AtomicU32,
}

impl Racing {
    async fn compete(&self, tenant: &TenantId, id: &str) {
        let n = self.competitors.fetch_add(1, Ordering::SeqCst);
        let mut current = self
            .inner
            .get(tenant, id)
            .await
            .expect("get")
            .expect("the quote");
        current
            .quote
            .extensions
            .insert(format!("competitor-{n}"), json!(n));
        let expected = current.version;
        current.version += 1;
        self.inner
            .update(tenant, &current, expected, &[])
            .await
            .expect("the competitor's write");
    }
}

q2c_contract::quote_store_wrapper!(Racing, inner);

#[async_trait]
impl BeforeQuoteCall for Racing {
    async fn before(&self, call: QuoteCall<'_>) {
        let QuoteCall::Update { tenant, quote } = call else {
            return;
        };
        let race = self
            .races
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |r| r.checked_sub(1))
            .is_ok();
        if race {
            self.compete(tenant, quote.id()).await;
        }
    }
}

async fn setup(races: u32) -> (QuoteService, Arc<Racing>, RequestContext, String) {
    let inner = Arc::new(store().await);
    let racing = Arc::new(Racing {
        inner: inner.clone(),
        races: AtomicU32::new(races),
        competitors: AtomicU32::new(0),
    });
    let ctx = RequestContext {
        tenant: TenantId::parse(&unique("retry")).expect("tenant"),
        subject: "tester".into(),
        subject_name: None,
        scopes: [Scope::QuoteRead, Scope::QuoteWrite].into_iter().collect(),
        correlation_id: "corr-retry".into(),
    };
    let id = unique("q");
    inner
        .insert(
            &ctx.tenant,
            &quote(&id, datetime!(2026-01-01 10:00 UTC), &["p1"]),
            &[],
        )
        .await
        .expect("insert");
    let ports = Ports {
        quotes: racing.clone(),
        ..inner.ports(
            Arc::new(q2c_contract::fanout::DefaultSettings),
            Arc::new(SystemClock),
        )
    };
    let service = QuoteService::new(
        ports,
        QuoteServiceConfig {
            quote_href_base: "/tmf-api/quoteManagement/v4/quote".into(),
        },
    );
    (service, racing, ctx, id)
}

#[tokio::test]
async fn an_unconditional_patch_losing_races_lands_with_every_change_kept() {
    q2c_testkit::require_moto!();
    let (service, racing, ctx, id) = setup(5).await;
    let patched = service
        .patch(&ctx, &id, &json!({"description": "mine"}), None)
        .await
        .expect("lands after 5 lost races");
    assert_eq!(patched.version, 7, "5 competitors, then this change");
    let stored = racing
        .get(&ctx.tenant, &id)
        .await
        .expect("get")
        .expect("quote");
    assert_eq!(stored.quote.description.as_deref(), Some("mine"));
    let kept: BTreeSet<String> = stored
        .quote
        .extensions
        .keys()
        .filter(|k| k.starts_with("competitor-"))
        .cloned()
        .collect();
    assert_eq!(kept.len(), 5, "every competitor's change is kept: {kept:?}");
}

#[tokio::test]
async fn past_the_bound_the_patch_is_contended_and_with_if_match_a_412() {
    q2c_testkit::require_moto!();
    let (service, _, ctx, id) = setup(UNCONDITIONAL_ATTEMPTS).await;
    let error = service
        .patch(&ctx, &id, &json!({"description": "mine"}), None)
        .await
        .expect_err("every attempt loses");
    assert!(
        matches!(error, ServiceError::Contended { attempts, .. } if attempts == UNCONDITIONAL_ATTEMPTS),
        "{error:?}"
    );

    let (service, _, ctx, id) = setup(1).await;
    let error = service
        .patch(&ctx, &id, &json!({"description": "mine"}), Some(1))
        .await
        .expect_err("the If-Match version is gone");
    assert!(
        matches!(
            error,
            ServiceError::VersionMismatch {
                expected: 1,
                current: 2
            }
        ),
        "{error:?}"
    );
}
