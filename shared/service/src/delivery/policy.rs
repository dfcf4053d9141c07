//! [`CallbackPolicy`]: which hub callbacks may be registered and delivered to.
//!
//! A callback is an SQS queue (ARN `arn:aws:sqs:<region>:<account>:<name>` or URL
//! `https://sqs.<region>.amazonaws.com/<account>/<name>`), an embedded queue of `q2c local`
//! (`local:<name>`), or an HTTPS URL. It must match the deploy-time allow-list
//! (`CALLBACK_ALLOWLIST`, comma-separated): a queue entry matches that queue exactly (its ARN
//! and URL are the same queue), `local:*` matches every embedded queue, a URL entry matches
//! URLs it is a prefix of at a boundary (`/`, `?`, `#`, `:` or the end), so
//! `https://hooks.example.com` does not admit `https://hooks.example.com.evil.net`.
//!
//! HTTP callbacks must use `https`, and a host that is a literal private, loopback,
//! link-local or otherwise non-public address (or `localhost`) is refused unless the policy
//! allows it explicitly (`q2c local` allows loopback, over plain `http` too). Only literal
//! addresses are judged here, with no DNS lookup: a name that resolves to a private address
//! (DNS rebinding) is caught at send time, where the HTTPS sender checks the resolved
//! addresses with [`is_forbidden_address`] before connecting.

use std::net::IpAddr;

use url::{Host, Url};

/// Where a callback delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackTarget {
    /// An SQS queue (its ARN or URL, as registered) or an embedded queue (`local:<name>`).
    Queue(String),
    /// An HTTP(S) listener URL.
    Http(String),
}

/// Why a callback is refused (the message is shown to the API client).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("callback: {0}")]
pub struct CallbackRefusal(pub String);

fn refuse(message: impl Into<String>) -> CallbackRefusal {
    CallbackRefusal(message.into())
}

/// One allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    /// An SQS queue, as `region:account:name`.
    SqsQueue(String),
    /// One embedded queue, or every one (`None`, from `local:*`).
    LocalQueue(Option<String>),
    /// A URL prefix.
    UrlPrefix(String),
}

/// The allow-list and address rules of hub callbacks. The default allows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackPolicy {
    allowed: Vec<Allowed>,
    allow_loopback: bool,
    allow_private: bool,
}

/// The embedded-queue form of callbacks: `local:<queue name>`.
pub const LOCAL_QUEUE_PREFIX: &str = "local:";

/// `region:account:name` of an SQS queue ARN or URL; `None` when `callback` is neither.
pub fn sqs_queue_id(callback: &str) -> Option<String> {
    if let Some(rest) = callback.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.split(':').collect();
        return match parts.as_slice() {
            [_partition, "sqs", region, account, name]
                if [region, account, name].iter().all(|p| !p.is_empty()) =>
            {
                Some(format!("{region}:{account}:{name}"))
            }
            _ => None,
        };
    }
    let url = Url::parse(callback).ok()?;
    let host = url.host_str()?;
    let region = host.strip_prefix("sqs.")?.strip_suffix(".amazonaws.com")?;
    let segments: Vec<&str> = url.path_segments()?.collect();
    match segments.as_slice() {
        [account, name] if url.scheme() == "https" && !account.is_empty() && !name.is_empty() => {
            Some(format!("{region}:{account}:{name}"))
        }
        _ => None,
    }
}

/// Whether delivering to `ip` must be refused unless explicitly allowed: loopback,
/// private (RFC 1918, unique local), link-local (cloud metadata lives there), shared
/// (CGNAT), unspecified, broadcast, multicast, documentation, and IPv4-mapped forms of them.
pub fn is_forbidden_address(ip: IpAddr) -> bool {
    is_loopback(ip) || is_private(ip)
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Non-public addresses other than loopback.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
                || a >= 240
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private(IpAddr::V4(v4)),
            None => {
                v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local()
            }
        },
    }
}

impl CallbackPolicy {
    /// Allows nothing (the safe default).
    pub fn deny_all() -> Self {
        CallbackPolicy::default()
    }

