//! [`LocalCallbackSender`]: the [`CallbackSender`] of `q2c local`. Queue callbacks are
//! embedded queues addressed as `local:<queue name>` (a queue of [`SqliteQueues`] or any
//! other [`QueueClient`]); HTTP callbacks go through [`HttpCallbacks`].

use std::sync::Arc;

use async_trait::async_trait;
use q2c_callbacks::HttpCallbacks;
use q2c_service::delivery::CallbackSender;
use q2c_service::delivery::policy::LOCAL_QUEUE_PREFIX;
use q2c_service::messaging::{OutgoingMessage, QueueClient, SendOutcome};
use q2c_service::ports::BoxError;

/// Sends hub deliveries to embedded queues and HTTP listeners.
#[derive(Clone)]
pub struct LocalCallbackSender {
    queues: Arc<dyn QueueClient>,
    http: HttpCallbacks,
}

impl LocalCallbackSender {
    /// Embedded queues through `queues`, HTTP through `http`.
    pub fn new(queues: Arc<dyn QueueClient>, http: HttpCallbacks) -> Self {
        LocalCallbackSender { queues, http }
    }
}

#[async_trait]
impl CallbackSender for LocalCallbackSender {
    async fn send_queue(
        &self,
        queue: &str,
        messages: &[OutgoingMessage],
    ) -> Result<SendOutcome, BoxError> {
        let name = queue
            .strip_prefix(LOCAL_QUEUE_PREFIX)
            .ok_or_else(|| format!("`{queue}` is not an embedded queue (local:<name>)"))?;
        Ok(self.queues.send_batch(name, messages).await?)
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
