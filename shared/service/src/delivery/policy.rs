//! [`CallbackPolicy`]: which hub callbacks a tenant may register and be delivered to.
//!
//! A callback is an SQS queue (ARN `arn:aws:sqs:<region>:<account>:<name>` or URL
//! `https://sqs.<region>.amazonaws.com/<account>/<name>`), an embedded queue of `q2c local`
//! (`local:<name>`), or an HTTPS URL.
//!
//! **Subscriptions are the subscriber's, never the system's.** A queue callback may never
//! name a queue the deployment consumes or produces for itself
//! ([`crate::messaging::queues::SYSTEM`], with the deployment's queue-name prefix, and any
//! `-dlq`), whatever the allow-list says. Other queues are admitted when they are
//!
//! - the tenant's own subscriber queue by rule: `<subscriber prefix><tenant>` (prefix
//!   `subscriber-` by default, so tenant `acme` subscribes `subscriber-acme`; on AWS, in the
//!   deployment's own account and region when those are known). A tenant can name no other
//!   tenant's queue this way, so a subscriber queue receives only its tenant's events; or
//! - listed on the deploy-time allow-list (`CALLBACK_ALLOWLIST`, comma-separated): a queue
//!   ARN/URL matches that queue (its ARN and URL are the same queue), `local:<name>` that
//!   embedded queue, `local:*` every embedded queue that is not a system queue (development
//!   only: any tenant may then name any of them).
//!
//! URL entries of the allow-list match URLs they are a prefix of at a boundary (`/`, `?`,
//! `#`, `:` or the end), so `https://hooks.example.com` does not admit
//! `https://hooks.example.com.evil.net`. HTTP callbacks must use `https`, and a host that
//! is `localhost` or a literal address in any IANA special-purpose block ([`classify`]) is
//! refused unless the policy allows it explicitly (`q2c local` allows loopback, over plain
//! `http` too). Only literal addresses are judged here, with no DNS lookup: a name that
//! resolves to a special address (DNS rebinding) is caught at send time, where the HTTPS
//! sender checks every resolved address with [`CallbackPolicy::address_allowed`] before
//! connecting and follows no redirect.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};
use url::{Host, Url};

use crate::context::TenantId;
use crate::messaging::queues;

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
    /// One embedded queue, or every one that is not a system queue (`None`, from `local:*`).
    LocalQueue(Option<String>),
    /// A URL prefix.
    UrlPrefix(String),
}

/// The embedded-queue form of callbacks: `local:<queue name>`.
pub const LOCAL_QUEUE_PREFIX: &str = "local:";

/// The default prefix of subscriber queues: tenant `acme`'s is `subscriber-acme`.
pub const DEFAULT_SUBSCRIBER_QUEUE_PREFIX: &str = "subscriber-";

/// The suffix of every dead-letter queue name.
const DLQ_SUFFIX: &str = "-dlq";

/// The allow-list, subscriber-queue rule and address rules of hub callbacks. The default
/// allows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackPolicy {
    allowed: Vec<Allowed>,
    allow_loopback: bool,
    allow_private: bool,
    /// The deployment's queue-name prefix (`q2c-` on AWS, empty locally): its system queues
    /// are `<prefix><name>`.
    queue_prefix: String,
    /// Subscriber queues by rule, `<prefix><tenant>`; `None`: no rule.
    subscriber_prefix: Option<String>,
    /// `region:account` of the deployment's queues; when known, the rule admits SQS queues
    /// there only (the IAM grant `subscriber-*` covers no other account).
    home: Option<String>,
}

/// `(region:account, name)` of an SQS queue ARN or URL; `None` when `callback` is neither.
fn sqs_queue_parts(callback: &str) -> Option<(String, String)> {
    if let Some(rest) = callback.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.split(':').collect();
        return match parts.as_slice() {
            [_partition, "sqs", region, account, name]
                if [region, account, name].iter().all(|p| !p.is_empty()) =>
            {
                Some((format!("{region}:{account}"), (*name).to_owned()))
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
            Some((format!("{region}:{account}"), (*name).to_owned()))
        }
        _ => None,
    }
}

