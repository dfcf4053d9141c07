//! [`FileSettings`]: tenant settings from a TOML file, for local mode.
//!
//! ```toml
//! [default]                 # every tenant without its own table; absent keys: built-in defaults
//! tax_rate = "20"
//! currency = "EUR"
//!
//! [tenants.acme]            # absent keys fall back to [default]
//! approval_threshold = "10"
//! default_validity_days = 14
//! ```
//! Decimals may be written as strings (`"19.6"`, exact) or TOML numbers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use q2c_model::settings::TenantSettings;
use q2c_service::context::TenantId;
use q2c_service::ports::{SettingsSource, StoreError};
use serde::Deserialize;

/// Reading or parsing the settings file failed.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file exists but cannot be read.
    #[error("cannot read settings file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a field of the wrong type.
    #[error("invalid settings{}", path.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default())]
    Parse {
        /// The file, when parsed from one.
        path: Option<PathBuf>,
        /// The parser's error (names the key and line).
        #[source]
        source: toml::de::Error,
    },
}

/// The file's shape: tables are kept raw so that a tenant's absent keys fall back to
/// `[default]`, not to the built-in defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    #[serde(default)]
    default: toml::Table,
    #[serde(default)]
    tenants: HashMap<String, toml::Table>,
}

/// Tenant settings loaded once from a TOML file (see the module docs for the format).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileSettings {
    default: TenantSettings,
    tenants: HashMap<String, TenantSettings>,
}

impl FileSettings {
    /// Loads `path`; a file that does not exist gives the built-in defaults for everyone.
    ///
    /// # Errors
    /// [`SettingsError::Read`] when the file exists but cannot be read,
    /// [`SettingsError::Parse`] when its content is invalid.
    pub fn load(path: &Path) -> Result<FileSettings, SettingsError> {
        match std::fs::read_to_string(path) {
            Ok(text) => FileSettings::from_toml(&text).map_err(|e| match e {
                SettingsError::Parse { source, .. } => SettingsError::Parse {
                    path: Some(path.to_owned()),
                    source,
                },
                other => other,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileSettings::default()),
            Err(source) => Err(SettingsError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Parses settings from TOML text.
    ///
    /// # Errors
    /// [`SettingsError::Parse`] when the text is not valid TOML or a field has the wrong type.
    pub fn from_toml(text: &str) -> Result<FileSettings, SettingsError> {
        let parse = |source| SettingsError::Parse { path: None, source };
        let file: SettingsFile = toml::from_str(text).map_err(parse)?;
        let default = parse_settings(file.default.clone()).map_err(parse)?;
        let tenants = file
            .tenants
            .into_iter()
            .map(|(tenant, table)| {
                let mut merged = file.default.clone();
                merged.extend(table);
                Ok((tenant, parse_settings(merged).map_err(parse)?))
            })
            .collect::<Result<_, SettingsError>>()?;
        Ok(FileSettings { default, tenants })
    }

    /// The settings of `tenant` (the `[default]` table when it has none of its own).
    pub fn get(&self, tenant: &TenantId) -> &TenantSettings {
        self.tenants.get(tenant.as_str()).unwrap_or(&self.default)
    }
}

fn parse_settings(table: toml::Table) -> Result<TenantSettings, toml::de::Error> {
    TenantSettings::deserialize(toml::Value::Table(table))
}

#[async_trait]
impl SettingsSource for FileSettings {
    async fn settings(&self, tenant: &TenantId) -> Result<TenantSettings, StoreError> {
        Ok(self.get(tenant).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use q2c_model::money::Currency;

    fn tenant(id: &str) -> TenantId {
        TenantId::parse(id).expect("valid tenant id")
    }

    #[test]
    fn a_tenant_table_overrides_only_the_keys_it_sets() {
        let settings = FileSettings::from_toml(
            r#"
            [default]
            tax_rate = "19.6"
            currency = "USD"
            [tenants.acme]
            approval_threshold = 10
            "#,
        )
        .expect("valid settings");

        let acme = settings.get(&tenant("acme"));
        assert_eq!(acme.tax_rate.to_string(), "19.6");
        assert_eq!(acme.currency, Currency::USD);
        assert_eq!(acme.approval_threshold.to_string(), "10");
        assert_eq!(acme.default_validity_days, 30);
        let other = settings.get(&tenant("other"));
        assert_eq!(other.approval_threshold.to_string(), "15");
        assert_eq!(other.tax_rate.to_string(), "19.6");
    }

    #[test]
    fn an_absent_file_gives_the_built_in_defaults() {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = FileSettings::load(&dir.path().join("missing.toml")).expect("defaults");
        assert_eq!(settings.get(&tenant("any")), &TenantSettings::default());
    }

    #[test]
    fn a_field_of_the_wrong_type_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("settings.toml");
        std::fs::write(&path, "[default]\ndefault_validity_days = \"soon\"\n").expect("write");
        let error = FileSettings::load(&path).expect_err("wrong type");
        assert!(error.to_string().contains("settings.toml"), "{error}");
    }

    #[test]
    fn an_unknown_top_level_table_is_an_error() {
        assert!(FileSettings::from_toml("[tenant.acme]\ntax_rate = 5\n").is_err());
    }
}
