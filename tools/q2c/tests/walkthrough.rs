//! The README's walkthrough is `examples/walkthrough.sh`, shown in README.md verbatim (checked
//! here), and it runs, as printed, against a fresh `q2c local`: ids are captured, the example
//! export is diffed and imported, `q2c listen` prints the quote's state changes with their
//! delivery headers, the order reaches order management and completes, and billing's
//! messages are on screen. Needs bash, curl and python3 (skipped, saying so, without them;
//! failed under `Q2C_REQUIRE_AWS=1`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn script() -> String {
    std::fs::read_to_string(repo().join("examples/walkthrough.sh")).expect("the script")
}

#[test]
fn the_readme_shows_the_walkthrough_script_verbatim() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let fenced = format!("```sh\n{}```\n", script());
    assert!(
        readme.contains(&fenced),
        "README.md must show examples/walkthrough.sh verbatim in a ```sh block"
    );
}

fn has(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The `q2c local` of the test, killed when dropped.
struct Local(Child);

impl Drop for Local {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_walkthrough_runs_as_printed_against_a_fresh_q2c_local() {
    let missing: Vec<&str> = ["bash", "curl", "python3"]
        .into_iter()
        .filter(|tool| !has(tool))
        .collect();
    q2c_testkit::skip_unless!(
        missing.is_empty(),
        format!("the walkthrough needs {}", missing.join(", "))
    );
    let data_dir = tempfile::tempdir().expect("dir");
    let (api, downstream, listener) = (free_port(), free_port(), free_port());
    let binary = env!("CARGO_BIN_EXE_q2c");
    let log = std::fs::File::create(data_dir.path().join("local.log")).expect("log");
    let local = Local(
        Command::new(binary)
            .args(["local", "--addr", &format!("127.0.0.1:{api}")])
            .args(["--downstream-addr", &format!("127.0.0.1:{downstream}")])
            .args(["--downstream-complete-after-ms", "2000"])
            .env("Q2C_DATA_DIR", data_dir.path())
            .env_remove("Q2C_JWT_SECRET")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("q2c local"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", api)).is_err() {
        assert!(Instant::now() < deadline, "q2c local did not start");
        std::thread::sleep(Duration::from_millis(100));
    }

    let output = Command::new("bash")
        .arg(repo().join("examples/walkthrough.sh"))
        .env("Q2C_BIN", binary)
        .env("Q2C_DATA_DIR", data_dir.path())
        .env("Q2C_URL", format!("http://127.0.0.1:{api}"))
        .env(
            "Q2C_ORDER_MANAGEMENT_URL",
            format!("http://127.0.0.1:{downstream}"),
        )
        .env("Q2C_LISTENER_ADDR", format!("127.0.0.1:{listener}"))
        .env_remove("Q2C_JWT_SECRET")
        .output()
        .expect("bash");
    drop(local);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let server_log = std::fs::read_to_string(data_dir.path().join("local.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "the walkthrough failed ({}):\n{stdout}\n--- stderr\n{stderr}\n--- q2c local\n{server_log}",
        output.status
    );
    let context = format!("{stdout}\n--- stderr\n{stderr}");
    for expected in [
        // the catalog export: the new product type created, the old entry stale
        "iot-tracker",
        "stale",
        // q2c listen: both state changes, with their delivery headers
        "x-q2c-eventtype: QuoteStateChangeEvent",
        "\"state\": \"approved\"",
        "\"state\": \"accepted\"",
        // the order downstream and completed, billing's messages
        "\"state\": \"completed\"",
        "\"externalId\":",
        "ProductCreateEvent",
        "ProductOfferingPriceAttributeValueChangeEvent",
    ] {
        assert!(
            context.contains(expected),
            "the walkthrough's output lacks {expected:?}:\n{context}"
        );
    }
    assert_eq!(
        stdout
            .matches("x-q2c-eventtype: QuoteStateChangeEvent")
            .count(),
        2,
        "{context}"
    );
}