/// `region:account:name` of an SQS queue ARN or URL; `None` when `callback` is neither.
pub fn sqs_queue_id(callback: &str) -> Option<String> {
    sqs_queue_parts(callback).map(|(home, name)| format!("{home}:{name}"))
}

/// What an address is, for the callback rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// A globally reachable unicast address.
    Public,
    /// Loopback (`127.0.0.0/8`, `::1`, and their IPv4-mapped form).
    Loopback,
    /// Private-use (`10/8`, `172.16/12`, `192.168/16`, `fc00::/7`, and IPv4-mapped forms):
    /// admitted only by [`CallbackPolicy::allowing_private`].
    PrivateUse,
    /// Any other special-purpose block, named.
    Special(&'static str),
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len)
}

const fn v6(s: [u16; 8], len: u8) -> Ipv6Net {
    Ipv6Net::new_assert(
        Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
        len,
    )
}

/// Whether a block is private-use (see [`AddressClass::PrivateUse`]).
const PRIVATE_USE: bool = true;

/// Every IPv4 block a callback may not reach, from the IANA IPv4 Special-Purpose Address
/// Registry (iana-ipv4-special-registry, RFC 6890 and the RFCs it lists; every entry, also
/// the "globally reachable" anycast ones: no listener lives there) plus multicast
/// (224.0.0.0/4, RFC 5771). Loopback (127.0.0.0/8) is classified before this table.
/// Written out because the crates with such tables (iprfc, ip_rfc) follow the 2013 RFC 6890
/// snapshot or are unmaintained; kept in one place with the IPv6 table below.
const IPV4_BLOCKS: &[(Ipv4Net, &str, bool)] = &[
    (
        v4(0, 0, 0, 0, 8),
        "0.0.0.0/8 \"this network\" (RFC 791)",
        false,
    ),
    (
        v4(10, 0, 0, 0, 8),
        "10.0.0.0/8 private-use (RFC 1918)",
        PRIVATE_USE,
    ),
    (
        v4(100, 64, 0, 0, 10),
        "100.64.0.0/10 shared address space (RFC 6598)",
        false,
    ),
    (
        v4(169, 254, 0, 0, 16),
        "169.254.0.0/16 link-local (RFC 3927)",
        false,
    ),
    (
        v4(172, 16, 0, 0, 12),
        "172.16.0.0/12 private-use (RFC 1918)",
        PRIVATE_USE,
    ),
    (
        v4(192, 0, 0, 0, 24),
        "192.0.0.0/24 IETF protocol assignments (RFC 6890)",
        false,
    ),
    (
        v4(192, 0, 2, 0, 24),
        "192.0.2.0/24 documentation TEST-NET-1 (RFC 5737)",
        false,
    ),
    (
        v4(192, 31, 196, 0, 24),
        "192.31.196.0/24 AS112-v4 (RFC 7535)",
        false,
    ),
    (
        v4(192, 52, 193, 0, 24),
        "192.52.193.0/24 AMT (RFC 7450)",
        false,
    ),
    (
        v4(192, 88, 99, 0, 24),
        "192.88.99.0/24 6to4 relay anycast (RFC 7526)",
        false,
    ),
    (
        v4(192, 168, 0, 0, 16),
        "192.168.0.0/16 private-use (RFC 1918)",
        PRIVATE_USE,
    ),
    (
        v4(192, 175, 48, 0, 24),
        "192.175.48.0/24 AS112 direct delegation (RFC 7534)",
        false,
    ),
    (
        v4(198, 18, 0, 0, 15),
        "198.18.0.0/15 benchmarking (RFC 2544)",
        false,
    ),
    (
        v4(198, 51, 100, 0, 24),
        "198.51.100.0/24 documentation TEST-NET-2 (RFC 5737)",
        false,
    ),
    (
        v4(203, 0, 113, 0, 24),
        "203.0.113.0/24 documentation TEST-NET-3 (RFC 5737)",
        false,
    ),
    (
        v4(224, 0, 0, 0, 4),
        "224.0.0.0/4 multicast (RFC 5771)",
        false,
    ),
    (
        v4(240, 0, 0, 0, 4),
        "240.0.0.0/4 reserved, and 255.255.255.255 limited broadcast (RFC 1112, RFC 919)",
        false,
    ),
];

