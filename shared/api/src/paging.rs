//! Query parameters (TMF630): `offset`/`limit` and `fields=` attribute selection; the
//! attribute filters are `q2c_model::filter`'s ([`crate::listing`]). Unknown parameters are
//! rejected, so a typo never silently widens a listing.

use axum::http::{HeaderMap, HeaderValue, Uri};
use q2c_service::ports::Page;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ApiConfig;
use crate::error::ApiError;

/// Parsed query parameters, consumed one by one; what is left over is unknown.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses the URI's query (`application/x-www-form-urlencoded`).
    ///
    /// # Errors
    /// `ApiError::InvalidQuery` for an undecodable query.
    pub fn from_uri(uri: &Uri) -> Result<Self, ApiError> {
        let query = uri.query().unwrap_or_default();
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map(|q| Params(q.0))
            .map_err(|_| ApiError::InvalidQuery(format!("cannot decode query `{query}`")))
    }

    /// Removes and returns the value of `name`.
    ///
    /// # Errors
    /// `ApiError::InvalidQuery` when it is given more than once.
    pub fn take(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        let mut found = None;
        let mut count = 0;
        self.0.retain(|(k, v)| {
            if k == name {
                count += 1;
                found = Some(v.clone());
                false
            } else {
                true
            }
        });
        if count > 1 {
            return Err(ApiError::InvalidQuery(format!(
                "`{name}` is given more than once"
            )));
        }
        Ok(found)
    }

    /// The value of `name` as a member of the enumeration `T` (`state`, `status`).
    ///
    /// # Errors
    /// `ApiError::InvalidQuery` naming a value that is not one of `T`'s.
    pub fn take_enum<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, ApiError> {
        self.take(name)?
            .map(|raw| {
                serde_json::from_value::<T>(Value::String(raw.clone()))
                    .map_err(|_| ApiError::InvalidQuery(format!("{name}: unknown {name} `{raw}`")))
            })
            .transpose()
    }

    /// The query of a read of one resource: `fields=` and nothing else.
    ///
    /// # Errors
    /// `ApiError::InvalidQuery` for an undecodable query, a bad selection or any other
    /// parameter.
    pub fn fields_only(uri: &Uri) -> Result<Option<Fields>, ApiError> {
        let mut params = Params::from_uri(uri)?;
        let fields = params.fields()?;
        params.finish()?;
        Ok(fields)
    }

    /// The query of a listing, in this order: its page, its `fields=` selection and the
    /// filters `filter` takes; nothing else may be left.
    ///
    /// # Errors
    /// `ApiError::InvalidQuery` as [`Params::page`], [`Params::fields`], `filter` and
    /// [`Params::finish`].
    pub fn listing<F>(
        mut self,
        config: &ApiConfig,
        filter: impl FnOnce(&mut Params) -> Result<F, ApiError>,
    ) -> Result<(Page, Option<Fields>, F), ApiError> {
        let page = self.page(config)?;
        let fields = self.fields()?;
        let filter = filter(&mut self)?;
        self.finish()?;
        Ok((page, fields, filter))
    }

    /// The parameters not consumed yet, in request order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Fails if a parameter was not consumed.
    ///
    /// # Errors
    /// `ApiError::InvalidQuery` naming it.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.0.first() {
            Some((k, _)) => Err(ApiError::InvalidQuery(format!(
                "unknown query parameter `{k}`"
            ))),
            None => Ok(()),
        }
    }

    /// `offset` (default 0) and `limit` (default and maximum from the config, at least 1).
    ///
    /// # Errors
    /// `ApiError::InvalidQuery` when either is not a number in range.
    pub fn page(&mut self, config: &ApiConfig) -> Result<Page, ApiError> {
        // Capped at i64::MAX: stores (SQLite, DynamoDB counters) use signed integers.
        let offset = match self.take("offset")? {
            None => 0,
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) if i64::try_from(n).is_ok() => n,
                _ => {
                    return Err(ApiError::InvalidQuery(format!(
                        "offset: `{raw}` is not an integer from 0 to {}",
                        i64::MAX
                    )));
                }
            },
        };
        let limit = match self.take("limit")? {
            None => config.default_page_limit,
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) if (1..=config.max_page_limit).contains(&n) => n,
                _ => {
                    return Err(ApiError::InvalidQuery(format!(
                        "limit: `{raw}` is not an integer from 1 to {}",
                        config.max_page_limit
                    )));
                }
            },
        };
        Ok(Page { offset, limit })
    }

    /// `fields=` as a selection.
    ///
    /// # Errors
    /// `ApiError::InvalidQuery` for an empty name in the list.
    pub fn fields(&mut self) -> Result<Option<Fields>, ApiError> {
        self.take("fields")?
            .map(|raw| Fields::parse(&raw))
            .transpose()
    }
}

