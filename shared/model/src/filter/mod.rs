//! TMF630 Part 1 attribute filtering: one engine for every listing (quotes v4/v5, product
//! orders, offerings, prices).
//!
//! A resource declares what is filterable as a table of [`Attribute`]s (dotted paths into its
//! JSON representation, each with a [`Kind`]); [`Filter::parse`] turns query parameters into
//! [`Clause`]s and refuses anything not declared; [`Filter::matches`] evaluates the clauses on
//! the representation the client sees. Stores serve the clauses they index
//! ([`Filter::take_single`], [`Filter::take`]) and the rest is evaluated here on what they read.
//!
//! Syntax (TMF630 Part 1 §"Filtering"):
//! - `attr=v` equality; `attr=v1,v2` is `v1` OR `v2`;
//! - `attr.eq=`, `.ne=`, `.gt=`, `.gte=`, `.lt=`, `.lte=`, and the operator forms `attr>=v`,
//!   `attr<=v`, `attr!=v`, `attr>v`, `attr<v`;
//! - ordering operators apply to dates (RFC 3339) and numbers only; `.regex` is not offered
//!   (its cost cannot be bounded per item);
//! - a dotted path walks into arrays: `relatedParty.id=p1` holds when any party has id `p1`;
//!   `.ne` holds when none has it;
//! - several clauses are combined with AND.
//!
//! Limits (checked before any work proportional to them): [`MAX_FILTER_CLAUSES`] clauses,
//! [`MAX_FILTER_VALUES`] values per clause, each value at most `maxIdLength` characters.

use std::cmp::Ordering;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::limits::{MAX_FILTER_CLAUSES, MAX_FILTER_VALUES, MAX_ID_LENGTH};

mod resources;

pub use resources::{
    PRODUCT_OFFERING, PRODUCT_OFFERING_PRICE, PRODUCT_ORDER, QUOTE_V4, QUOTE_V5, QUOTE_V5_STATES,
};

/// What a filterable attribute holds, which decides the operators and how values parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string compared for equality.
    Text,
    /// A string from a closed list (a state, a status).
    Enum(&'static [&'static str]),
    /// An RFC 3339 date-time, compared as a time.
    DateTime,
    /// A number (JSON number or numeric string), compared as a decimal.
    Number,
    /// `true` or `false`.
    Boolean,
}

impl Kind {
    /// Whether `.gt`, `.gte`, `.lt` and `.lte` apply (dates and numbers).
    #[must_use]
    pub fn is_ordered(self) -> bool {
        matches!(self, Kind::DateTime | Kind::Number)
    }
}

/// One filterable attribute of a resource: its dotted path and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    /// The dotted path (`relatedParty.id`).
    pub name: &'static str,
    /// What it holds.
    pub kind: Kind,
}

/// Shorthand for a table entry.
#[must_use]
pub const fn attr(name: &'static str, kind: Kind) -> Attribute {
    Attribute { name, kind }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=` / `.eq`.
    Eq,
    /// `!=` / `.ne`.
    Ne,
    /// `>` / `.gt`.
    Gt,
    /// `>=` / `.gte`.
    Gte,
    /// `<` / `.lt`.
    Lt,
    /// `<=` / `.lte`.
    Lte,
}

impl Op {
    const SUFFIXES: [(&'static str, Op); 6] = [
        ("eq", Op::Eq),
        ("ne", Op::Ne),
        ("gt", Op::Gt),
        ("gte", Op::Gte),
        ("lt", Op::Lt),
        ("lte", Op::Lte),
    ];

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq => ordering == Ordering::Equal,
            Op::Ne => ordering != Ordering::Equal,
            Op::Gt => ordering == Ordering::Greater,
            Op::Gte => ordering != Ordering::Less,
            Op::Lt => ordering == Ordering::Less,
            Op::Lte => ordering != Ordering::Greater,
        }
    }
}

/// A value of a clause, parsed by the attribute's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// Text or enumeration value.
    Text(String),
    /// A date-time.
    Time(OffsetDateTime),
    /// A number.
    Number(Decimal),
    /// A boolean.
    Bool(bool),
}

impl Operand {
    /// How `leaf` (a value found in the resource) compares with this operand; `None` when
    /// it is not comparable (another type, an unparsable date).
    fn compare(&self, leaf: &Value) -> Option<Ordering> {
        match (self, leaf) {
            (Operand::Text(want), Value::String(have)) => Some(have.as_str().cmp(want.as_str())),
            (Operand::Time(want), Value::String(have)) => OffsetDateTime::parse(have, &Rfc3339)
                .ok()
                .map(|have| have.cmp(want)),
            (Operand::Number(want), Value::Number(have)) => {
                decimal(&have.to_string()).map(|have| have.cmp(want))
            }
            (Operand::Number(want), Value::String(have)) => decimal(have).map(|h| h.cmp(want)),
            (Operand::Bool(want), Value::Bool(have)) => Some(have.cmp(want)),
            _ => None,
        }
    }
}

fn decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

/// One condition: `attribute op (value1 OR value2 …)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// The declared attribute.
    pub attribute: Attribute,
    /// The operator.
    pub op: Op,
    /// The values, any of which may match (for `Ne`: none may).
    pub values: Vec<Operand>,
}