/// Every IPv6 block a callback may not reach, from the IANA IPv6 Special-Purpose Address
/// Registry (iana-ipv6-special-registry; every entry, more specific ones first so that the
/// message names them), plus the IPv4-compatible (`::/96`, RFC 4291 §2.5.5.1), site-local
/// (`fec0::/10`, RFC 3879) and multicast (`ff00::/8`) blocks; anything else outside global
/// unicast `2000::/3` is refused by [`classify`] too. Every IPv4-embedding form is refused
/// whole (NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, IPv4-compatible, 6to4, Teredo),
/// whatever IPv4 address it carries: a callback has no business going through a
/// translator. `::1` and IPv4-mapped `::ffff:0:0/96` are classified before this table.
const IPV6_BLOCKS: &[(Ipv6Net, &str, bool)] = &[
    (v6([0; 8], 128), "::/128 unspecified (RFC 4291)", false),
    (
        v6([0; 8], 96),
        "::/96 IPv4-compatible (deprecated, RFC 4291)",
        false,
    ),
    (
        v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96),
        "64:ff9b::/96 NAT64 well-known prefix (RFC 6052)",
        false,
    ),
    (
        v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48),
        "64:ff9b:1::/48 NAT64 local-use prefix (RFC 8215)",
        false,
    ),
    (
        v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64),
        "100::/64 discard-only (RFC 6666)",
        false,
    ),
    (
        v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64),
        "100:0:0:1::/64 dummy prefix (RFC 9780)",
        false,
    ),
    (
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32),
        "2001::/32 Teredo (RFC 4380)",
        false,
    ),
    (
        v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48),
        "2001:2::/48 benchmarking (RFC 5180)",
        false,
    ),
    (
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),
        "2001::/23 IETF protocol assignments (RFC 2928)",
        false,
    ),
    (
        v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32),
        "2001:db8::/32 documentation (RFC 3849)",
        false,
    ),
    (
        v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16),
        "2002::/16 6to4 (RFC 3056)",
        false,
    ),
    (
        v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48),
        "2620:4f:8000::/48 AS112 direct delegation (RFC 7534)",
        false,
    ),
    (
        v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),
        "3fff::/20 documentation (RFC 9637)",
        false,
    ),
    (
        v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16),
        "5f00::/16 segment routing SIDs (RFC 9602)",
        false,
    ),
    (
        v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),
        "fc00::/7 unique-local (RFC 4193)",
        PRIVATE_USE,
    ),
    (
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
        "fe80::/10 link-local (RFC 4291)",
        false,
    ),
    (
        v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),
        "fec0::/10 site-local (deprecated, RFC 3879)",
        false,
    ),
    (
        v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),
        "ff00::/8 multicast (RFC 4291)",
        false,
    ),
];

/// Global unicast `2000::/3`: an IPv6 address outside it that no table entry names is
/// reserved by the IETF (RFC 4291) and refused as well.
const IPV6_GLOBAL_UNICAST: Ipv6Net = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3);

/// The class of `ip` under the tables above. Literal callback hosts (every textual form the
/// URL parser normalises: decimal, octal, hex, bracketed IPv6, IPv4-mapped) and every
/// address a callback's host name resolves to are judged by it.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => {
            if v6.is_loopback() {
                return AddressClass::Loopback;
            }
            if let Some(mapped) = v6.to_ipv4_mapped() {
                // The same host as the IPv4 address on a dual-stack socket; a public one is
                // still refused (the registry lists ::ffff:0:0/96 as not globally reachable).
                return match classify_v4(mapped) {
                    AddressClass::Public => {
                        AddressClass::Special("::ffff:0:0/96 IPv4-mapped (RFC 4291)")
                    }
                    class => class,
                };
            }
            if let Some((_, name, private)) = IPV6_BLOCKS.iter().find(|(net, ..)| net.contains(&v6))
            {
                return if *private {
                    AddressClass::PrivateUse
                } else {
                    AddressClass::Special(name)
                };
            }
            if IPV6_GLOBAL_UNICAST.contains(&v6) {
                AddressClass::Public
            } else {
                AddressClass::Special("outside global unicast 2000::/3 (RFC 4291)")
            }
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    match IPV4_BLOCKS.iter().find(|(net, ..)| net.contains(&ip)) {
        Some((_, _, true)) => AddressClass::PrivateUse,
        Some((_, name, false)) => AddressClass::Special(name),
        None => AddressClass::Public,
    }
}

