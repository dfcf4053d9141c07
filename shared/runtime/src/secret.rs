//! Secrets fetched on first use and cached for the life of the container, never at init:
//! a cold start that does not need the secret does not pay for it, and an unreachable
//! parameter store fails the invocation that needs it (retried), not the init.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::OnceCell;

/// A secret could not be fetched.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("fetching secret {name}: {reason}")]
pub struct SecretError {
    /// The secret's name (e.g. the SSM parameter name).
    pub name: String,
    /// What went wrong.
    pub reason: String,
}

type FetchFuture = Pin<Box<dyn Future<Output = Result<String, SecretError>> + Send>>;
type Fetch = Arc<dyn Fn() -> FetchFuture + Send + Sync>;

/// A secret value fetched by `fetch` on the first [`LazySecret::get`] and cached; a failed
/// fetch is not cached, so the next call tries again.
#[derive(Clone)]
pub struct LazySecret {
    name: String,
    fetch: Fetch,
    value: Arc<OnceCell<String>>,
}

impl std::fmt::Debug for LazySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazySecret")
            .field("name", &self.name)
            .field("fetched", &self.value.initialized())
            .finish_non_exhaustive()
    }
}

impl LazySecret {
    /// A secret called `name` obtained by `fetch`.
    pub fn new<F, Fut>(name: impl Into<String>, fetch: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, SecretError>> + Send + 'static,
    {
        LazySecret {
            name: name.into(),
            fetch: Arc::new(move || Box::pin(fetch())),
            value: Arc::new(OnceCell::new()),
        }
    }

    /// The SSM parameter `name`, read with `GetParameter` and `WithDecryption` on first use.
    #[cfg(feature = "ssm")]
    pub fn ssm_parameter(client: aws_sdk_ssm::Client, name: impl Into<String>) -> Self {
        let name = name.into();
        let parameter = name.clone();
        LazySecret::new(name, move || {
            let client = client.clone();
            let parameter = parameter.clone();
            async move {
                let error = |reason: String| SecretError {
                    name: parameter.clone(),
                    reason,
                };
                let output = client
                    .get_parameter()
                    .name(&parameter)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| error(aws_sdk_ssm::error::DisplayErrorContext(e).to_string()))?;
                output
                    .parameter
                    .and_then(|p| p.value)
                    .ok_or_else(|| error("the parameter has no value".into()))
            }
        })
    }

    /// The secret's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value, fetched on the first call and cached afterwards.
    ///
    /// # Errors
    /// [`SecretError`] when the fetch fails (the next call fetches again).
    pub async fn get(&self) -> Result<&str, SecretError> {
        self.value
            .get_or_try_init(|| (self.fetch)())
            .await
            .map(String::as_str)
    }

    /// The value fetched now, bypassing and not touching the cache (for callers that keep
    /// their own cache with a time-to-live, as the downstream credential does).
    ///
    /// # Errors
    /// [`SecretError`] when the fetch fails.
    pub async fn fetch_now(&self) -> Result<String, SecretError> {
        (self.fetch)().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn fetched_once_on_first_use_and_failures_are_retried() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let secret = LazySecret::new("/q2c/test", move || {
            let attempt = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if attempt == 0 {
                    Err(SecretError {
                        name: "/q2c/test".into(),
                        reason: "throttled".into(),
                    })
                } else {
                    Ok("s3cret".to_owned())
                }
            }
        });
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "nothing fetched at construction"
        );
        assert!(secret.get().await.is_err());
        assert_eq!(secret.get().await, Ok("s3cret"));
        assert_eq!(secret.get().await, Ok("s3cret"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
