use super::*;
use crate::messaging::{dlq_name, queues};
use crate::testing::tenant;

const ACCOUNT: &str = "123456789012";
const PRICING_URL: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/q2c-pricing-changes";
const CRM_ARN: &str = "arn:aws:sqs:eu-west-1:123456789012:crm-events";
const CRM_URL: &str = "https://sqs.eu-west-1.amazonaws.com/123456789012/crm-events";

/// The policy of a stack `q2c-` with a foreign queue and two URL prefixes allowed.
fn deployment() -> CallbackPolicy {
    CallbackPolicy::for_deployment(
        &format!("{CRM_ARN}, https://hooks.example.com/q2c/,https://crm.example.net"),
        PRICING_URL,
        None,
    )
    .expect("valid allow-list")
}

fn arn(name: &str) -> String {
    format!("arn:aws:sqs:eu-west-1:{ACCOUNT}:{name}")
}

fn sqs_url(name: &str) -> String {
    format!("https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/{name}")
}

#[test]
fn a_listed_queue_is_allowed_by_its_arn_or_url_and_only_that_queue() {
    let p = deployment();
    let acme = tenant("acme");
    assert_eq!(
        p.check(&acme, CRM_ARN),
        Ok(CallbackTarget::Queue(CRM_ARN.into()))
    );
    assert_eq!(
        p.check(&acme, CRM_URL),
        Ok(CallbackTarget::Queue(CRM_URL.into()))
    );
    assert!(p.check(&acme, &arn("other")).is_err());
    assert!(
        p.check(&acme, "arn:aws:sqs:eu-west-1:999999999999:crm-events")
            .is_err()
    );
}

/// Every system queue and its DLQ, in every form a callback can take, on both policies.
#[test]
fn system_queues_and_every_dlq_are_refused_in_every_form_whatever_the_allow_list() {
    let acme = tenant("acme");
    let local = CallbackPolicy::local().allow("local:*").expect("wildcard");
    let aws = deployment();
    for queue in queues::SYSTEM {
        for name in [queue.to_owned(), dlq_name(queue)] {
            let refusal = local
                .check(&acme, &format!("local:{name}"))
                .expect_err("a local system queue");
            assert!(refusal.0.contains("system queue"), "{refusal}");
            for callback in [
                arn(&format!("q2c-{name}")),
                sqs_url(&format!("q2c-{name}")),
                arn(&name),
                sqs_url(&name),
            ] {
                let refusal = aws.check(&acme, &callback).expect_err(&callback);
                assert!(refusal.0.contains("system queue"), "{callback}: {refusal}");
                assert!(refusal.0.contains("q2c-subscriber-<tenant>"), "{refusal}");
            }
            // Listing one is a configuration error, not a way round the rule.
            let listed = format!("local:{name}");
            assert!(CallbackPolicy::local().allow(&listed).is_err(), "{listed}");
            assert!(CallbackPolicy::from_allowlist(&arn(&name)).is_err());
        }
    }
    // Any dead-letter queue, and a FIFO spelling, is the system's too.
    for name in ["tenant-dlq", "subscriber-acme-dlq", "q2c-orders.fifo"] {
        assert!(aws.check(&acme, &arn(name)).is_err(), "{name}");
    }
}

#[test]
fn subscriber_queues_by_rule_are_the_tenants_own() {
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    let local = CallbackPolicy::local();
    assert_eq!(
        local.check(&acme, "local:subscriber-acme"),
        Ok(CallbackTarget::Queue("local:subscriber-acme".into()))
    );
    let refusal = local
        .check(&globex, "local:subscriber-acme")
        .expect_err("another tenant's queue");
    assert!(refusal.0.contains("subscriber-globex"), "{refusal}");
    assert!(local.check(&acme, "local:subscriber-acme-2").is_err());
    assert!(local.check(&acme, "local:anything").is_err());

    let aws = deployment();
    assert!(aws.check(&acme, &arn("q2c-subscriber-acme")).is_ok());
    assert!(aws.check(&acme, &sqs_url("q2c-subscriber-acme")).is_ok());
    assert!(aws.check(&globex, &arn("q2c-subscriber-acme")).is_err());
    assert!(
        aws.check(
            &acme,
            "arn:aws:sqs:eu-west-1:999999999999:q2c-subscriber-acme"
        )
        .is_err(),
        "another account"
    );
    assert!(
        aws.check(
            &acme,
            "arn:aws:sqs:us-east-1:123456789012:q2c-subscriber-acme"
        )
        .is_err(),
        "another region"
    );
    let no_rule = CallbackPolicy::for_deployment("", PRICING_URL, Some("")).expect("valid");
    assert!(no_rule.check(&acme, &arn("q2c-subscriber-acme")).is_err());
}

#[test]
fn the_deployment_queue_gives_the_prefix_and_must_be_a_system_queue() {
    let moto = CallbackPolicy::for_deployment(
        "",
        "http://127.0.0.1:5055/000000000000/t1-quote-events",
        Some("t1-subscriber-"),
    )
    .expect("a moto URL");
    let acme = tenant("acme");
    assert!(moto.check(&acme, &arn("t1-billing-updates")).is_err());
    assert!(moto.check(&acme, &arn("t1-subscriber-acme")).is_ok());
    assert!(CallbackPolicy::for_deployment("", &sqs_url("crm-events"), None).is_err());
}

