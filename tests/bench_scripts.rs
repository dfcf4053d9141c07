//! The wrk scripts of `tools/bench` count responses correctly: wrk runs `response()` in each
//! thread's Lua state and `done()` in another, so the counts must be gathered per thread
//! (`tools/bench/counters.lua`). Against a server answering 404 (and one mixing 404 with the
//! expected status) the non-2xx count the scripts print must equal wrk's own; against
//! `q2c local` they must report every response as the expected one.
//!
//! Needs wrk on the PATH (Debian package `wrk`; tools/test.sh installs it); skipped with
//! a printed reason without it (failed under `Q2C_REQUIRE_AWS=1`, as tools/test.sh sets).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use q2c_tests::{QUOTES, spawn_configured};
use serde_json::Value;

const NO_WRK: &str = "wrk is not on the PATH: apt-get install wrk (tools/test.sh does)";

/// Whether wrk runs at all.
fn has_wrk() -> bool {
    Command::new("wrk").arg("--version").output().is_ok()
}

/// One wrk run: the script's report (its `q2c-bench:` line) and wrk's own counts.
struct Run {
    report: Value,
    wrk_requests: u64,
    /// wrk's "Non-2xx or 3xx responses" line (statuses > 399; absent means 0).
    wrk_non_2xx: u64,
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../tools/bench/{name}"))
}

/// Runs wrk for one second with `script` against `url` (2 threads, 4 connections).
async fn wrk(script_name: &str, url: String, env: Vec<(&'static str, String)>) -> Run {
    let path = script(script_name);
    let output = tokio::task::spawn_blocking(move || {
        Command::new("wrk")
            .args(["-t2", "-c4", "-d1s", "-s"])
            .arg(&path)
            .arg(&url)
            .envs(env)
            .output()
    })
    .await
    .expect("the wrk task")
    .unwrap_or_else(|e| {
        panic!("running wrk: {e}. Install it (apt-get install wrk); tools/test.sh does")
    });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "wrk failed ({}): {stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let report = stdout
        .lines()
        .find_map(|l| l.strip_prefix("q2c-bench: "))
        .map(|json| serde_json::from_str(json).expect("the report is JSON"))
        .unwrap_or_else(|| panic!("no q2c-bench line in {stdout}"));
    let number_before = |suffix: &str| {
        stdout
            .lines()
            .find_map(|l| {
                l.trim()
                    .split_once(suffix)
                    .map(|(n, _)| n.trim().to_owned())
            })
            .map(|n| n.parse::<u64>().expect("a count"))
    };
    let after = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|n| n.trim().to_owned()))
            .map(|n| n.parse::<u64>().expect("a count"))
    };
    Run {
        report,
        wrk_requests: number_before(" requests in ").expect("wrk's request count"),
        wrk_non_2xx: after("Non-2xx or 3xx responses:").unwrap_or(0),
    }
}

fn count(report: &Value, field: &str) -> u64 {
    report[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {report}"))
}

/// Every wrk thread reported, and the threads' counts add up to the totals.
fn assert_per_thread_sums(report: &Value) {
    let threads = report["threads"].as_array().expect("threads");
    assert_eq!(threads.len(), 2, "one entry per wrk thread: {report}");
    for field in ["responses", "non_2xx", "unexpected_status"] {
        let sum: u64 = threads.iter().map(|t| count(t, field)).sum();
        assert_eq!(sum, count(report, field), "{field} per thread: {report}");
    }
}

/// A loopback server answering `ok` to every `every`th request and 404 to the others
/// (`every` = 0: always 404); returns its base URL and how many 404s it sent.
async fn server(ok: StatusCode, every: u64) -> (String, Arc<AtomicU64>) {
    let seen = Arc::new(AtomicU64::new(0));
    let not_found = Arc::new(AtomicU64::new(0));
    let state = (seen, not_found.clone(), ok, every);
    let app = Router::new()
        .fallback(
            |State((seen, not_found, ok, every)): State<(
                Arc<AtomicU64>,
                Arc<AtomicU64>,
                StatusCode,
                u64,
            )>| async move {
                let n = seen.fetch_add(1, Ordering::Relaxed) + 1;
                if every > 0 && n % every == 0 {
                    ok
                } else {
                    not_found.fetch_add(1, Ordering::Relaxed);
                    StatusCode::NOT_FOUND
                }
            },
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), not_found)
}