    /// A policy from a comma-separated allow-list (`CALLBACK_ALLOWLIST`); blank entries are
    /// skipped.
    ///
    /// # Errors
    /// An entry that is no queue ARN/URL, `local:` queue or `http(s)` URL prefix.
    pub fn from_allowlist(list: &str) -> Result<Self, CallbackRefusal> {
        let mut policy = CallbackPolicy::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            policy = policy.allow(entry)?;
        }
        Ok(policy)
    }

    /// The policy of a deployment: `CALLBACK_ALLOWLIST` plus the stack's own subscriber
    /// queues (e.g. `BILLING_UPDATES_QUEUE_URL`), which are always allowed.
    ///
    /// # Errors
    /// As [`CallbackPolicy::from_allowlist`].
    pub fn for_deployment(allowlist: &str, own_queues: &[&str]) -> Result<Self, CallbackRefusal> {
        own_queues
            .iter()
            .filter(|q| !q.trim().is_empty())
            .try_fold(Self::from_allowlist(allowlist)?, |policy, queue| {
                policy.allow(queue.trim())
            })
    }

    /// Adds one allow-list entry (a queue ARN/URL, `local:<name>`, `local:*`, or a URL prefix).
    ///
    /// # Errors
    /// When the entry is none of those.
    pub fn allow(mut self, entry: &str) -> Result<Self, CallbackRefusal> {
        let allowed = if let Some(id) = sqs_queue_id(entry) {
            Allowed::SqsQueue(id)
        } else if let Some(name) = entry.strip_prefix(LOCAL_QUEUE_PREFIX) {
            match name {
                "" => return Err(refuse(format!("allow-list entry `{entry}` names no queue"))),
                "*" => Allowed::LocalQueue(None),
                name => Allowed::LocalQueue(Some(name.to_owned())),
            }
        } else if Url::parse(entry).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
            Allowed::UrlPrefix(entry.to_owned())
        } else {
            return Err(refuse(format!(
                "allow-list entry `{entry}` is no SQS queue ARN/URL, local: queue or http(s) URL"
            )));
        };
        self.allowed.push(allowed);
        Ok(self)
    }

    /// Allows loopback hosts (`127.0.0.0/8`, `::1`, `localhost`), over plain `http` too: for
    /// `q2c local` and tests, never for a deployment.
    #[must_use]
    pub fn allowing_loopback(mut self) -> Self {
        self.allow_loopback = true;
        self
    }

    /// Allows private and link-local addresses (a deployment whose listeners are inside its
    /// own network, stated explicitly).
    #[must_use]
    pub fn allowing_private(mut self) -> Self {
        self.allow_private = true;
        self
    }

    /// The policy of `q2c local`: every embedded queue and loopback listeners.
    pub fn local() -> Self {
        CallbackPolicy {
            allowed: vec![
                Allowed::LocalQueue(None),
                Allowed::UrlPrefix("http://127.0.0.1".into()),
                Allowed::UrlPrefix("http://localhost".into()),
                Allowed::UrlPrefix("http://[::1]".into()),
            ],
            allow_loopback: true,
            allow_private: false,
        }
    }

    /// Whether `ip` may be connected to (the HTTPS sender asks for every resolved address).
    pub fn address_allowed(&self, ip: IpAddr) -> bool {
        if is_loopback(ip) {
            self.allow_loopback
        } else if is_private(ip) {
            self.allow_private
        } else {
            true
        }
    }

    /// Classifies `callback` and checks it against the allow-list and address rules.
    ///
    /// # Errors
    /// A [`CallbackRefusal`] saying why.
    pub fn check(&self, callback: &str) -> Result<CallbackTarget, CallbackRefusal> {
        if let Some(id) = sqs_queue_id(callback) {
            return if self.allowed.contains(&Allowed::SqsQueue(id)) {
                Ok(CallbackTarget::Queue(callback.to_owned()))
            } else {
                Err(refuse("the queue is not on the callback allow-list"))
            };
        }
        if let Some(name) = callback.strip_prefix(LOCAL_QUEUE_PREFIX) {
            let allowed = !name.is_empty()
                && self.allowed.iter().any(|a| match a {
                    Allowed::LocalQueue(None) => true,
                    Allowed::LocalQueue(Some(n)) => n == name,
                    _ => false,
                });
            return if allowed {
                Ok(CallbackTarget::Queue(callback.to_owned()))
            } else {
                Err(refuse("the queue is not on the callback allow-list"))
            };
        }
        let url = Url::parse(callback).map_err(|_| {
            refuse("must be an https URL, an SQS queue ARN or URL, or local:<queue>")
        })?;
        let host = url.host().ok_or_else(|| refuse("the URL has no host"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("credentials in the URL are not accepted"));
        }
        let loopback = match &host {
            Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                name == "localhost" || name.ends_with(".localhost")
            }
            Host::Ipv4(v4) => is_loopback(IpAddr::V4(*v4)),
            Host::Ipv6(v6) => is_loopback(IpAddr::V6(*v6)),
        };
        let private = match host {
            Host::Domain(_) => false,
            Host::Ipv4(v4) => is_private(IpAddr::V4(v4)),
            Host::Ipv6(v6) => is_private(IpAddr::V6(v6)),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback && self.allow_loopback => {}
            _ => return Err(refuse("must be an https URL")),
        }
        if loopback && !self.allow_loopback {
            return Err(refuse("loopback addresses are not allowed"));
        }
        if private && !self.allow_private {
            return Err(refuse("private and link-local addresses are not allowed"));
        }
        let normalised = url.as_str();
        let listed = self.allowed.iter().any(|a| match a {
            Allowed::UrlPrefix(prefix) => {
                prefix_matches(prefix, callback) || prefix_matches(prefix, normalised)
            }
            _ => false,
        });
        if listed {
            Ok(CallbackTarget::Http(normalised.to_owned()))
        } else {
            Err(refuse("the URL is not on the callback allow-list"))
        }
    }
}

