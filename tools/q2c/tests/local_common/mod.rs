//! A `q2c local` for the tests: the real binary as a child process ([`spawn`]), or the system
//! in-process on a fresh data directory ([`Local`]), with an HTTP client holding a token.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use q2c_embedded::local::{LocalConfig, Serving, dev_token, start};
use q2c_local::{SqliteQueues, SqliteStore};
use serde_json::Value;

/// A `q2c local` child process: its base URL (`http://host:port`) and where it dispatches
/// orders (the banner's `orders to:` line).
pub struct Spawned {
    /// The process.
    pub child: Child,
    /// The API's base URL.
    pub url: String,
    /// Order management's base URL (the in-process fake's unless --downstream-url).
    pub downstream: String,
}

/// Starts the `q2c` binary as `q2c local --addr 127.0.0.1:0 --data-dir <data_dir> <flags>`,
/// signing with `secret`, and reads its banner up to the `orders to:` line; the rest of its
/// output is drained so the child never blocks on a full pipe.
pub fn spawn(data_dir: &Path, flags: &[&str], secret: &str) -> Spawned {
    let mut child = Command::new(env!("CARGO_BIN_EXE_q2c"))
        .args(["local", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(flags)
        .env("Q2C_JWT_SECRET", secret)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("q2c local starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url_in = |line: &str| {
        line.split_whitespace()
            .find(|word| word.starts_with("http://"))
            .map(str::to_owned)
    };
    let first = lines.next().expect("a ready line").expect("readable");
    let url = url_in(&first).expect("the ready line names the URL");
    let downstream = loop {
        let line = lines
            .next()
            .expect("an `orders to:` line")
            .expect("readable");
        if let Some(to) = line.trim_start().strip_prefix("orders to:") {
            break url_in(to).unwrap_or_default();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Spawned {
        child,
        url,
        downstream,
    }
}

/// A development token of every scope for `tenant`, signed with `secret`, valid ten minutes.
pub fn token(secret: &str, tenant: &str) -> String {
    dev_token(
        secret,
        tenant,
        &q2c_service::Scope::ALL,
        Duration::from_secs(600),
    )
    .expect("token")
}

/// `method url` with `token` and an optional JSON body (a merge patch for PATCH): the status
/// and the JSON answered (`Null` when none).
pub async fn call(
    http: &reqwest::Client,
    token: &str,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http.request(method.clone(), url).bearer_auth(token);
    if let Some(body) = body {
        let content_type = if method == reqwest::Method::PATCH {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        request = request
            .header("Content-Type", content_type)
            .body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The whole system in-process on a fresh data directory, serving on a free port, with a
/// token of every scope for one tenant.
pub struct Local {
    /// The API's base URL.
    pub url: String,
    /// Order management's base URL.
    pub downstream: String,
    /// The data directory (removed when dropped).
    pub data_dir: tempfile::TempDir,
    /// The client.
    pub http: reqwest::Client,
    /// A token of every scope for the tenant.
    pub token: String,
    serving: Serving,
}

impl Local {
    /// Starts with the defaults of `q2c local`, signing with `secret`, changed by `configure`;
    /// the token is for `tenant`.
    pub async fn start(
        secret: &str,
        tenant: &str,
        configure: impl FnOnce(&mut LocalConfig),
    ) -> Local {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = LocalConfig::with_defaults(
            "127.0.0.1:0".parse().expect("address"),
            data_dir.path().to_owned(),
            secret.into(),
        );
        configure(&mut config);
        let app = start(&config).await.expect("start");
        let url = app.public_url().to_owned();
        let downstream = app.downstream_url().to_owned();
        let token = token(secret, tenant);
        Local {
            url,
            downstream,
            data_dir,
            http: reqwest::Client::new(),
            token,
            serving: app.spawn(),
        }
    }

    /// `method path` (on the API's base URL): the status and JSON answered.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        call(
            &self.http,
            &self.token,
            method,
            &format!("{}{path}", self.url),
            body,
        )
        .await
    }

    /// `method path`, which must succeed: the JSON answered.
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let (status, answered) = self.call(method.clone(), path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answered}"
        );
        answered
    }

    /// `GET path`, which must succeed: the JSON answered.
    pub async fn get(&self, path: &str) -> Value {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// Moves the quote at `path` through `states` (`PATCH {"state": …}` each), every step
    /// succeeding.
    pub async fn patch_states(&self, path: &str, states: &[&str]) {
        for state in states {
            let patch = serde_json::json!({ "state": state });
            self.send(reqwest::Method::PATCH, path, Some(patch)).await;
        }
    }

    /// The data directory's database, opened as another client would.
    pub fn store(&self) -> SqliteStore {
        SqliteStore::open(
            &self
                .data_dir
                .path()
                .join(q2c_embedded::data_dir::DATABASE_FILE),
        )
        .expect("open database")
    }

    /// The embedded queues of the data directory.
    pub fn queues(&self) -> SqliteQueues {
        SqliteQueues::new(&self.store())
    }

    /// Stops as on Ctrl-C and waits until it has.
    pub async fn stop(self) {
        self.serving.stop().await.expect("served");
    }
}

/// What the fake order management at `downstream` received (its `GET /productOrder` listing,
/// one entry per order) and how many POSTs it answered in all.
pub async fn fake_orders(downstream: &str) -> (Vec<Value>, u64) {
    let response = reqwest::get(format!("{downstream}/productOrder"))
        .await
        .expect("fake order management");
    let total = response.headers()["x-total-posts"]
        .to_str()
        .expect("text")
        .parse()
        .expect("a number");
    (response.json().await.expect("JSON"), total)
}