fn bench_env(quote_path: &str) -> Vec<(&'static str, String)> {
    vec![
        ("Q2C_BENCH_TOKEN", "not-checked".to_owned()),
        ("Q2C_BENCH_QUOTE", quote_path.to_owned()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_server_answering_404_the_scripts_count_what_wrk_counts() {
    q2c_testkit::skip_unless!(has_wrk(), NO_WRK);
    for (name, expected) in [("post-quote.lua", 201), ("get-quote.lua", 200)] {
        let (base, not_found) = server(StatusCode::CREATED, 0).await;
        let run = wrk(name, format!("{base}/quote"), bench_env("/quote/q-1")).await;
        let report = &run.report;
        let non_2xx = count(report, "non_2xx");
        assert!(non_2xx > 0, "{name}: some requests were answered: {report}");
        assert_eq!(
            non_2xx, run.wrk_non_2xx,
            "{name}: wrk's own count: {report}"
        );
        assert_eq!(non_2xx, run.wrk_requests, "{name}: every response is a 404");
        assert_eq!(count(report, "responses"), run.wrk_requests, "{name}");
        assert_eq!(count(report, "unexpected_status"), non_2xx, "{name}");
        assert_eq!(count(report, "expected_status"), expected, "{name}");
        assert_eq!(report["statuses"]["404"].as_u64(), Some(non_2xx), "{name}");
        assert_eq!(
            report["wrk"]["errors"]["status_over_399"].as_u64(),
            Some(non_2xx),
            "{name}: wrk's summary.errors.status"
        );
        // wrk does not count the responses still in flight when it stops.
        assert!(not_found.load(Ordering::Relaxed) >= non_2xx, "{name}");
        assert_per_thread_sums(report);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_server_mixing_404_with_the_expected_status_only_the_404s_count() {
    q2c_testkit::skip_unless!(has_wrk(), NO_WRK);
    for (name, ok) in [
        ("post-quote.lua", StatusCode::CREATED),
        ("get-quote.lua", StatusCode::OK),
    ] {
        let (base, _) = server(ok, 3).await;
        let run = wrk(name, format!("{base}/quote"), bench_env("/quote/q-1")).await;
        let report = &run.report;
        let responses = count(report, "responses");
        let non_2xx = count(report, "non_2xx");
        assert_eq!(responses, run.wrk_requests, "{name}: {report}");
        assert_eq!(
            non_2xx, run.wrk_non_2xx,
            "{name}: wrk's own count: {report}"
        );
        assert!(
            non_2xx > 0 && non_2xx < responses,
            "{name}: a mix of 404 and {ok}: {report}"
        );
        let oks = report["statuses"][ok.as_u16().to_string()]
            .as_u64()
            .expect("expected statuses counted");
        assert_eq!(oks + non_2xx, responses, "{name}: {report}");
        assert_eq!(count(report, "unexpected_status"), non_2xx, "{name}");
        assert_per_thread_sums(report);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_q2c_local_every_response_is_the_expected_one() {
    q2c_testkit::skip_unless!(has_wrk(), NO_WRK);
    // Quotas off, as the benchmarks run (one tenant's load is past the default 50 requests/s):
    // this test checks the scripts' counting, not the rate limit (tests/api/quotas.rs does).
    let app = spawn_configured(|c| {
        c.quotas.requests_per_second = 0;
        c.quotas.max_open_quotes = 0;
    })
    .await;
    let token = app.admin("bench");
    let quote = app.created_quote(&token, "mobile-l").await;
    let quote_path = format!("{QUOTES}/quote/{}", quote["id"].as_str().expect("id"));
    let env = vec![
        ("Q2C_BENCH_TOKEN", token.clone()),
        ("Q2C_BENCH_QUOTE", quote_path),
    ];

    let post = wrk(
        "post-quote.lua",
        format!("{}{QUOTES}/quote", app.base),
        env.clone(),
    )
    .await;
    let get = wrk("get-quote.lua", app.base.clone(), env).await;
    for (run, status) in [(&post, "201"), (&get, "200")] {
        let report = &run.report;
        let responses = count(report, "responses");
        assert!(responses > 0, "{report}");
        assert_eq!(responses, run.wrk_requests, "{report}");
        assert_eq!(count(report, "non_2xx"), 0, "{report}");
        assert_eq!(count(report, "unexpected_status"), 0, "{report}");
        assert_eq!(run.wrk_non_2xx, 0);
        assert_eq!(report["statuses"][status].as_u64(), Some(responses));
        assert_per_thread_sums(report);
    }
}