impl Clause {
    /// Whether the clause holds on `resource`.
    #[must_use]
    pub fn matches(&self, resource: &Value) -> bool {
        let mut leaves = Vec::new();
        collect(resource, self.attribute.name.split('.'), &mut leaves);
        if self.op == Op::Ne {
            return !leaves.iter().any(|leaf| {
                self.values
                    .iter()
                    .any(|v| v.compare(leaf) == Some(Ordering::Equal))
            });
        }
        leaves.iter().any(|leaf| {
            self.values
                .iter()
                .any(|v| v.compare(leaf).is_some_and(|o| self.op.holds(o)))
        })
    }
}

/// Every value at `path` under `value`, walking into arrays at each step.
fn collect<'a, 'p>(
    value: &'a Value,
    mut path: impl Iterator<Item = &'p str> + Clone,
    out: &mut Vec<&'a Value>,
) {
    match value {
        Value::Array(items) => {
            for item in items {
                collect(item, path.clone(), out);
            }
        }
        _ => match path.next() {
            None => out.push(value),
            Some(step) => {
                if let Some(child) = value.get(step) {
                    collect(child, path, out);
                }
            }
        },
    }
}

/// Why a filter was refused: a message naming the parameter (a 400 `INVALID_QUERY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FilterError {}

/// The clauses of one listing request, combined with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    clauses: Vec<Clause>,
}

impl Filter {
    /// Parses query parameters (name, value) against the resource's `attributes`.
    ///
    /// # Errors
    /// [`FilterError`] naming the parameter: not a declared attribute, an operator its kind
    /// does not take, a value of the wrong form, or over a limit.
    pub fn parse<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
        attributes: &[Attribute],
    ) -> Result<Filter, FilterError> {
        let mut clauses = Vec::new();
        for (name, raw) in params {
            if clauses.len() == MAX_FILTER_CLAUSES.max() {
                return Err(FilterError(format!(
                    "at most {} filter parameters",
                    MAX_FILTER_CLAUSES.max()
                )));
            }
            let (attribute, op, raw) = split(name, raw, attributes)?;
            clauses.push(clause(attribute, op, name, raw)?);
        }
        Ok(Filter { clauses })
    }

    /// No clause: everything matches.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// Whether every clause holds on `resource`.
    #[must_use]
    pub fn matches(&self, resource: &Value) -> bool {
        self.clauses.iter().all(|c| c.matches(resource))
    }

    /// Removes and returns the values of the first clause on `attribute` with `op`.
    pub fn take(&mut self, attribute: &str, op: Op) -> Option<Vec<Operand>> {
        let at = self
            .clauses
            .iter()
            .position(|c| c.attribute.name == attribute && c.op == op)?;
        Some(self.clauses.remove(at).values)
    }

    /// The value of the first clause on `attribute` with `op` that has exactly one value.
    #[must_use]
    pub fn single(&self, attribute: &str, op: Op) -> Option<&Operand> {
        self.clauses
            .iter()
            .find(|c| c.attribute.name == attribute && c.op == op && c.values.len() == 1)
            .and_then(|c| c.values.first())
    }

    /// Removes and returns the value of the first clause on `attribute` with `op` that has
    /// exactly one value (what an index serves); a clause with several values stays.
    pub fn take_single(&mut self, attribute: &str, op: Op) -> Option<Operand> {
        let at = self
            .clauses
            .iter()
            .position(|c| c.attribute.name == attribute && c.op == op && c.values.len() == 1)?;
        self.clauses.remove(at).values.pop()
    }
}

