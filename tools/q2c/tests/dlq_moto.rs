//! `q2c dlq` against moto through the real AWS SDK (scenarios in `dlq_common`): each test
//! creates its own `<prefix>orders` queue with a redrive policy to `<prefix>orders-dlq`.
//!
//! Needs moto: `Q2C_TEST_AWS_ENDPOINT=http://127.0.0.1:5055 AWS_ACCESS_KEY_ID=testing
//! AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1`.

mod dlq_common;

use aws_sdk_sqs::types::QueueAttributeName;
use dlq_common::Fixture;
use q2c::dlq::sqs::SqsBackend;

fn endpoint() -> String {
    std::env::var("Q2C_TEST_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "Q2C_TEST_AWS_ENDPOINT is not set: these tests need moto (export \
             Q2C_TEST_AWS_ENDPOINT=http://127.0.0.1:5055 AWS_ACCESS_KEY_ID=testing \
             AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1)"
        )
    })
}

fn region() -> String {
    std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-west-1".into())
}

fn client() -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region()))
        .endpoint_url(endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

async fn fixture() -> Fixture {
    let client = client();
    let prefix = format!("t{}-", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let (source, dlq) = (format!("{prefix}orders"), format!("{prefix}orders-dlq"));
    let dlq_url = client
        .create_queue()
        .queue_name(&dlq)
        .send()
        .await
        .expect("create dlq")
        .queue_url
        .expect("url");
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("dlq arn")
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .expect("arn");
    client
        .create_queue()
        .queue_name(&source)
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}"#),
        )
        .send()
        .await
        .expect("create source");
    Fixture {
        backend: Box::new(SqsBackend::new(client, &prefix, None)),
        target: vec![
            "--endpoint-url".into(),
            endpoint(),
            "--region".into(),
            region(),
            "--queue-prefix".into(),
            prefix,
        ],
        source,
        dlq,
        dlq_arg: "orders-dlq".into(),
        source_arg: "orders".into(),
        typed_attributes: true,
        interrupted_messages: 200,
        _dir: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_list_shows_counts_and_reasons_of_1000_messages() {
    dlq_common::list_shows_counts_and_reasons(&fixture().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_filtered_redrive_moves_exactly_the_matching() {
    dlq_common::filtered_redrive_moves_exactly_the_matching(&fixture().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_interrupted_redrive_loses_nothing() {
    dlq_common::interrupted_redrive_loses_nothing(&fixture().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_export_purge_replay_restores_everything() {
    dlq_common::export_purge_replay_restores_everything(&fixture().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_dry_run_changes_nothing() {
    dlq_common::dry_run_changes_nothing(&fixture().await).await;
}

/// Moto has no StartMessageMoveTask: an unfiltered redrive says so and moves the messages
/// itself, to the source queue found from the redrive policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_unfiltered_redrive_falls_back_to_the_manual_move() {
    let f = fixture().await;
    f.seed(25).await;
    let output = f.run(&["redrive", &f.dlq_arg]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("moving messages manually"), "{stderr}");
    assert_eq!(f.total(&f.source).await, 25);
    assert_eq!(f.total(&f.dlq).await, 0);
}
