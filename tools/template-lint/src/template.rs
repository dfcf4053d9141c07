//! Loading a CloudFormation/SAM template and reading it without caring whether intrinsic
//! functions were written in short form (`!Ref X`) or long form (`{Ref: X}`).

use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

/// Why a template could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadTemplateError {
    /// The file could not be read.
    #[error("cannot read template {}", path.display())]
    Read {
        /// The path that was tried.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The text is not YAML (or JSON, which YAML contains).
    #[error("template is not valid YAML")]
    Parse(#[source] serde_yaml_ng::Error),
    /// The document parsed but has no `Resources` mapping.
    #[error("template has no Resources mapping")]
    NoResources,
}

/// A parsed template whose intrinsic functions are all in long form.
#[derive(Debug, Clone)]
pub struct Template {
    root: Value,
}

/// One entry of the template's `Resources`.
#[derive(Debug, Clone, Copy)]
pub struct Resource<'a> {
    /// The logical id.
    pub name: &'a str,
    /// The `Type`, e.g. `AWS::SQS::Queue`.
    pub kind: &'a str,
    /// The `Properties` mapping (`Null` when absent).
    pub properties: &'a Value,
    /// The whole definition (`Type`, `Properties`, `DeletionPolicy`, `Metadata`, ...).
    pub definition: &'a Value,
}

impl<'a> Resource<'a> {
    /// The property `key`, if present.
    pub fn prop(&self, key: &str) -> Option<&'a Value> {
        self.properties.get(key)
    }

    /// The resource attribute `key` beside `Properties` (e.g. `DeletionPolicy`) as a string.
    pub fn attribute_str(&self, key: &str) -> Option<&'a str> {
        self.definition.get(key).and_then(Value::as_str)
    }
}

impl Template {
    /// Parses `text` and normalises every short-form intrinsic tag to its long form.
    ///
    /// # Errors
    /// [`LoadTemplateError::Parse`] for invalid YAML, [`LoadTemplateError::NoResources`] when
    /// the document has no `Resources` mapping.
    pub fn parse(text: &str) -> Result<Self, LoadTemplateError> {
        let raw: Value = serde_yaml_ng::from_str(text).map_err(LoadTemplateError::Parse)?;
        let root = normalise(raw);
        if !root.get("Resources").is_some_and(Value::is_mapping) {
            return Err(LoadTemplateError::NoResources);
        }
        Ok(Self { root })
    }

    /// Reads and parses the template at `path`.
    ///
    /// # Errors
    /// [`LoadTemplateError::Read`] when the file cannot be read, otherwise as [`Template::parse`].
    pub fn load(path: &Path) -> Result<Self, LoadTemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadTemplateError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text)
    }

    /// The resources of type `kind` (e.g. `AWS::SQS::Queue`).
    pub fn resources_of<'t>(&'t self, kind: &'t str) -> impl Iterator<Item = Resource<'t>> {
        self.resources().filter(move |r| r.kind == kind)
    }

    /// Every resource, in template order.
    pub fn resources(&self) -> impl Iterator<Item = Resource<'_>> {
        self.root
            .get("Resources")
            .and_then(Value::as_mapping)
            .into_iter()
            .flat_map(Mapping::iter)
            .filter_map(|(name, body)| {
                Some(Resource {
                    name: name.as_str()?,
                    kind: body.get("Type")?.as_str()?,
                    properties: body.get("Properties").unwrap_or(&Value::Null),
                    definition: body,
                })
            })
    }

    /// The resource with logical id `name`.
    pub fn resource(&self, name: &str) -> Option<Resource<'_>> {
        self.resources().find(|r| r.name == name)
    }

    /// The `Default` of parameter `name`, if the template declares one.
    pub fn parameter_default(&self, name: &str) -> Option<&Value> {
        self.root.get("Parameters")?.get(name)?.get("Default")
    }

    /// Whether the template declares parameter `name`.
    pub fn has_parameter(&self, name: &str) -> bool {
        self.root
            .get("Parameters")
            .is_some_and(|p| p.get(name).is_some())
    }

    /// `Globals.Function.<key>` of a SAM template.
    pub fn function_global(&self, key: &str) -> Option<&Value> {
        self.root.get("Globals")?.get("Function")?.get(key)
    }

    /// Resolves `value` to a number: a literal, a numeric string, or a `Ref` to a parameter
    /// whose `Default` is one. Anything else (other intrinsics, missing defaults) is `None`.
    pub fn number(&self, value: &Value) -> Option<f64> {
        match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            Value::Mapping(_) => {
                let parameter = value.get("Ref")?.as_str()?;
                let default = self
                    .root
                    .get("Parameters")?
                    .get(parameter)?
                    .get("Default")?;
                // A parameter default is never an intrinsic, so this recursion ends.
                self.number(default)
            }
            _ => None,
        }
    }
}

