//! Peak RSS of `q2c local` under the hostile suite (issue 14; the goal is under 512 MB; a
//! measurement, not a test). Starts the given `q2c` binary (a release build) as a child
//! process on a free port with a fresh data directory, runs `q2c_tests::hostile::run`
//! against it with `LARGE` 300-line quotes, samples the child's `VmHWM` (peak resident set,
//! Linux) until every accepted quote's order has reached the fake order management, and
//! prints it with the suite's result and the pipeline's.
//!
//! ```sh
//! cargo build --release -p q2c
//! cargo run --release -p q2c-tests --example hostile_rss -- target/release/q2c 100
//! ```

use std::process::Stdio;
use std::time::{Duration, Instant};

use q2c_tests::hostile::{self, Target};

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let binary = args
        .next()
        .unwrap_or_else(|| "target/release/q2c".to_owned());
    let large: usize = args.next().map_or(Ok(100), |n| n.parse())?;
    let data_dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let downstream = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let secret = format!("hostile-rss-{}", std::process::id());
    let mut child = tokio::process::Command::new(&binary)
        .args(["local", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--downstream-addr", &format!("127.0.0.1:{downstream}")])
        // Quotas off, as in tests/api/hostile.rs: the suite measures the resource limits.
        .args([
            "--tenant-requests-per-second",
            "0",
            "--max-open-quotes",
            "0",
        ])
        .arg("--data-dir")
        .arg(data_dir.path())
        .env("Q2C_JWT_SECRET", &secret)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().ok_or_else(|| anyhow::anyhow!("no child pid"))?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let started = Instant::now();
    while client.get(format!("{base}/health")).send().await.is_err() {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "q2c local did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let idle = peak_rss_kib(pid).unwrap_or_default();

    // Sample the peak while the suite runs (VmHWM is the kernel's own high-water mark; the
    // samples only show how it grew).
    let sampler = tokio::spawn(async move {
        let mut samples = Vec::new();
        while let Some(kib) = peak_rss_kib(pid) {
            samples.push(kib);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        samples
    });
    let target = Target {
        base,
        secret,
        data_dir: data_dir.path().to_owned(),
        client,
    };
    let run = Instant::now();
    let report = hostile::run(&target, large).await;
    let elapsed = run.elapsed();
    // The pipeline too: the other tenant's events and every accepted quote's order (the
    // large ones' ~340 KB order events included) go through the relay and the consumers.
    let pipeline = hostile::pipeline_problems(
        data_dir.path(),
        "alice",
        &report.accepted_quotes,
        Duration::from_secs(600),
    )
    .await;
    let drained = run.elapsed();
    let peak = peak_rss_kib(pid).unwrap_or_default();
    child.kill().await?;
    let samples = sampler.await?;

    let mut problems = report.problems();
    problems.extend(pipeline);
    println!("q2c local: {binary}, {large} large quotes");
    println!(
        "requests: {} hostile ({} refused with a 4xx), {} normal, {} quotes accepted, in {:.1} s",
        report.hostile.len(),
        report.hostile.iter().filter(|o| o.status >= 400).count(),
        report.normal.len(),
        report.accepted_quotes.len(),
        elapsed.as_secs_f64()
    );
    println!(
        "every order dispatched and every event published {:.1} s after the start",
        drained.as_secs_f64()
    );
    println!(
        "peak RSS (VmHWM): {:.1} MiB (idle after start: {:.1} MiB; samples every second: {} taken)",
        peak as f64 / 1024.0,
        idle as f64 / 1024.0,
        samples.len()
    );
    println!("problems: {}", problems.len());
    for problem in &problems {
        println!("  {problem}");
    }
    anyhow::ensure!(problems.is_empty(), "the suite found problems");
    Ok(())
}
