//! The credential sent to order management as `Authorization: Bearer <token>`: none, or one
//! fetched on first use (SSM Parameter Store on AWS, configuration locally) and cached for a
//! time-to-live, so a rotated credential is picked up without a restart; a token the
//! downstream refuses (401/403) is forgotten at once ([`Credential::refused`]) and fetched
//! again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::Mutex;

/// A boxed error cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How long a fetched token is used before it is fetched again (a rotation is seen within
/// this time even if the downstream still accepts the old token).
pub const DEFAULT_CREDENTIAL_TTL: Duration = Duration::from_secs(300);

/// Where the bearer token comes from.
#[async_trait]
pub trait Credential: Send + Sync {
    /// The token, or `None` to send no `Authorization` header.
    async fn token(&self) -> Result<Option<String>, BoxError>;

    /// The downstream refused `token` (401/403): forget it if it is still the cached one, so
    /// the next [`Credential::token`] fetches again. Default: nothing to forget.
    async fn refused(&self, _token: &str) {}
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

/// A token fetched by a function on first use and cached for a time-to-live
/// ([`DEFAULT_CREDENTIAL_TTL`]); a failed fetch is not cached (the next call fetches again),
/// and a refused token is dropped at once. Fetch with `q2c_runtime::LazySecret::fetch_now`
/// (SSM) on AWS, or return a configured value locally.
pub struct LazyToken {
    fetch: Arc<dyn Fn() -> FetchFuture + Send + Sync>,
    ttl: Duration,
    /// The token and when it was fetched. One lock: concurrent callers wait for one fetch
    /// rather than each asking SSM.
    cached: Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for LazyToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyToken")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl LazyToken {
    /// A token obtained by `fetch` on first use, kept [`DEFAULT_CREDENTIAL_TTL`].
    pub fn new<F, Fut>(fetch: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, BoxError>> + Send + 'static,
    {
        LazyToken {
            fetch: Arc::new(move || Box::pin(fetch())),
            ttl: DEFAULT_CREDENTIAL_TTL,
            cached: Mutex::new(None),
        }
    }

    /// Keeps a fetched token for `ttl` instead.
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
}

#[async_trait]
impl Credential for LazyToken {
    async fn token(&self) -> Result<Option<String>, BoxError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, at)) = cached.as_ref()
            && at.elapsed() < self.ttl
        {
            return Ok(Some(token.clone()));
        }
        let token = (self.fetch)().await?;
        *cached = Some((token.clone(), Instant::now()));
        Ok(Some(token))
    }

    async fn refused(&self, token: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|(t, _)| t == token) {
            *cached = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn counting() -> (LazyToken, Arc<AtomicUsize>) {
        let fetches = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&fetches);
        let token = LazyToken::new(move || {
            let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
            async move { Ok(format!("token-{n}")) }
        });
        (token, fetches)
    }

    /// Asks `token` for its token and expects `expected`.
    async fn assert_token(token: &LazyToken, expected: &str) {
        assert_eq!(
            token.token().await.expect("token").as_deref(),
            Some(expected)
        );
    }

    #[tokio::test]
    async fn a_token_is_fetched_once_while_fresh() {
        let (token, fetches) = counting();
        for _ in 0..3 {
            assert_token(&token, "token-1").await;
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_expired_token_is_fetched_again() {
        let (token, fetches) = counting();
        let token = token.with_ttl(Duration::ZERO);
        assert_token(&token, "token-1").await;
        assert_token(&token, "token-2").await;
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_refused_token_is_dropped_but_a_newer_one_is_kept() {
        let (token, _) = counting();
        assert_token(&token, "token-1").await;
        token.refused("token-1").await;
        assert_token(&token, "token-2").await;
        // A late refusal of the old token (a call made before the refetch) keeps the new one.
        token.refused("token-1").await;
        assert_token(&token, "token-2").await;
    }
}