/// Whether delivering to `ip` must be refused unless explicitly allowed: any address that
/// is not [`AddressClass::Public`].
pub fn is_forbidden_address(ip: IpAddr) -> bool {
    classify(ip) != AddressClass::Public
}

impl CallbackPolicy {
    /// Allows nothing (the safe default).
    pub fn deny_all() -> Self {
        CallbackPolicy::default()
    }

    /// A policy from a comma-separated allow-list (`CALLBACK_ALLOWLIST`); blank entries are
    /// skipped. No subscriber-queue rule, no queue-name prefix.
    ///
    /// # Errors
    /// An entry that is no queue ARN/URL, `local:` queue or `http(s)` URL prefix, or that
    /// names a system queue.
    pub fn from_allowlist(list: &str) -> Result<Self, CallbackRefusal> {
        CallbackPolicy::default().allow_all(list)
    }

    /// The policy of an AWS deployment: `CALLBACK_ALLOWLIST`, and subscriber queues by rule
    /// (`<subscriber_prefix><tenant>`; `None`: the stack's queue prefix + `subscriber-`,
    /// e.g. `q2c-subscriber-acme`; an empty prefix turns the rule off). `deployment_queue`
    /// is the URL or ARN of one of the stack's own queues (e.g. `BILLING_UPDATES_QUEUE_URL`):
    /// its name gives the stack's queue-name prefix, so that `<prefix>billing-updates` and
    /// the like are refused as system queues, and its region and account bound the rule.
    ///
    /// # Errors
    /// As [`CallbackPolicy::from_allowlist`]; `deployment_queue` naming no system queue.
    pub fn for_deployment(
        allowlist: &str,
        deployment_queue: &str,
        subscriber_prefix: Option<&str>,
    ) -> Result<Self, CallbackRefusal> {
        let (home, name) = match sqs_queue_parts(deployment_queue) {
            Some((home, name)) => (Some(home), name),
            // Not an AWS queue URL (moto, a custom endpoint): the name is the last segment.
            None => (
                None,
                deployment_queue
                    .trim_end_matches('/')
                    .rsplit(['/', ':'])
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            ),
        };
        let prefix = queues::SYSTEM
            .iter()
            .find_map(|queue| name.strip_suffix(queue))
            .ok_or_else(|| {
                refuse(format!(
                    "`{deployment_queue}` is not one of the deployment's queues ({})",
                    queues::SYSTEM.join(", ")
                ))
            })?;
        let rule = subscriber_prefix.map_or_else(
            || format!("{prefix}{DEFAULT_SUBSCRIBER_QUEUE_PREFIX}"),
            str::to_owned,
        );
        let policy = CallbackPolicy {
            queue_prefix: prefix.to_owned(),
            home,
            ..CallbackPolicy::default()
        };
        policy.with_subscriber_queues(&rule).allow_all(allowlist)
    }

    /// The policy of `q2c local`: subscriber queues `subscriber-<tenant>` and loopback
    /// listeners (over plain `http` too). Add `local:<name>` entries with
    /// [`CallbackPolicy::allow`].
    pub fn local() -> Self {
        CallbackPolicy {
            allowed: vec![
                Allowed::UrlPrefix("http://127.0.0.1".into()),
                Allowed::UrlPrefix("http://localhost".into()),
                Allowed::UrlPrefix("http://[::1]".into()),
            ],
            allow_loopback: true,
            subscriber_prefix: Some(DEFAULT_SUBSCRIBER_QUEUE_PREFIX.to_owned()),
            ..CallbackPolicy::default()
        }
    }