#[test]
fn url_prefixes_match_at_a_boundary_only() {
    let p = deployment();
    let t = tenant("acme");
    assert!(matches!(
        p.check(&t, "https://hooks.example.com/q2c/events"),
        Ok(CallbackTarget::Http(_))
    ));
    assert!(p.check(&t, "https://crm.example.net/listener").is_ok());
    assert!(p.check(&t, "https://crm.example.net:8443/listener").is_ok());
    for (url, why) in [
        ("https://crm.example.net.evil.org/x", "host extension"),
        ("https://hooks.example.com/other", "outside the path"),
        ("http://crm.example.net/listener", "plain http"),
        ("https://user:pw@crm.example.net/x", "credentials"),
    ] {
        assert!(p.check(&t, url).is_err(), "{why}");
    }
}

#[test]
fn local_mode_allows_loopback_over_http_and_listed_embedded_queues() {
    let p = CallbackPolicy::local()
        .allow("local:crm-sink")
        .expect("entry");
    let t = tenant("acme");
    assert!(p.check(&t, "http://127.0.0.1:9000/listener").is_ok());
    assert!(p.check(&t, "http://localhost:9000/listener").is_ok());
    assert!(p.check(&t, "local:crm-sink").is_ok());
    assert!(p.check(&t, "http://10.1.2.3/listener").is_err());
    assert!(p.check(&t, "http://example.com/listener").is_err());
}

#[test]
fn unknown_forms_are_refused_and_nothing_is_allowed_by_default() {
    let p = CallbackPolicy::deny_all();
    let t = tenant("acme");
    for callback in [
        CRM_ARN,
        "local:x",
        "local:subscriber-acme",
        "https://example.com",
        "ftp://x",
        "not a url",
        "local:",
    ] {
        assert!(p.check(&t, callback).is_err(), "{callback}");
    }
    assert!(CallbackPolicy::from_allowlist("ftp://x").is_err());
}

/// A sample address of every refused IPv4 block (loopback separately).
const SPECIAL_V4: &[&str] = &[
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.5",
    "100.64.1.1",
    "100.127.255.254",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.254",
    "192.0.0.9",
    "192.0.0.170",
    "192.0.2.1",
    "192.31.196.1",
    "192.52.193.1",
    "192.88.99.1",
    "192.168.1.1",
    "192.175.48.1",
    "198.18.0.1",
    "198.19.255.254",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
];

/// A sample of every refused IPv6 block, the IPv4-embedding forms with private, loopback,
/// link-local and public IPv4 inside.
const SPECIAL_V6: &[&str] = &[
    "::",
    "::a00:5",
    "::10.0.0.5",
    "::127.0.0.1",
    "::169.254.169.254",
    "::8.8.8.8",
    "::ffff:93.184.216.34",
    "64:ff9b::a00:5",
    "64:ff9b::10.0.0.5",
    "64:ff9b::127.0.0.1",
    "64:ff9b::169.254.169.254",
    "64:ff9b::8.8.8.8",
    "64:ff9b:1::a00:5",
    "64:ff9b:1:ffff::7f00:1",
    "100::1",
    "100:0:0:1::1",
    "2001::1",
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",
    "2001:1::1",
    "2001:2::1",
    "2001:3::1",
    "2001:4:112::1",
    "2001:10::1",
    "2001:20::1",
    "2001:30::1",
    "2001:db8::1",
    "2002:a00:5::1",
    "2002:7f00:1::1",
    "2002:a9fe:a9fe::1",
    "2002:5db8:d822::1",
    "2620:4f:8000::1",
    "3fff::1",
    "5f00::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "febf::1",
    "fec0::1",
    "ff02::1",
    "4000::1",
    "1::1",
];

const LOOPBACK_V4: &[&str] = &["127.0.0.1", "127.1.2.3", "127.255.255.254"];

/// The textual forms of an IPv4 address a URL host can take: dotted, decimal, octal and
/// hex (per part and whole, as the WHATWG URL parser accepts them), IPv4-mapped (dotted
/// and hex, short and full).
fn v4_forms(dotted: &str) -> Vec<String> {
    let ip: Ipv4Addr = dotted.parse().expect("IPv4");
    let [a, b, c, d] = ip.octets();
    let n = u32::from(ip);
    let (hi, lo) = (n >> 16, n & 0xffff);
    vec![
        dotted.to_owned(),
        n.to_string(),
        format!("0{a:o}.0{b:o}.0{c:o}.0{d:o}"),
        format!("0{n:o}"),
        format!("0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}"),
        format!("0x{n:08X}"),
        format!(
            "{a}.{}",
            u32::from(b) << 16 | u32::from(c) << 8 | u32::from(d)
        ),
        format!("[::ffff:{dotted}]"),
        format!("[::FFFF:{hi:x}:{lo:x}]"),
        format!("[0:0:0:0:0:ffff:{dotted}]"),
        format!("[0000:0000:0000:0000:0000:ffff:{hi:04x}:{lo:04x}]"),
    ]
}

