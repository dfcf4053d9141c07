//! [`SqsCallbackSender`]: the [`CallbackSender`] of the hub-delivery Lambda. Queue callbacks
//! are SQS queues by ARN (resolved once with `GetQueueUrl`, owner account from the ARN, then
//! cached) or by URL (used as is); each batch of up to 10 is one `SendMessageBatch`. HTTP
//! callbacks go through [`HttpCallbacks`]. Queues are reached through the client's region.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use q2c_callbacks::HttpCallbacks;
use q2c_service::delivery::CallbackSender;
use q2c_service::messaging::{OutgoingMessage, SendOutcome, check_batch};
use q2c_service::ports::BoxError;

use super::queues::{entries, send_entries};
use crate::metrics::{Operation, RequestCounter};

/// Sends hub deliveries to SQS queues and HTTP listeners. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SqsCallbackSender {
    client: aws_sdk_sqs::Client,
    http: HttpCallbacks,
    urls: Arc<Mutex<HashMap<String, String>>>,
    requests: RequestCounter,
}

impl SqsCallbackSender {
    /// Queues through `client`, HTTP through `http`.
    pub fn new(client: aws_sdk_sqs::Client, http: HttpCallbacks) -> Self {
        SqsCallbackSender {
            client,
            http,
            urls: Arc::default(),
            requests: RequestCounter::new(),
        }
    }

    /// The SQS requests made (`GetQueueUrl`, `SendMessageBatch`).
    pub fn requests(&self) -> &RequestCounter {
        &self.requests
    }

    /// The URL of a queue callback (ARN or URL).
    async fn url(&self, queue: &str) -> Result<String, BoxError> {
        let Some(arn) = queue.strip_prefix("arn:") else {
            return Ok(queue.to_owned());
        };
        if let Some(url) = self.urls.lock().ok().and_then(|u| u.get(queue).cloned()) {
            return Ok(url);
        }
        let parts: Vec<&str> = arn.split(':').collect();
        let [_, "sqs", _region, account, name] = parts.as_slice() else {
            return Err(format!("`{queue}` is not an SQS queue ARN").into());
        };
        self.requests.record(Operation::GetQueueUrl);
        let url = self
            .client
            .get_queue_url()
            .queue_name(*name)
            .queue_owner_aws_account_id(*account)
            .send()
            .await
            .map_err(|e| format!("queue {queue}: {}", describe(&e)))?
            .queue_url
            .ok_or_else(|| format!("SQS returned no URL for {queue}"))?;
        if let Ok(mut urls) = self.urls.lock() {
            urls.insert(queue.to_owned(), url.clone());
        }
        Ok(url)
    }
}

/// An SDK error with its service code and message (the SDK's own text is just "service error").
fn describe<E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error>(error: &E) -> String {
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => error.to_string(),
    }
}

#[async_trait]
impl CallbackSender for SqsCallbackSender {
    #[tracing::instrument(skip_all, fields(queue, entries = messages.len()), err)]
    async fn send_queue(
        &self,
        queue: &str,
        messages: &[OutgoingMessage],
    ) -> Result<SendOutcome, BoxError> {
        check_batch("send", messages.len())?;
        let url = self.url(queue).await?;
        let entries = entries(messages)?;
        let outcome = send_entries(&self.client, &self.requests, url, entries)
            .await
            .map_err(|e| format!("queue {queue}: {}", describe(&e)))?;
        Ok(outcome)
    }

    async fn post_http(
        &self,
        url: &str,
        body: &str,
        headers: &[(String, String)],
    ) -> Result<(), BoxError> {
        self.http.post(url, body, headers).await
    }
}
