//! The credential sent to order management as `Authorization: Bearer <token>`: none, or one
//! fetched on first use (SSM Parameter Store on AWS, configuration locally) and cached.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::OnceCell;

/// A boxed error cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where the bearer token comes from.
#[async_trait]
pub trait Credential: Send + Sync {
    /// The token, or `None` to send no `Authorization` header.
    async fn token(&self) -> Result<Option<String>, BoxError>;
}

/// No credential (a downstream without authentication, or the fake one).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCredential;

#[async_trait]
impl Credential for NoCredential {
    async fn token(&self) -> Result<Option<String>, BoxError> {
        Ok(None)
    }
}

type FetchFuture = Pin<Box<dyn Future<Output = Result<String, BoxError>> + Send>>;

/// A token fetched by a function on first use and cached for the life of the process; a
/// failed fetch is not cached (the next call fetches again). Wrap
/// `q2c_runtime::LazySecret::ssm_parameter` on AWS, or return a configured value locally.
pub struct LazyToken {
    fetch: Arc<dyn Fn() -> FetchFuture + Send + Sync>,
    value: OnceCell<String>,
}

impl std::fmt::Debug for LazyToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyToken")
            .field("fetched", &self.value.initialized())
            .finish_non_exhaustive()
    }
}

impl LazyToken {
    /// A token obtained by `fetch` on first use.
    pub fn new<F, Fut>(fetch: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, BoxError>> + Send + 'static,
    {
        LazyToken {
            fetch: Arc::new(move || Box::pin(fetch())),
            value: OnceCell::new(),
        }
    }
}

#[async_trait]
impl Credential for LazyToken {
    async fn token(&self) -> Result<Option<String>, BoxError> {
        let value = self.value.get_or_try_init(|| (self.fetch)()).await?;
        Ok(Some(value.clone()))
    }
}