/// The logical id a value points at: `{Ref: X}` or `{Fn::GetAtt: [X, attr]}` give `X`.
pub fn target(value: &Value) -> Option<&str> {
    if let Some(name) = value.get("Ref") {
        return name.as_str();
    }
    value.get("Fn::GetAtt")?.get(0)?.as_str()
}

/// The attribute of a `Fn::GetAtt` (e.g. `StreamArn`), if `value` is one.
pub fn attribute(value: &Value) -> Option<&str> {
    value.get("Fn::GetAtt")?.get(1)?.as_str()
}

/// The values `value` may take: both branches of every `Fn::If`, without `AWS::NoValue`.
pub fn branches(value: &Value) -> Vec<&Value> {
    match value.get("Fn::If").and_then(Value::as_sequence) {
        Some(args) if args.len() == 3 => args[1..].iter().flat_map(branches).collect(),
        _ if value.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue") => Vec::new(),
        _ => vec![value],
    }
}

/// `value` as a list: a sequence's items, or the value itself when it is a single item.
pub fn items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Sequence(seq) => seq.iter().flat_map(branches).collect(),
        Value::Null => Vec::new(),
        other => branches(other),
    }
}

/// Rewrites `!Tag value` as `{Fn::Tag: value}` (`!Ref`/`!Condition` keep their bare names,
/// `!GetAtt A.b` becomes `{Fn::GetAtt: [A, b]}`), recursively; long-form `Fn::GetAtt: "A.b"`
/// is split the same way so rules see one shape.
fn normalise(value: Value) -> Value {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let key = match name {
                "Ref" | "Condition" => name.to_owned(),
                _ => format!("Fn::{name}"),
            };
            long_form(key, normalise(tagged.value))
        }
        Value::Mapping(map) => {
            let mut out = Mapping::with_capacity(map.len());
            for (k, v) in map {
                let v = normalise(v);
                match k.as_str() {
                    Some("Fn::GetAtt") => return long_form("Fn::GetAtt".to_owned(), v),
                    _ => out.insert(k, v),
                };
            }
            Value::Mapping(out)
        }
        Value::Sequence(seq) => Value::Sequence(seq.into_iter().map(normalise).collect()),
        other => other,
    }
}

fn long_form(key: String, value: Value) -> Value {
    let value = match (key.as_str(), value) {
        ("Fn::GetAtt", Value::String(dotted)) => match dotted.split_once('.') {
            Some((name, attr)) => Value::Sequence(vec![name.into(), attr.into()]),
            None => Value::String(dotted),
        },
        (_, other) => other,
    };
    let mut map = Mapping::new();
    map.insert(Value::String(key), value);
    Value::Mapping(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: &str = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      A: !Ref P\n      B: !GetAtt D.Arn\n      C: !If [Cond, !Sub 'x', !Ref AWS::NoValue]\n";
    const LONG: &str = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      A: {Ref: P}\n      B: {'Fn::GetAtt': D.Arn}\n      C: {'Fn::If': [Cond, {'Fn::Sub': 'x'}, {Ref: AWS::NoValue}]}\n";

    #[test]
    fn short_and_long_forms_normalise_to_the_same_tree() {
        let short = Template::parse(SHORT).expect("short form parses");
        let long = Template::parse(LONG).expect("long form parses");

        assert_eq!(short.root, long.root);
    }

    #[test]
    fn targets_and_branches_read_the_long_form() {
        let template = Template::parse(SHORT).expect("parses");
        let queue = template.resource("Q").expect("Q exists");

        assert_eq!(queue.prop("A").and_then(target), Some("P"));
        assert_eq!(queue.prop("B").and_then(target), Some("D"));
        assert_eq!(queue.prop("B").and_then(attribute), Some("Arn"));
        assert_eq!(branches(queue.prop("C").expect("C exists")).len(), 1);
    }

    #[test]
    fn numbers_resolve_through_parameter_defaults() {
        let text = "Parameters:\n  N: {Type: Number, Default: '7'}\nResources: {}\n";
        let template = Template::parse(text).expect("parses");
        let by_ref = Template::parse("Resources: {}\n").expect("parses");

        assert_eq!(
            template.number(&normalise(serde_yaml_ng::from_str("!Ref N").expect("yaml"))),
            Some(7.0)
        );
        assert_eq!(by_ref.number(&Value::from("12")), Some(12.0));
        assert_eq!(
            by_ref.number(&normalise(serde_yaml_ng::from_str("!Ref N").expect("yaml"))),
            None
        );
    }

    #[test]
    fn a_document_without_resources_is_rejected() {
        assert!(matches!(
            Template::parse("Parameters: {}\n"),
            Err(LoadTemplateError::NoResources)
        ));
    }
}
