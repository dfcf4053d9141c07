//! The dead-letter backend contract on the embedded queue engine (text attributes).

use std::sync::Arc;

use q2c_contract::{DlqNames, dlq_backend_contract};
use q2c_local::{LocalDlqBackend, SqliteQueues, SqliteStore};

#[tokio::test]
async fn dlq_backend_contract_in_memory() {
    let store = SqliteStore::open_in_memory().expect("store");
    let backend = LocalDlqBackend::new(SqliteQueues::new(&store), None);
    let names = DlqNames {
        source: "orders".into(),
        dlq: "orders-dlq".into(),
        typed_attributes: false,
    };
    dlq_backend_contract(Arc::new(backend), names).await;
}
