//! Every `q2c-contract` suite against [`DynamoStore`] on moto, each on a fresh table.

use std::sync::Arc;

use q2c_aws::DynamoStore;

use crate::common::store;

async fn fresh() -> Arc<DynamoStore> {
    Arc::new(store().await)
}

#[tokio::test]
async fn quote_store_contract() {
    q2c_contract::quote_store_contract(fresh().await).await;
}

#[tokio::test]
async fn quote_list_contract() {
    q2c_contract::quote_list_contract(fresh().await).await;
}

#[tokio::test]
async fn quote_outbox_contract() {
    let store = fresh().await;
    q2c_contract::quote_outbox_contract(store.clone(), store).await;
}

#[tokio::test]
async fn idempotency_contract() {
    q2c_contract::idempotency_contract(fresh().await).await;
}

#[tokio::test]
async fn hub_store_contract() {
    q2c_contract::hub_store_contract(fresh().await).await;
}

#[tokio::test]
async fn delivery_log_contract() {
    q2c_contract::delivery_log_contract(fresh().await.delivery_log()).await;
}

#[tokio::test]
async fn catalog_store_contract() {
    q2c_contract::catalog_store_contract(fresh().await).await;
}

#[tokio::test]
async fn all_suites_share_one_table() {
    // The suites use unique tenants and ids, so they can share a table (as in production);
    // the outbox suite is left out because it needs the outbox to itself.
    let store = fresh().await;
    tokio::join!(
        q2c_contract::quote_store_contract(store.clone()),
        q2c_contract::quote_list_contract(store.clone()),
        q2c_contract::idempotency_contract(store.clone()),
        q2c_contract::hub_store_contract(store.clone()),
        q2c_contract::delivery_log_contract(store.delivery_log()),
        q2c_contract::catalog_store_contract(store),
    );
}
