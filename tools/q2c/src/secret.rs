//! The local token-signing secret: `Q2C_JWT_SECRET` when set, else generated on first start
//! and kept in the data directory (readable by its owner only), so `q2c token` and a running
//! `q2c local` with the same `--data-dir` agree.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Name of the secret file inside the data directory.
pub const SECRET_FILE: &str = "jwt-secret";

/// The signing secret for `data_dir`.
///
/// # Errors
/// When the data directory or the secret file cannot be created or read.
pub fn signing_secret(env_secret: Option<String>, data_dir: &Path) -> anyhow::Result<String> {
    if let Some(secret) = env_secret.filter(|s| !s.is_empty()) {
        return Ok(secret);
    }
    let path = data_dir.join(SECRET_FILE);
    if let Ok(existing) = fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            return Ok(existing);
        }
    }
    fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(secret)
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(fs::read_to_string(&path)?.trim().to_owned())
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

/// The signing secret of a `q2c local` that already ran on `data_dir` (or `Q2C_JWT_SECRET`):
/// what `q2c token` signs with. Never creates one, so a token minted for the wrong
/// directory is refused here rather than silently signed with a new secret.
///
/// # Errors
/// When the directory has no secret, naming it and how to choose the right one.
pub fn existing_signing_secret(
    env_secret: Option<String>,
    data_dir: &Path,
) -> anyhow::Result<String> {
    if let Some(secret) = env_secret.filter(|s| !s.is_empty()) {
        return Ok(secret);
    }
    let path = data_dir.join(SECRET_FILE);
    match fs::read_to_string(&path) {
        Ok(existing) if !existing.trim().is_empty() => Ok(existing.trim().to_owned()),
        _ => anyhow::bail!(
            "no signing secret in {} (no {SECRET_FILE} file): `q2c local` creates it on first \
             start. Start it with this data directory, or name the one it printed (\"data dir:\") \
             with --data-dir or {}; with Q2C_JWT_SECRET set, both use that secret instead",
            q2c_embedded::data_dir::shown(data_dir),
            q2c_embedded::data_dir::VARIABLE
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_for_a_directory_without_a_secret_is_refused_not_signed_with_a_new_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let error = existing_signing_secret(None, dir.path())
            .expect_err("no secret yet")
            .to_string();
        assert!(error.contains("no signing secret in"), "{error}");
        assert!(error.contains("--data-dir"), "{error}");
        assert!(!dir.path().join(SECRET_FILE).exists(), "nothing created");
        let generated = signing_secret(None, dir.path()).expect("q2c local creates it");
        assert_eq!(
            existing_signing_secret(None, dir.path()).expect("now there"),
            generated
        );
        assert_eq!(
            existing_signing_secret(Some("env".into()), dir.path()).expect("env"),
            "env"
        );
    }

    #[test]
    fn the_environment_secret_wins_over_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let generated = signing_secret(None, dir.path()).expect("generated");
        let from_env = signing_secret(Some("from-env".into()), dir.path()).expect("env");
        assert_eq!(from_env, "from-env");
        assert_ne!(generated, from_env);
    }

    #[test]
    fn a_generated_secret_is_kept_and_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = signing_secret(None, dir.path()).expect("first");
        let second = signing_secret(None, dir.path()).expect("second");
        assert_eq!(first, second);
        assert_eq!(first.len(), 64);
    }

    #[cfg(unix)]
    #[test]
    fn the_secret_file_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        signing_secret(None, dir.path()).expect("generated");
        let mode = fs::metadata(dir.path().join(SECRET_FILE))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
