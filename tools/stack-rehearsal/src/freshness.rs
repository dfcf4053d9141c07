//! Whether a built bootstrap is older than its sources: the sources of the function's crate and
//! of the workspace crates it really depends on (its path dependencies, transitively, without
//! dev-dependencies), as `cargo metadata` reports them. Editing a shared crate the function
//! does not use leaves its bootstrap fresh.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

use serde::Deserialize;

/// The part of `cargo metadata --no-deps` read here.
#[derive(Debug, Deserialize)]
struct Metadata {
    packages: Vec<Package>,
}

#[derive(Debug, Deserialize)]
struct Package {
    manifest_path: PathBuf,
    dependencies: Vec<Dependency>,
}

#[derive(Debug, Deserialize)]
struct Dependency {
    /// `null` for a normal dependency, else `"dev"` or `"build"`.
    kind: Option<String>,
    /// Set for a path dependency (every workspace crate).
    path: Option<PathBuf>,
}

/// Each workspace crate's directory → the directories of its path dependencies (normal and
/// build). `None` when cargo could not be asked; read once per process.
fn workspace_graph(root: &Path) -> Option<&'static HashMap<PathBuf, Vec<PathBuf>>> {
    static GRAPH: OnceLock<Option<HashMap<PathBuf, Vec<PathBuf>>>> = OnceLock::new();
    GRAPH
        .get_or_init(|| {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let output = Command::new(cargo)
                .args([
                    "metadata",
                    "--format-version",
                    "1",
                    "--no-deps",
                    "--offline",
                ])
                .current_dir(root)
                .output()
                .ok()
                .filter(|o| o.status.success())?;
            let metadata: Metadata = serde_json::from_slice(&output.stdout).ok()?;
            Some(
                metadata
                    .packages
                    .into_iter()
                    .filter_map(|package| {
                        let dir = canonical(package.manifest_path.parent()?);
                        let deps = package
                            .dependencies
                            .into_iter()
                            .filter(|d| d.kind.as_deref() != Some("dev"))
                            .filter_map(|d| d.path.map(|p| canonical(&p)))
                            .collect();
                        Some((dir, deps))
                    })
                    .collect(),
            )
        })
        .as_ref()
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// The source directories a bootstrap built from the crate in `crate_dir` depends on: that
/// directory and those of its path dependencies, transitively. When cargo cannot be asked,
/// conservatively the crate and every shared crate (`shared/`).
pub(crate) fn source_dirs(root: &Path, crate_dir: &Path) -> Vec<PathBuf> {
    let Some(graph) = workspace_graph(root) else {
        return vec![crate_dir.to_path_buf(), root.join("shared")];
    };
    let mut seen = BTreeSet::new();
    let mut pending = vec![canonical(crate_dir)];
    while let Some(dir) = pending.pop() {
        if let Some(deps) = graph.get(&dir) {
            pending.extend(deps.iter().filter(|d| !seen.contains(*d)).cloned());
        }
        seen.insert(dir);
    }
    seen.into_iter().collect()
}

pub(crate) fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest `.rs`/`Cargo.toml` under `dir`, skipping test-only directories.
pub(crate) fn newest_source(dir: &Path) -> Option<(SystemTime, PathBuf)> {
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !matches!(name.as_ref(), "tests" | "benches" | "examples" | "target") {
                    stack.push(path);
                }
            } else if (name.ends_with(".rs") || name == "Cargo.toml")
                && let Some(time) = modified(&path)
                && newest.as_ref().is_none_or(|(t, _)| time > *t)
            {
                newest = Some((time, path));
            }
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relative(root: &Path, dirs: Vec<PathBuf>) -> Vec<String> {
        let root = canonical(root);
        dirs.iter()
            .map(|d| d.strip_prefix(&root).unwrap_or(d).display().to_string())
            .collect()
    }

    #[test]
    fn a_function_depends_on_its_path_dependencies_transitively_without_dev_dependencies() {
        let root = crate::moto::repo_root();
        let dirs = relative(
            &root,
            source_dirs(&root, &root.join("functions/hub-delivery")),
        );
        assert!(
            dirs.contains(&"functions/hub-delivery".to_owned()),
            "{dirs:?}"
        );
        // Direct (q2c-service) and transitive (q2c-model, through q2c-service) dependencies.
        assert!(dirs.contains(&"shared/service".to_owned()), "{dirs:?}");
        assert!(dirs.contains(&"shared/model".to_owned()), "{dirs:?}");
        // Only a dev-dependency of the function; the other tools are no dependency at all.
        assert!(!dirs.contains(&"shared/testkit".to_owned()), "{dirs:?}");
        assert!(!dirs.iter().any(|d| d.starts_with("tools/")), "{dirs:?}");
        assert!(
            !dirs.contains(&"functions/quote-api".to_owned()),
            "{dirs:?}"
        );
    }
}
