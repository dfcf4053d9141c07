//! `If-Match` (RFC 9110 §13.1.1) on quote writes. A quote's `ETag` is `"<version>"`.
//!
//! - No header, or `*`: the write is unconditional (it is re-read and re-applied when it
//!   loses a race, `q2c_service::contention`).
//! - A list of entity tags: the write happens only if one of them matches the current
//!   `ETag` by **strong comparison**: both strong and byte-equal, so a weak tag (`W/"3"`)
//!   never matches, nor does a well-formed tag of another form (`"stale-0"`); both are 412.
//!   A bare version (`3`, no quotes) is taken as `"3"` (lenient on input).
//! - Anything that is not a list of entity tags (`"3`, `version-3`, `*, "3"`) is 400
//!   `INVALID_HEADER`.

use axum::http::{HeaderMap, header};
use q2c_service::context::RequestContext;

use crate::AppState;
use crate::error::ApiError;

/// One entity tag of an `If-Match` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    /// `W/` was given.
    pub weak: bool,
    /// The opaque tag, without its quotes.
    pub opaque: String,
}

impl EntityTag {
    /// The quote version this tag names by strong comparison: a strong tag of digits.
    pub fn strong_version(&self) -> Option<u64> {
        let digits = !self.opaque.is_empty()
            && self.opaque.len() <= 19
            && self.opaque.bytes().all(|b| b.is_ascii_digit());
        (!self.weak && digits)
            .then(|| self.opaque.parse().ok())
            .flatten()
    }

    fn render(&self) -> String {
        format!("{}\"{}\"", if self.weak { "W/" } else { "" }, self.opaque)
    }
}

/// A parsed `If-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No header, or `*`.
    Any,
    /// One or more entity tags.
    Tags(Vec<EntityTag>),
}

/// Parses `If-Match`.
///
/// # Errors
/// `ApiError::InvalidHeader` when it is not `*` or a list of entity tags.
pub fn if_match(headers: &HeaderMap) -> Result<IfMatch, ApiError> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Ok(IfMatch::Any);
    };
    let invalid = || {
        ApiError::InvalidHeader(
            "If-Match must be * or a list of entity tags such as \"3\" (the quote's ETag)"
                .to_owned(),
        )
    };
    let text = std::str::from_utf8(raw.as_bytes())
        .map_err(|_| invalid())?
        .trim();
    if text == "*" {
        return Ok(IfMatch::Any);
    }
    parse_tags(text).map(IfMatch::Tags).ok_or_else(invalid)
}

/// `#entity-tag`: tags separated by commas and optional whitespace; `None` when malformed.
fn parse_tags(text: &str) -> Option<Vec<EntityTag>> {
    let mut tags = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        let (weak, after) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let (tag, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            let opaque = &quoted[..end];
            // etagc: %x21 / %x23-7E / obs-text
            if !opaque
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
            {
                return None;
            }
            (opaque, &quoted[end + 1..])
        } else if !weak {
            // Lenient: a bare version, `3`.
            let end = after.find([',', ' ', '\t']).unwrap_or(after.len());
            let bare = &after[..end];
            if bare.is_empty() || !bare.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (bare, &after[end..])
        } else {
            return None;
        };
        tags.push(EntityTag {
            weak,
            opaque: tag.to_owned(),
        });
        rest = after.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return Some(tags);
        }
        rest = rest.strip_prefix(',')?;
        if rest.trim().is_empty() {
            return None;
        }
    }
}

/// The version a write of quote `id` must find: `None` for an unconditional write,
/// `Some(v)` for `If-Match: "v"` (the service compares it, and names the current version
/// when it differs). Any other list is compared here with the current `ETag`.
///
/// # Errors
/// `PreconditionFailed` (412) when no tag matches the current version strongly;
/// `NotFound` and the like from reading the quote.
pub async fn expected_version(
    state: &AppState,
    ctx: &RequestContext,
    id: &str,
    condition: &IfMatch,
) -> Result<Option<u64>, ApiError> {
    let tags = match condition {
        IfMatch::Any => return Ok(None),
        IfMatch::Tags(tags) => tags,
    };
    if let [only] = tags.as_slice()
        && let Some(version) = only.strong_version()
    {
        return Ok(Some(version));
    }
    let current = state.quotes.get(ctx, id).await?.version;
    if tags.iter().any(|t| t.strong_version() == Some(current)) {
        return Ok(Some(current));
    }
    let sent = tags
        .iter()
        .map(EntityTag::render)
        .collect::<Vec<_>>()
        .join(", ");
    let weak = if tags.iter().any(|t| t.weak) {
        " (If-Match compares strongly: a weak W/ tag never matches)"
    } else {
        ""
    };
    Err(ApiError::PreconditionFailed(format!(
        "quote was modified or the tag is not one of its ETags: If-Match {sent} does not \
         match the current ETag \"{current}\"{weak}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<IfMatch, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_MATCH, raw.parse().expect("a header value"));
        if_match(&headers)
    }

    fn tags(raw: &str) -> Vec<(bool, String)> {
        match parse(raw).expect(raw) {
            IfMatch::Tags(tags) => tags.into_iter().map(|t| (t.weak, t.opaque)).collect(),
            IfMatch::Any => panic!("{raw}: not a tag list"),
        }
    }

    #[test]
    fn well_formed_lists_parse_and_only_strong_digit_tags_name_a_version() {
        assert_eq!(parse("*").expect("star"), IfMatch::Any);
        assert_eq!(if_match(&HeaderMap::new()).expect("none"), IfMatch::Any);
        assert_eq!(tags("\"3\""), [(false, "3".to_owned())]);
        assert_eq!(tags("3"), [(false, "3".to_owned())], "a bare version");
        assert_eq!(tags("W/\"3\""), [(true, "3".to_owned())]);
        assert_eq!(
            tags(" \"1\" ,W/\"2\",\"a,b\" , \"\""),
            [
                (false, "1".to_owned()),
                (true, "2".to_owned()),
                (false, "a,b".to_owned()),
                (false, String::new()),
            ]
        );
        let tag = |weak: bool, opaque: &str| EntityTag {
            weak,
            opaque: opaque.to_owned(),
        };
        assert_eq!(tag(false, "12").strong_version(), Some(12));
        for (weak, opaque) in [
            (true, "12"),
            (false, "stale-0"),
            (false, "-1"),
            (false, ""),
            (false, "99999999999999999999999"),
        ] {
            assert_eq!(tag(weak, opaque).strong_version(), None, "{weak} {opaque}");
        }
    }

    #[test]
    fn malformed_values_are_refused() {
        for bad in [
            "\"3",
            "version-3",
            "W/3",
            "\"3\" \"4\"",
            "\"3\",",
            "*, \"3\"",
            "\"a b\"",
            "",
        ] {
            assert!(
                matches!(parse(bad), Err(ApiError::InvalidHeader(_))),
                "{bad:?}"
            );
        }
    }
}
