//! The rehearsal fails, naming the cause, when the template does not give the code what it
//! needs: an environment variable removed, a permission removed (moto enforces IAM by
//! resource for SQS, DynamoDB and SSM), a queue renamed. One moto server, one stack per
//! case (named after it), run one after another.

use q2c_stack_rehearsal::{DeployOptions, Edit, MotoServer, Rehearsal};
use serde_json::json;

/// Deploys the template with `edit` as stack `name`, runs the scenario, and returns the
/// failure's message.
async fn failure(moto: &MotoServer, name: &str, edit: Edit) -> String {
    let workdir = tempfile::tempdir().expect("a temporary directory");
    let rehearsal = Rehearsal::start(moto, DeployOptions::new(name).edit(edit), workdir.path())
        .await
        .unwrap_or_else(|e| panic!("{name}: the broken stack still deploys: {e}"));
    match rehearsal.run().await {
        Ok(report) => panic!("{name}: the rehearsal passed: {:?}", report.steps),
        Err(error) => error.to_string(),
    }
}

fn assert_names(case: &str, message: &str, needles: &[&str]) {
    eprintln!("{case}:\n{message}\n");
    for needle in needles {
        assert!(
            message.contains(needle),
            "{case}: the failure does not name {needle:?}:\n{message}"
        );
    }
}

const STATEMENTS: &str = "Properties/Policies/0/PolicyDocument/Statement";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_template_that_lacks_what_the_code_needs_fails_the_rehearsal_naming_the_cause() {
    let unavailable = q2c_stack_rehearsal::moto::unavailable();
    q2c_testkit::skip_unless!(unavailable.is_none(), unavailable.unwrap_or_default());
    let moto = MotoServer::start().await.unwrap_or_else(|e| panic!("{e}"));

    // An environment variable the function requires, removed: its init fails naming it.
    let message = failure(
        &moto,
        "no-env",
        Edit::Remove(
            "/Resources/OrderDispatchFunction/Properties/Environment/Variables/ORDERS_DLQ_URL"
                .into(),
        ),
    )
    .await;
    assert_names(
        "environment variable removed",
        &message,
        &["OrderDispatchFunction", "exited", "ORDERS_DLQ_URL"],
    );

    // hub-delivery may no longer send to tenants' subscriber queues: SQS refuses, by queue
    // ARN.
    let message = failure(
        &moto,
        "no-send",
        Edit::Set(
            format!(
                "/Resources/HubDeliveryRole/{STATEMENTS}/[Sid=DeliverToSubscriberQueues]/Action"
            ),
            json!(["sqs:GetQueueUrl"]),
        ),
    )
    .await;
    assert_names(
        "SQS permission removed",
        &message,
        &[
            "HubDeliveryFunction",
            "refused sqs:SendMessage on arn:aws:sqs:eu-west-1:123456789012:no-send-subscriber-acme",
            "HubDeliveryRole",
        ],
    );

    // quote-api may no longer query its listing index: DynamoDB refuses, by index ARN.
    let message = failure(
        &moto,
        "no-query",
        Edit::Remove(format!(
            "/Resources/QuoteApiRole/{STATEMENTS}/[Sid=Listings]"
        )),
    )
    .await;
    assert_names(
        "DynamoDB permission removed",
        &message,
        &[
            "GET /tmf-api/productOrderingManagement/v4/productOrder",
            "refused dynamodb:Query on arn:aws:dynamodb:eu-west-1:123456789012:table/no-query-Table-",
            "/index/gsi1 to arn:aws:sts::123456789012:assumed-role/no-query-QuoteApiRole-",
        ],
    );

    // The orders queue renamed: the relay resolves `<prefix>orders` by name, which the
    // stack no longer has (nor grants).
    let message = failure(
        &moto,
        "renamed",
        Edit::Set(
            "/Resources/OrdersQueue/Properties/QueueName".into(),
            json!({"Fn::Sub": "${Prefix}-orders-v2"}),
        ),
    )
    .await;
    assert_names(
        "queue renamed",
        &message,
        &[
            "OutboxRelayFunction",
            "refused sqs:GetQueueUrl on arn:aws:sqs:eu-west-1:123456789012:renamed-orders to",
        ],
    );

    moto.stop().await;
}