/// The attribute, operator and raw value of one parameter, in any of the TMF630 forms.
fn split<'a>(
    name: &'a str,
    raw: &'a str,
    attributes: &[Attribute],
) -> Result<(Attribute, Op, &'a str), FilterError> {
    let find = |path: &str| attributes.iter().find(|a| a.name == path).copied();
    // `a>=v` and `a<=v` and `a!=v` decode as the name `a>` / `a<` / `a!` with the value `v`.
    for (mark, op) in [('>', Op::Gte), ('<', Op::Lte), ('!', Op::Ne)] {
        if let Some(attribute) = name.strip_suffix(mark).and_then(find) {
            return Ok((attribute, op, raw));
        }
    }
    // `a>v` and `a<v` decode as the name `a>v` with no value.
    if raw.is_empty() {
        for (mark, op) in [('>', Op::Gt), ('<', Op::Lt)] {
            let split = name.split_once(mark);
            if let Some((attribute, value)) = split.and_then(|(p, v)| find(p).map(|a| (a, v))) {
                return Ok((attribute, op, value));
            }
        }
    }
    if let Some(attribute) = find(name) {
        return Ok((attribute, Op::Eq, raw));
    }
    let suffixed = name.rsplit_once('.').and_then(|(path, suffix)| {
        let op = Op::SUFFIXES.iter().find(|(s, _)| *s == suffix)?.1;
        Some((find(path)?, op))
    });
    if let Some((attribute, op)) = suffixed {
        return Ok((attribute, op, raw));
    }
    Err(FilterError(format!(
        "unknown query parameter `{name}` (filterable: {})",
        attributes
            .iter()
            .map(|a| a.name)
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

fn clause(attribute: Attribute, op: Op, name: &str, raw: &str) -> Result<Clause, FilterError> {
    if !attribute.kind.is_ordered() && !matches!(op, Op::Eq | Op::Ne) {
        return Err(FilterError(format!(
            "{name}: `{}` compares only with = and != (ordering applies to dates and numbers)",
            attribute.name
        )));
    }
    let raws: Vec<&str> = raw.split(',').collect();
    if raws.len() > MAX_FILTER_VALUES.max() {
        return Err(FilterError(format!(
            "{name}: at most {} comma-separated values",
            MAX_FILTER_VALUES.max()
        )));
    }
    let values = raws
        .into_iter()
        .map(|value| operand(attribute.kind, name, value))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Clause {
        attribute,
        op,
        values,
    })
}

fn operand(kind: Kind, name: &str, value: &str) -> Result<Operand, FilterError> {
    if value.is_empty() {
        return Err(FilterError(format!("{name}: empty value")));
    }
    if value.chars().count() > MAX_ID_LENGTH.max() {
        return Err(FilterError(format!(
            "{name}: a value has more than {} characters",
            MAX_ID_LENGTH.max()
        )));
    }
    match kind {
        Kind::Text => Ok(Operand::Text(value.to_owned())),
        Kind::Enum(allowed) if allowed.contains(&value) => Ok(Operand::Text(value.to_owned())),
        Kind::Enum(allowed) => Err(FilterError(format!(
            "{name}: unknown value `{value}` (one of {})",
            allowed.join(", ")
        ))),
        Kind::DateTime => OffsetDateTime::parse(value, &Rfc3339)
            .map(Operand::Time)
            .map_err(|_| FilterError(format!("{name}: `{value}` is not an RFC 3339 date-time"))),
        Kind::Number => decimal(value)
            .map(Operand::Number)
            .ok_or_else(|| FilterError(format!("{name}: `{value}` is not a number"))),
        Kind::Boolean => match value {
            "true" => Ok(Operand::Bool(true)),
            "false" => Ok(Operand::Bool(false)),
            _ => Err(FilterError(format!(
                "{name}: `{value}` is not true or false"
            ))),
        },
    }
}

#[cfg(test)]
mod tests;
