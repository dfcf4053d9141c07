//! The dead-letter backend contract against [`SqsDlqBackend`] on moto's SQS (typed
//! attributes), under a test's own queue-name prefix.

use std::sync::Arc;

use q2c_aws::SqsDlqBackend;
use q2c_contract::{DlqNames, dlq_backend_contract};

use crate::common::{queue_with_dlq, sqs_client};

#[tokio::test]
async fn dlq_backend_contract_on_sqs() {
    q2c_testkit::require_moto!();
    let client = sqs_client();
    let prefix = q2c_testkit::moto::queue_prefix("dlqc");
    queue_with_dlq(&client, &format!("{prefix}orders"), 5, 30).await;
    let backend = SqsDlqBackend::new(client, &prefix, None);
    let names = DlqNames {
        source: "orders".into(),
        dlq: "orders-dlq".into(),
        typed_attributes: true,
        single_message_lookup: false,
        max_receive_count: 5,
    };
    dlq_backend_contract(Arc::new(backend), names).await;
}