/// `prefix` starts `url` and ends at a boundary of it.
fn prefix_matches(prefix: &str, url: &str) -> bool {
    url.strip_prefix(prefix).is_some_and(|rest| {
        rest.is_empty() || prefix.ends_with('/') || rest.starts_with(['/', '?', '#', ':'])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUEUE_ARN: &str = "arn:aws:sqs:eu-west-1:123456789012:billing-updates";
    const QUEUE_URL: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/billing-updates";

    fn policy() -> CallbackPolicy {
        CallbackPolicy::from_allowlist(&format!(
            "{QUEUE_ARN}, https://hooks.example.com/q2c/,https://crm.example.net"
        ))
        .expect("valid allow-list")
    }

    #[test]
    fn a_queue_is_allowed_by_its_arn_or_url_and_only_that_queue() {
        let p = policy();
        assert_eq!(
            p.check(QUEUE_ARN),
            Ok(CallbackTarget::Queue(QUEUE_ARN.into()))
        );
        assert_eq!(
            p.check(QUEUE_URL),
            Ok(CallbackTarget::Queue(QUEUE_URL.into()))
        );
        assert!(p.check("arn:aws:sqs:eu-west-1:123456789012:other").is_err());
        assert!(
            p.check("arn:aws:sqs:eu-west-1:999999999999:billing-updates")
                .is_err()
        );
    }

    #[test]
    fn a_deployment_always_allows_its_own_queues() {
        let p = CallbackPolicy::for_deployment("", &[QUEUE_URL, ""]).expect("valid");
        assert!(p.check(QUEUE_ARN).is_ok());
        assert!(p.check("https://hooks.example.com/x").is_err());
    }

    #[test]
    fn url_prefixes_match_at_a_boundary_only() {
        let p = policy();
        assert!(matches!(
            p.check("https://hooks.example.com/q2c/events"),
            Ok(CallbackTarget::Http(_))
        ));
        assert!(p.check("https://crm.example.net/listener").is_ok());
        assert!(p.check("https://crm.example.net:8443/listener").is_ok());
        assert!(
            p.check("https://crm.example.net.evil.org/x").is_err(),
            "host extension"
        );
        assert!(
            p.check("https://hooks.example.com/other").is_err(),
            "outside the path"
        );
        assert!(
            p.check("http://crm.example.net/listener").is_err(),
            "plain http"
        );
        assert!(
            p.check("https://user:pw@crm.example.net/x").is_err(),
            "credentials"
        );
    }

    #[test]
    fn private_loopback_and_link_local_hosts_are_refused_even_when_listed() {
        let p = CallbackPolicy::from_allowlist(
            "https://10.0.0.5,https://127.0.0.1,https://169.254.169.254,https://[::1],https://localhost,https://[fd00::1],https://[::ffff:192.168.1.1]",
        )
        .expect("valid");
        for url in [
            "https://10.0.0.5/hook",
            "https://127.0.0.1/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/hook",
            "https://localhost/hook",
            "https://[fd00::1]/hook",
            "https://[::ffff:192.168.1.1]/hook",
        ] {
            assert!(p.check(url).is_err(), "{url} must be refused");
        }
        let private = p.clone().allowing_private();
        assert!(private.check("https://10.0.0.5/hook").is_ok());
        assert!(
            private.check("https://127.0.0.1/hook").is_err(),
            "loopback is separate"
        );
    }

    #[test]
    fn local_mode_allows_loopback_over_http_and_embedded_queues() {
        let p = CallbackPolicy::local();
        assert!(p.check("http://127.0.0.1:9000/listener").is_ok());
        assert!(p.check("http://localhost:9000/listener").is_ok());
        assert_eq!(
            p.check("local:billing-updates"),
            Ok(CallbackTarget::Queue("local:billing-updates".into()))
        );
        assert!(p.check("http://10.1.2.3/listener").is_err());
        assert!(p.check("http://example.com/listener").is_err());
    }

    #[test]
    fn unknown_forms_are_refused_and_nothing_is_allowed_by_default() {
        let p = CallbackPolicy::deny_all();
        for callback in [
            QUEUE_ARN,
            "local:x",
            "https://example.com",
            "ftp://x",
            "not a url",
            "local:",
        ] {
            assert!(p.check(callback).is_err(), "{callback}");
        }
        assert!(CallbackPolicy::from_allowlist("ftp://x").is_err());
    }

    #[test]
    fn resolved_addresses_are_judged_like_literal_ones() {
        let public: IpAddr = "93.184.216.34".parse().expect("ip");
        let metadata: IpAddr = "169.254.169.254".parse().expect("ip");
        let loopback: IpAddr = "127.0.0.1".parse().expect("ip");
        let p = CallbackPolicy::deny_all();
        assert!(p.address_allowed(public));
        assert!(!p.address_allowed(metadata));
        assert!(!p.address_allowed(loopback));
        assert!(CallbackPolicy::local().address_allowed(loopback));
        assert!(is_forbidden_address(metadata) && !is_forbidden_address(public));
    }
}
