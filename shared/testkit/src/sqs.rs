//! Queues on moto: one queue, a source with its DLQ, or every queue of the template under a
//! test's prefix; receiving, draining and counting them.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};

use crate::template;

/// Creates a queue; returns its URL.
pub async fn create_queue(
    client: &Client,
    name: &str,
    attributes: HashMap<QueueAttributeName, String>,
) -> String {
    client
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(attributes))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create queue {name} on moto: {e:?}"))
        .queue_url
        .expect("CreateQueue answers the queue URL")
}

/// The ARN of the queue at `url`.
pub async fn queue_arn(client: &Client, url: &str) -> String {
    client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes QueueArn")
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .expect("the queue has an ARN")
}

/// A `RedrivePolicy` attribute sending messages to `dlq_arn` after `max_receive_count`.
pub fn redrive_policy(dlq_arn: &str, max_receive_count: u32) -> String {
    format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{max_receive_count}"}}"#)
}

/// Creates `<name>-dlq` and `<name>` redriving into it after `max_receive_count` receives,
/// hiding received messages for `visibility_timeout` seconds; returns (queue URL, DLQ URL).
pub async fn queue_with_dlq(
    client: &Client,
    name: &str,
    max_receive_count: u32,
    visibility_timeout: u32,
) -> (String, String) {
    let dlq_url = create_queue(client, &format!("{name}-dlq"), HashMap::new()).await;
    let dlq_arn = queue_arn(client, &dlq_url).await;
    let attributes = HashMap::from([
        (
            QueueAttributeName::RedrivePolicy,
            redrive_policy(&dlq_arn, max_receive_count),
        ),
        (
            QueueAttributeName::VisibilityTimeout,
            visibility_timeout.to_string(),
        ),
    ]);
    (create_queue(client, name, attributes).await, dlq_url)
}

/// The queues of one test, created as the template declares them under `prefix`.
#[derive(Debug, Clone)]
pub struct Queues {
    /// The prefix every name got (what an adapter's `with_prefix` takes).
    pub prefix: String,
    urls: BTreeMap<String, String>,
}

impl Queues {
    /// The URL of the template queue `name` (e.g. `orders-dlq`).
    pub fn url(&self, name: &str) -> &str {
        self.urls
            .get(name)
            .unwrap_or_else(|| panic!("no queue `{name}` in the template"))
    }

    /// The full name of the template queue `name`.
    pub fn name(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

/// Every queue of the template, named `<prefix><name>`, with the template's visibility
/// timeouts and redrive policies (DLQs first, so that redrive policies can name them).
pub async fn template_queues(client: &Client, prefix: &str) -> Queues {
    let definitions = template::queues();
    let mut urls = BTreeMap::new();
    let mut arns = BTreeMap::new();
    let (dlqs, sources): (Vec<_>, Vec<_>) =
        definitions.into_iter().partition(|q| q.redrive.is_none());
    for queue in dlqs.iter().chain(&sources) {
        let mut attributes = HashMap::new();
        if let Some(seconds) = queue.visibility_timeout {
            attributes.insert(QueueAttributeName::VisibilityTimeout, seconds.to_string());
        }
        if let Some(redrive) = &queue.redrive {
            let arn: &String = arns.get(&redrive.dead_letter_queue).unwrap_or_else(|| {
                panic!("{} redrives into {}", queue.name, redrive.dead_letter_queue)
            });
            attributes.insert(
                QueueAttributeName::RedrivePolicy,
                redrive_policy(arn, redrive.max_receive_count),
            );
        }
        let url = create_queue(client, &format!("{prefix}{}", queue.name), attributes).await;
        if queue.redrive.is_none() {
            arns.insert(queue.name.clone(), queue_arn(client, &url).await);
        }
        urls.insert(queue.name.clone(), url);
    }
    Queues {
        prefix: prefix.to_owned(),
        urls,
    }
}

/// Up to 10 messages with their system and message attributes (as Lambda gets them).
pub async fn receive(client: &Client, url: &str) -> Vec<Message> {
    receive_up_to(client, url, 10, None).await
}

/// Up to `max` messages with their system and message attributes, as an event source
/// mapping of batch size `max` receives them; `wait_seconds` long-polls (`None`: the queue's
/// own `ReceiveMessageWaitTimeSeconds`).
pub async fn receive_up_to(
    client: &Client,
    url: &str,
    max: i32,
    wait_seconds: Option<i32>,
) -> Vec<Message> {
    client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(max)
        .set_wait_time_seconds(wait_seconds)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await
        .expect("ReceiveMessage")
        .messages
        .unwrap_or_default()
}

/// Sends one message of `body` (no attributes) to `url`.
pub async fn send(client: &Client, url: &str, body: impl Into<String>) {
    client
        .send_message()
        .queue_url(url)
        .message_body(body)
        .send()
        .await
        .expect("SendMessage");
}

/// Deletes a received message.
pub async fn delete(client: &Client, url: &str, message: &Message) {
    client
        .delete_message()
        .queue_url(url)
        .receipt_handle(message.receipt_handle().unwrap_or_default())
        .send()
        .await
        .expect("DeleteMessage");
}

/// Every message of a queue, deleted as read.
pub async fn take_all(client: &Client, url: &str) -> Vec<Message> {
    let mut all = Vec::new();
    loop {
        let messages = receive(client, url).await;
        if messages.is_empty() {
            return all;
        }
        for message in &messages {
            delete(client, url, message).await;
        }
        all.extend(messages);
    }
}

/// The `eventId` of each message's envelope body.
pub fn event_ids(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .map(|m| {
            let body: serde_json::Value =
                serde_json::from_str(m.body().unwrap_or_default()).expect("a JSON body");
            body["eventId"]
                .as_str()
                .expect("an envelope with an eventId")
                .to_owned()
        })
        .collect()
}

/// Visible plus in-flight messages of the queue at `url`.
pub async fn depth(client: &Client, url: &str) -> u64 {
    let attributes = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .unwrap_or_default();
    [
        QueueAttributeName::ApproximateNumberOfMessages,
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
    ]
    .iter()
    .filter_map(|name| attributes.get(name)?.parse::<u64>().ok())
    .sum()
}
