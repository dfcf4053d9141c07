//! Rule `cors-headers`: a browser client can use the API as written. Preflights must allow
//! the request headers the API reads (`If-Match` for optimistic locking, `Idempotency-Key`,
//! `Authorization`, `Content-Type`), responses must expose the headers it sets (`ETag`,
//! `Location`, `Deprecation`, `Sunset`, `Link`, the paging counts), and no origin is
//! allowed unless configured: never `*`, and a parameter's default is empty.

use serde_yaml_ng::Value;

use crate::template::{Template, branches, items};
use crate::{Rule, Violation};

/// Request headers a browser must be allowed to send.
pub const ALLOW_HEADERS: [&str; 4] = [
    "authorization",
    "content-type",
    "if-match",
    "idempotency-key",
];
/// Response headers a browser must be allowed to read.
pub const EXPOSE_HEADERS: [&str; 7] = [
    "etag",
    "location",
    "deprecation",
    "sunset",
    "link",
    "x-total-count",
    "x-result-count",
];

/// Checks the CORS configuration of every HTTP API.
pub fn check(template: &Template) -> Vec<Violation> {
    let mut violations = Vec::new();
    for api in template.resources().filter(|r| {
        matches!(
            r.kind,
            "AWS::Serverless::HttpApi" | "AWS::ApiGatewayV2::Api"
        )
    }) {
        let mut report = |message: String| {
            violations.push(Violation::new(Rule::CorsHeaders, api.name, message));
        };
        let Some(configuration) = api.prop("CorsConfiguration") else {
            report("no CorsConfiguration: browsers cannot call the API".to_owned());
            continue;
        };
        // Both branches of an `!If` (the other may be AWS::NoValue: no CORS at all).
        for cors in branches(configuration) {
            if !cors.is_mapping() {
                report(format!(
                    "CorsConfiguration {} allows every origin; list the headers and origins",
                    describe(cors)
                ));
                continue;
            }
            for (key, required) in [
                ("AllowHeaders", &ALLOW_HEADERS[..]),
                ("ExposeHeaders", &EXPOSE_HEADERS[..]),
            ] {
                let present: Vec<String> = cors
                    .get(key)
                    .map(items)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .collect();
                let missing: Vec<&str> = required
                    .iter()
                    .copied()
                    .filter(|h| !present.iter().any(|p| p == h))
                    .collect();
                if !missing.is_empty() {
                    report(format!("{key} lacks {}", missing.join(", ")));
                }
            }
            for origin in cors.get("AllowOrigins").map(items).unwrap_or_default() {
                if origin.as_str() == Some("*") {
                    report("AllowOrigins allows every origin (*)".to_owned());
                }
                if let Some(parameter) = origin.get("Ref").and_then(Value::as_str)
                    && template.has_parameter(parameter)
                {
                    let default = template.parameter_default(parameter);
                    if default.is_none_or(|d| d.as_str() != Some("")) {
                        report(format!(
                            "AllowOrigins comes from {parameter}, whose Default must be empty \
                             (no origin unless configured), not {}",
                            default.map_or("absent".to_owned(), describe)
                        ));
                    }
                }
            }
        }
    }
    violations
}

fn describe(value: &Value) -> String {
    serde_yaml_ng::to_string(value)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_first_reports, assert_passes, lint_with};

    const GOOD: &str = r#"
Parameters:
  Origins: {Type: CommaDelimitedList, Default: ""}
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration: !If
        - HasOrigins
        - AllowOrigins: !Ref Origins
          AllowHeaders: [Authorization, content-type, if-match, idempotency-key]
          ExposeHeaders: [etag, location, deprecation, sunset, link, x-total-count, x-result-count]
        - !Ref AWS::NoValue
"#;

    #[test]
    fn the_headers_of_locking_deprecation_and_paging_pass() {
        assert_passes(check, GOOD);
    }

    #[test]
    fn a_missing_header_a_wildcard_and_a_default_origin_are_reported() {
        let violations = lint_with(
            check,
            &GOOD.replace("if-match, ", "").replace(", sunset", ""),
        );
        let messages: Vec<&str> = violations.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(
            messages,
            ["AllowHeaders lacks if-match", "ExposeHeaders lacks sunset"]
        );

        assert_first_reports(
            check,
            &GOOD.replace(r#"Default: """#, "Default: http://localhost:3000"),
            "Default must be empty",
        );

        assert_first_reports(
            check,
            &GOOD.replace("AllowOrigins: !Ref Origins", "AllowOrigins: ['*']"),
            "every origin",
        );

        assert_first_reports(
            check,
            "Resources:\n  Api:\n    Type: AWS::Serverless::HttpApi\n    Properties: {CorsConfiguration: true}\n",
            "allows every origin",
        );
    }
}