/// A `fields=` selection of top-level attributes (`a.b` selects `a`); `id`, `href` and
/// `@type` are always kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields(Vec<String>);

impl Fields {
    /// Parses a comma-separated list.
    ///
    /// # Errors
    /// `ApiError::InvalidQuery` when a name is empty or has other characters.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let mut names = vec!["id".to_owned(), "href".to_owned(), "@type".to_owned()];
        for name in raw.split(',') {
            if !is_field_name(name) {
                return Err(ApiError::InvalidQuery(format!(
                    "fields: `{name}` is not an attribute name (letters, digits, '@', '_', '.', '-')"
                )));
            }
            names.push(name.split('.').next().unwrap_or_default().to_owned());
        }
        Ok(Fields(names))
    }

    /// Keeps only the selected attributes of an object.
    pub fn apply(&self, value: &mut Value) {
        if let Value::Object(map) = value {
            map.retain(|k, _| self.0.iter().any(|f| f == k));
        }
    }
}

/// `[A-Za-z@][A-Za-z0-9@_.-]*`, as the OpenAPI document's `fields` pattern says.
fn is_field_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'@')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"@_.-".contains(&b))
}

/// Applies an optional selection.
pub fn select(fields: Option<&Fields>, mut value: Value) -> Value {
    if let Some(fields) = fields {
        fields.apply(&mut value);
    }
    value
}

/// `X-Total-Count` and `X-Result-Count` of a listing.
pub fn count_headers(total: u64, returned: usize) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    headers.insert("x-result-count", HeaderValue::from(returned as u64));
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Params {
        Params::from_uri(&format!("/x?{query}").parse().unwrap()).unwrap()
    }

    #[test]
    fn defaults_apply_without_offset_and_limit() {
        let page = params("").page(&ApiConfig::new("", "")).unwrap();
        assert_eq!(
            page,
            Page {
                offset: 0,
                limit: 50
            }
        );
    }

    #[test]
    fn limit_out_of_range_and_negative_offset_are_rejected() {
        let config = ApiConfig::new("", "");
        for q in [
            "limit=0",
            "limit=1001",
            "limit=x",
            "offset=-1",
            "offset=1&offset=2",
        ] {
            assert!(params(q).page(&config).is_err(), "{q}");
        }
    }

    #[test]
    fn fields_keep_the_identity_attributes() {
        let fields = Fields::parse("state,quoteItem.id").unwrap();
        let value = serde_json::json!({"id": "1", "href": "h", "@type": "Quote", "state": "x",
            "quoteItem": [], "description": "d"});
        let selected = select(Some(&fields), value);
        assert_eq!(selected.as_object().unwrap().len(), 5);
        assert!(selected.get("description").is_none());
        for bad in ["state,,id", "0.5", " state", "a b"] {
            assert!(Fields::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_filter_dates_and_states_are_rejected() {
        use crate::listing::ListQuery;
        use crate::version::{ApiVersion, V4};
        let config = ApiConfig::new("", "");
        let parse = |q: &str| ListQuery::parse_params(params(q), &config, V4::FILTERS);
        assert!(parse("quoteDate.gte=yesterday").is_err());
        assert!(parse("state=done").is_err());
        assert!(parse("cursor=x").is_err());
        assert!(
            parse("offset=2&cursor=YzEKCnEtMQ").is_err(),
            "offset beside a cursor"
        );
        let mut query = parse("state=inProgress&quoteDate.lt=2026-01-01T00:00:00Z").unwrap();
        let index = V4::index_filter(&mut query.filter);
        assert_eq!(index.state, Some(q2c_model::tmf::QuoteState::InProgress));
        assert!(index.quote_date_lt.is_some());
        assert!(query.by_offset(), "the index serves both");
        let mut query =
            parse("state=inProgress,approved&quoteDate.lte=2026-01-01T00:00:00Z").unwrap();
        let index = V4::index_filter(&mut query.filter);
        assert_eq!((index.state, index.quote_date_lt), (None, None));
        assert!(!query.by_offset(), "a list of states and .lte are scanned");
    }

    #[test]
    fn leftover_parameters_are_unknown() {
        let mut p = params("limit=5&colour=red");
        p.page(&ApiConfig::new("", "")).unwrap();
        assert!(p.finish().unwrap_err().to_string().contains("colour"));
    }
}
