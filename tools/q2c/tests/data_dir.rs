//! One data directory, found the same way by every command (`--data-dir`, then
//! `Q2C_DATA_DIR`, then the per-user default); commands that only read refuse a directory
//! without a database; a token signed with another secret is answered with how to mint a
//! matching one; a busy port names the flag to change.

use std::path::Path;
use std::process::{Command, Output};

use q2c_api::{JwtKey, JwtVerifier};
use q2c_embedded::local::{LocalConfig, start};
use serde_json::Value;

mod local_common;

fn q2c(args: &[&str], data_dir_env: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_q2c"));
    command
        .args(args)
        .env_remove("Q2C_DATA_DIR")
        .env_remove("Q2C_JWT_SECRET");
    if let Some(dir) = data_dir_env {
        command.env("Q2C_DATA_DIR", dir);
    }
    command.output().expect("run q2c")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn verifies(token: &str, secret: &str) -> bool {
    JwtVerifier::new(
        JwtKey::Hs256Secret(secret.as_bytes().to_vec()),
        q2c_embedded::local::LOCAL_ISSUER,
        q2c_embedded::local::LOCAL_AUDIENCE,
    )
    .expect("verifier")
    .verify(token)
    .is_ok()
}

#[test]
fn token_signs_with_the_flag_s_directory_then_the_variable_s_and_never_creates_a_secret() {
    let (flag_dir, env_dir, empty) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    // What `q2c local` does on first start in each directory.
    let flag_secret = q2c::secret::signing_secret(None, flag_dir.path()).expect("secret");
    let env_secret = q2c::secret::signing_secret(None, env_dir.path()).expect("secret");

    let token_of = |output: Output| {
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout)
            .expect("utf-8")
            .trim()
            .to_owned()
    };
    let from_env = token_of(q2c(&["token"], Some(env_dir.path())));
    assert!(verifies(&from_env, &env_secret), "Q2C_DATA_DIR is used");
    let flag = flag_dir.path().to_str().expect("utf-8 path");
    let from_flag = token_of(q2c(&["token", "--data-dir", flag], Some(env_dir.path())));
    assert!(verifies(&from_flag, &flag_secret), "--data-dir wins");
    assert!(!verifies(&from_flag, &env_secret));

    let refused = q2c(
        &["token", "--data-dir", empty.path().to_str().expect("utf-8")],
        None,
    );
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert!(message.contains("no signing secret in"), "{message}");
    assert!(message.contains("Q2C_DATA_DIR"), "{message}");
    assert!(
        std::fs::read_dir(empty.path())
            .expect("list")
            .next()
            .is_none(),
        "nothing was created in {}",
        empty.path().display()
    );
}

#[test]
fn commands_that_only_read_refuse_a_directory_without_a_database_and_create_nothing() {
    let parent = tempfile::tempdir().expect("dir");
    let typo = parent.path().join("typo");
    let typo_arg = typo.to_str().expect("utf-8");
    let catalog = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/model/data/sample-catalog.json"
    );
    for args in [
        vec!["catalog", "diff", "--file", catalog, "--data-dir", typo_arg],
        vec![
            "queue",
            "tail",
            "billing-updates",
            "--once",
            "--data-dir",
            typo_arg,
        ],
        vec!["dlq", "list", "--data-dir", typo_arg],
        vec![
            "catalog",
            "price-change",
            "--price",
            "mobile-l-monthly",
            "--value",
            "1",
            "--data-dir",
            typo_arg,
        ],
    ] {
        let output = q2c(&args, None);
        assert!(!output.status.success(), "{args:?} succeeded");
        let message = stderr(&output);
        assert!(
            message.contains("no q2c database in"),
            "{args:?}: {message}"
        );
        assert!(message.contains("--data-dir"), "{args:?}: {message}");
        assert!(!typo.exists(), "{args:?} created {}", typo.display());
    }
}

fn config(data_dir: &Path, secret: &str) -> LocalConfig {
    LocalConfig {
        consumers: false,
        ..LocalConfig::with_defaults(
            "127.0.0.1:0".parse().expect("address"),
            data_dir.to_owned(),
            secret.into(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_with_another_secret_is_answered_with_how_to_mint_a_matching_one() {
    let data_dir = tempfile::tempdir().expect("dir");
    let app = start(&config(data_dir.path(), "the-server-secret"))
        .await
        .expect("start");
    let url = app.public_url().to_owned();
    let serving = app.spawn();

    let foreign = local_common::token("another-secret", "demo");
    let response = reqwest::Client::new()
        .get(format!("{url}/tmf-api/quoteManagement/v4/quote"))
        .bearer_auth(foreign)
        .send()
        .await
        .expect("GET /quote");
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.expect("a TMF630 body");
    assert_eq!(body["code"], "UNAUTHORIZED");
    let message = body["message"].as_str().expect("message");
    assert!(message.contains("signed with another secret"), "{message}");
    let expected = format!(
        "q2c token --data-dir {}",
        std::path::absolute(data_dir.path())
            .expect("absolute")
            .display()
    );
    assert!(message.contains(&expected), "{message}");
    assert!(!message.contains("InvalidSignature"), "{message}");

    serving.stop().await.expect("served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_api_port_names_the_flag_and_a_busy_fake_order_management_moves_to_a_free_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken_addr = taken.local_addr().expect("addr");
    let data_dir = tempfile::tempdir().expect("dir");

    let busy_api = LocalConfig {
        addr: taken_addr,
        ..config(data_dir.path(), "s")
    };
    let error = start(&busy_api).await.err().expect("the port is taken");
    let message = format!("{error:#}");
    assert!(message.contains("already in use"), "{message}");
    assert!(message.contains("--addr"), "{message}");

    let busy_fake = LocalConfig {
        consumers: true,
        downstream_addr: taken_addr,
        ..config(data_dir.path(), "s")
    };
    let app = start(&busy_fake).await.expect("starts on another port");
    let fake_url = app.downstream_url().to_owned();
    assert_ne!(fake_url, format!("http://{taken_addr}"));
    assert!(fake_url.starts_with("http://127.0.0.1:"), "{fake_url}");
    let serving = app.spawn();
    let listed = reqwest::get(format!("{fake_url}/productOrder"))
        .await
        .expect("the fake answers on its new port");
    assert_eq!(listed.status(), 200);
    serving.stop().await.expect("served");
    drop(taken);
}