/// Bracketed IPv6 forms: as written, fully expanded, upper case.
fn v6_forms(text: &str) -> Vec<String> {
    let ip: Ipv6Addr = text.parse().expect("IPv6");
    let full = ip
        .segments()
        .iter()
        .map(|s| format!("{s:04x}"))
        .collect::<Vec<_>>()
        .join(":");
    vec![
        format!("[{text}]"),
        format!("[{full}]"),
        format!("[{}]", text.to_ascii_uppercase()),
    ]
}

fn refused_by_address(policy: &CallbackPolicy, host: &str) {
    let url = format!("https://{host}/hook");
    let refusal = policy
        .check(&tenant("acme"), &url)
        .expect_err(&format!("{url} must be refused"));
    assert!(refusal.0.contains("address"), "{url}: {refusal}");
}

/// Policies that list every URL, so that only the address rules can refuse.
fn listing_everything() -> [(&'static str, CallbackPolicy); 2] {
    let hosts: Vec<String> = SPECIAL_V4
        .iter()
        .chain(LOOPBACK_V4)
        .flat_map(|ip| v4_forms(ip))
        .chain(SPECIAL_V6.iter().flat_map(|ip| v6_forms(ip)))
        .map(|host| format!("https://{host}"))
        .collect();
    let list = hosts.join(",");
    [
        (
            "aws",
            CallbackPolicy::for_deployment(&list, PRICING_URL, None).expect("list"),
        ),
        (
            "local",
            CallbackPolicy::local().allow_all(&list).expect("list"),
        ),
    ]
}

#[test]
fn every_special_purpose_block_is_refused_in_every_textual_form_on_both_policies() {
    for (name, policy) in listing_everything() {
        for ip in SPECIAL_V4 {
            for host in v4_forms(ip) {
                refused_by_address(&policy, &host);
            }
        }
        for ip in SPECIAL_V6 {
            for host in v6_forms(ip) {
                refused_by_address(&policy, &host);
            }
        }
        // The private-use opt-in admits private-use blocks only, never link-local or
        // the embedding forms.
        let private = policy.clone().allowing_private();
        assert!(
            private
                .check(&tenant("acme"), "https://10.0.0.5/hook")
                .is_ok(),
            "{name}"
        );
        for host in [
            "169.254.169.254",
            "[64:ff9b::a00:5]",
            "[2002:a00:5::1]",
            "100.64.1.1",
        ] {
            refused_by_address(&private, host);
        }
    }
}

#[test]
fn loopback_is_refused_on_aws_and_allowed_locally_in_every_form() {
    let [(_, aws), (_, local)] = listing_everything();
    for ip in LOOPBACK_V4 {
        for host in v4_forms(ip) {
            refused_by_address(&aws, &host);
            let url = format!("https://{host}/hook");
            assert!(local.check(&tenant("acme"), &url).is_ok(), "{url}");
        }
    }
    for host in ["[::1]", "[0:0:0:0:0:0:0:1]", "localhost", "api.localhost"] {
        let url = format!("https://{host}/hook");
        assert!(aws.check(&tenant("acme"), &url).is_err(), "{url}");
    }
}

/// The resolver's view: every address a name resolves to, judged by `address_allowed`.
#[test]
fn resolved_addresses_are_judged_like_literal_ones() {
    let [(_, aws), (_, local)] = listing_everything();
    for text in SPECIAL_V4.iter().chain(SPECIAL_V6) {
        let ip: IpAddr = text.parse().expect("ip");
        assert!(is_forbidden_address(ip), "{ip}");
        assert!(!aws.address_allowed(ip), "aws {ip}");
        assert!(!local.address_allowed(ip), "local {ip}");
    }
    for text in LOOPBACK_V4.iter().chain(&["::1", "::ffff:127.0.0.1"]) {
        let ip: IpAddr = text.parse().expect("ip");
        assert!(!aws.address_allowed(ip), "aws {ip}");
        assert!(local.address_allowed(ip), "local {ip}");
    }
    for public in [
        "93.184.216.34",
        "8.8.8.8",
        "2606:2800:220:1:248:1893:25c8:1946",
        "2a00:1450:4001:80b::200e",
    ] {
        let ip: IpAddr = public.parse().expect("ip");
        assert_eq!(classify(ip), AddressClass::Public, "{ip}");
        assert!(aws.address_allowed(ip) && local.address_allowed(ip), "{ip}");
    }
}

#[test]
fn public_literal_hosts_on_the_list_pass() {
    let p = CallbackPolicy::for_deployment(
        "https://93.184.216.34,https://[2606:2800:220:1:248:1893:25c8:1946]",
        PRICING_URL,
        None,
    )
    .expect("list");
    let t = tenant("acme");
    assert!(p.check(&t, "https://93.184.216.34/hook").is_ok());
    assert!(
        p.check(&t, "https://[2606:2800:220:1:248:1893:25c8:1946]/hook")
            .is_ok()
    );
}