    /// Subscriber queues by rule: tenant `t` may name the queue `<prefix>t`; an empty
    /// prefix turns the rule off.
    #[must_use]
    pub fn with_subscriber_queues(mut self, prefix: &str) -> Self {
        self.subscriber_prefix = (!prefix.is_empty()).then(|| prefix.to_owned());
        self
    }

    /// Adds the comma-separated entries of `list` ([`CallbackPolicy::allow`]).
    ///
    /// # Errors
    /// As [`CallbackPolicy::allow`].
    pub fn allow_all(self, list: &str) -> Result<Self, CallbackRefusal> {
        list.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .try_fold(self, CallbackPolicy::allow)
    }

    /// Adds one allow-list entry (a queue ARN/URL, `local:<name>`, `local:*`, or a URL
    /// prefix).
    ///
    /// # Errors
    /// When the entry is none of those, or names a system queue.
    pub fn allow(mut self, entry: &str) -> Result<Self, CallbackRefusal> {
        let allowed = if let Some((home, name)) = sqs_queue_parts(entry) {
            self.refuse_system_queue(entry, &name)?;
            Allowed::SqsQueue(format!("{home}:{name}"))
        } else if let Some(name) = entry.strip_prefix(LOCAL_QUEUE_PREFIX) {
            match name {
                "" => return Err(refuse(format!("allow-list entry `{entry}` names no queue"))),
                "*" => Allowed::LocalQueue(None),
                name => {
                    self.refuse_system_queue(entry, name)?;
                    Allowed::LocalQueue(Some(name.to_owned()))
                }
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

    /// Allows private-use addresses (`10/8`, `172.16/12`, `192.168/16`, `fc00::/7`): a
    /// deployment whose listeners are inside its own network, stated explicitly. Link-local
    /// (cloud metadata) and every other special block stay refused.
    #[must_use]
    pub fn allowing_private(mut self) -> Self {
        self.allow_private = true;
        self
    }

    /// Whether `ip` may be connected to (the HTTPS sender asks for every resolved address).
    pub fn address_allowed(&self, ip: IpAddr) -> bool {
        self.address_refusal(ip).is_none()
    }

    /// Why `ip` may not be connected to; `None` when it may.
    fn address_refusal(&self, ip: IpAddr) -> Option<String> {
        match classify(ip) {
            AddressClass::Public => None,
            AddressClass::Loopback if self.allow_loopback => None,
            AddressClass::PrivateUse if self.allow_private => None,
            AddressClass::Loopback => Some(format!("address {ip} is loopback")),
            AddressClass::PrivateUse => Some(format!("address {ip} is private-use")),
            AddressClass::Special(block) => Some(format!("address {ip} is in {block}")),
        }
    }

    /// The system queue `name` is, as a refusal of `what`; `None` for any other name.
    fn system_queue(&self, what: &str, name: &str) -> Option<CallbackRefusal> {
        let name = name.strip_suffix(".fifo").unwrap_or(name);
        let own = name.strip_prefix(&self.queue_prefix).unwrap_or(name);
        let system =
            name.ends_with(DLQ_SUFFIX) || queues::SYSTEM.iter().any(|q| *q == own || *q == name);
        system.then(|| {
            refuse(format!(
                "`{what}` names the system queue `{name}`, which the deployment consumes or \
                 produces itself (every `{}` queue and every `*{DLQ_SUFFIX}`); a subscription \
                 is the subscriber's: name your own queue ({}) or one on the deployment's \
                 callback allow-list",
                queues::SYSTEM.join("`, `"),
                self.rule_text("<tenant>"),
            ))
        })
    }

    fn refuse_system_queue(&self, entry: &str, name: &str) -> Result<(), CallbackRefusal> {
        match self.system_queue(entry, name) {
            Some(refusal) => Err(refuse(format!("allow-list entry: {}", refusal.0))),
            None => Ok(()),
        }
    }

    /// The subscriber-queue rule in words, for `tenant`.
    fn rule_text(&self, tenant: &str) -> String {
        match &self.subscriber_prefix {
            Some(prefix) => format!("subscriber queues are named `{prefix}{tenant}`"),
            None => "this deployment names no subscriber queues by rule".to_owned(),
        }
    }

    /// Whether `name` (in `home`, for SQS) is `tenant`'s subscriber queue by rule.
    fn is_subscriber_queue(&self, tenant: &TenantId, name: &str, home: Option<&str>) -> bool {
        let Some(prefix) = &self.subscriber_prefix else {
            return false;
        };
        let in_home = match (&self.home, home) {
            (Some(own), Some(theirs)) => own == theirs,
            _ => true,
        };
        in_home && name.strip_prefix(prefix.as_str()) == Some(tenant.as_str())
    }

    /// Classifies `tenant`'s `callback` and checks it against the system-queue rule, the
    /// subscriber-queue rule, the allow-list and the address rules.
    ///
    /// # Errors
    /// A [`CallbackRefusal`] saying why (naming the rule).
    pub fn check(
        &self,
        tenant: &TenantId,
        callback: &str,
    ) -> Result<CallbackTarget, CallbackRefusal> {
        if let Some((home, name)) = sqs_queue_parts(callback) {
            if let Some(refusal) = self.system_queue(callback, &name) {
                return Err(refusal);
            }
            let id = format!("{home}:{name}");
            return if self.allowed.contains(&Allowed::SqsQueue(id))
                || self.is_subscriber_queue(tenant, &name, Some(&home))
            {
                Ok(CallbackTarget::Queue(callback.to_owned()))
            } else {
                Err(self.not_yours(tenant, &name))
            };
        }
        if let Some(name) = callback.strip_prefix(LOCAL_QUEUE_PREFIX) {
            if name.is_empty() {
                return Err(refuse("`local:` names no queue"));
            }
            if let Some(refusal) = self.system_queue(callback, name) {
                return Err(refusal);
            }
            let listed = self.allowed.iter().any(|a| match a {
                Allowed::LocalQueue(None) => true,
                Allowed::LocalQueue(Some(n)) => n == name,
                _ => false,
            });
            return if listed || self.is_subscriber_queue(tenant, name, None) {
                Ok(CallbackTarget::Queue(callback.to_owned()))
            } else {
                Err(self.not_yours(tenant, name))
            };
        }
        self.check_url(callback)
    }

    fn not_yours(&self, tenant: &TenantId, name: &str) -> CallbackRefusal {
        refuse(format!(
            "queue `{name}` is neither tenant {tenant}'s subscriber queue ({}) nor on the \
             deployment's callback allow-list",
            self.rule_text(tenant.as_str())
        ))
    }

    fn check_url(&self, callback: &str) -> Result<CallbackTarget, CallbackRefusal> {
        let url = Url::parse(callback).map_err(|_| {
            refuse("must be an https URL, an SQS queue ARN or URL, or local:<queue>")
        })?;
        let host = url.host().ok_or_else(|| refuse("the URL has no host"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("credentials in the URL are not accepted"));
        }
        let address = match &host {
            Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                (name == "localhost" || name.ends_with(".localhost"))
                    .then_some(IpAddr::V4(Ipv4Addr::LOCALHOST))
            }
            Host::Ipv4(v4) => Some(IpAddr::V4(*v4)),
            Host::Ipv6(v6) => Some(IpAddr::V6(*v6)),
        };
        let loopback = address.is_some_and(|ip| classify(ip) == AddressClass::Loopback);
        match url.scheme() {
            "https" => {}
            "http" if loopback && self.allow_loopback => {}
            _ => return Err(refuse("must be an https URL")),
        }
        if let Some(why) = address.and_then(|ip| self.address_refusal(ip)) {
            return Err(refuse(format!(
                "{why}: callbacks must reach public addresses (IANA special-purpose blocks \
                 are refused)"
            )));
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
mod tests;
