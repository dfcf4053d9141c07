//! JSON shape checks at the byte level: the depth (and size) of a document before it is
//! parsed, or while it is being written, and the top-level elements of a catalog file so that
//! each entry is checked and parsed on its own.
//!
//! Written here rather than taken from a crate: serde_json refuses a too-deep document only
//! once it has parsed 127 levels, with no path and no way to set a smaller bound, and no
//! maintained crate reports depth with a JSON path without building the document first. The
//! scanner is a small state machine over bytes (strings and escapes, brackets, keys and
//! indices of the open containers); it never allocates more than the limit's depth of frames.

use std::ops::Range;

use serde::Serialize;
use serde_json::Value;

use super::{Limit, LimitError};

/// Key bytes kept per open object for error paths (longer keys are cut).
const KEY_BYTES_KEPT: usize = 128;

#[derive(Debug, Clone)]
enum Frame {
    Array {
        index: usize,
    },
    Object {
        key: Vec<u8>,
        expecting_key: bool,
        capturing: bool,
    },
}

/// Scans JSON bytes, fed in any chunks, for depth and size. A document deeper than the depth
/// limit (or longer than the byte limit) is refused at the first byte past it, naming the JSON
/// path of the container that goes too deep.
#[derive(Debug, Clone)]
pub struct JsonScanner {
    max_depth: Limit,
    max_bytes: Option<Limit>,
    bytes: usize,
    compact: usize,
    open: usize,
    deepest: usize,
    in_string: bool,
    escaped: bool,
    frames: Vec<Frame>,
}

impl JsonScanner {
    /// A scanner refusing documents deeper than `max_depth` and, when given, longer than
    /// `max_bytes`.
    pub fn new(max_depth: Limit, max_bytes: Option<Limit>) -> Self {
        JsonScanner {
            max_depth,
            max_bytes,
            bytes: 0,
            compact: 0,
            open: 0,
            deepest: 0,
            in_string: false,
            escaped: false,
            frames: Vec::new(),
        }
    }

    /// Bytes seen so far.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Bytes seen so far, less whitespace outside strings: the size of the compact text.
    pub fn compact_bytes(&self) -> usize {
        self.compact
    }

    /// The deepest nesting seen so far (a scalar document is 0 deep, `[]` 1).
    pub fn depth(&self) -> usize {
        self.deepest
    }

    /// Scans the next chunk.
    ///
    /// # Errors
    /// [`LimitError`] at the first byte past the byte limit or the first container past the
    /// depth limit.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), LimitError> {
        if let Some(max) = self.max_bytes
            && self.bytes + chunk.len() > max.max()
        {
            return Err(LimitError::new(max, self.bytes + chunk.len(), "$"));
        }
        self.bytes += chunk.len();
        for &byte in chunk {
            if self.in_string {
                self.compact += 1;
                self.string_byte(byte);
                continue;
            }
            if !byte.is_ascii_whitespace() {
                self.compact += 1;
            }
            match byte {
                b'"' => {
                    self.in_string = true;
                    if let Some(Frame::Object {
                        key,
                        expecting_key: true,
                        capturing,
                    }) = self.frames.last_mut()
                    {
                        key.clear();
                        *capturing = true;
                    }
                }
                b'{' | b'[' => {
                    if self.open >= self.max_depth.max() {
                        let path = self.path();
                        return Err(LimitError::new(self.max_depth, self.open + 1, path));
                    }
                    self.open += 1;
                    self.deepest = self.deepest.max(self.open);
                    self.frames.push(if byte == b'{' {
                        Frame::Object {
                            key: Vec::new(),
                            expecting_key: true,
                            capturing: false,
                        }
                    } else {
                        Frame::Array { index: 0 }
                    });
                }
                b'}' | b']' => {
                    self.open = self.open.saturating_sub(1);
                    self.frames.pop();
                }
                b',' => match self.frames.last_mut() {
                    Some(Frame::Array { index }) => *index += 1,
                    Some(Frame::Object { expecting_key, .. }) => *expecting_key = true,
                    None => {}
                },
                _ => {}
            }
        }
        Ok(())
    }

    fn string_byte(&mut self, byte: u8) {
        let ends = !self.escaped && byte == b'"';
        self.escaped = !self.escaped && byte == b'\\';
        if let Some(Frame::Object {
            key,
            expecting_key,
            capturing,
        }) = self.frames.last_mut()
            && *capturing
        {
            if ends {
                *capturing = false;
                *expecting_key = false;
            } else if key.len() < KEY_BYTES_KEPT {
                key.push(byte);
            }
        }
        if ends {
            self.in_string = false;
        }
    }

    /// The JSON path of the position being scanned (`quoteItem[3].product`, `$` at the root).
    fn path(&self) -> String {
        let mut path = String::new();
        for frame in &self.frames {
            match frame {
                Frame::Array { index } => path.push_str(&format!("[{index}]")),
                Frame::Object { key, .. } => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&decode_key(key));
                }
            }
        }
        if path.is_empty() {
            "$".to_owned()
        } else {
            path
        }
    }
}

fn decode_key(raw: &[u8]) -> String {
    let mut quoted = Vec::with_capacity(raw.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(raw);
    quoted.push(b'"');
    serde_json::from_slice::<String>(&quoted)
        .unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned())
}

/// Checks the depth of a JSON text before it is parsed; returns the depth.
///
/// # Errors
/// [`LimitError`] naming the path of the first container past `max_depth`.
pub fn check_json_text(bytes: &[u8], max_depth: Limit) -> Result<usize, LimitError> {
    let mut scanner = JsonScanner::new(max_depth, None);
    scanner.feed(bytes)?;
    Ok(scanner.depth())
}

/// Checks a JSON text's depth and its compact size (whitespace outside strings not counted,
/// so a pretty-printed file is measured as the store will hold it) before it is parsed.
///
/// # Errors
/// [`LimitError`]: the depth's with its path, or the size's at `$`.
pub fn check_json_entry(
    bytes: &[u8],
    max_bytes: Limit,
    max_depth: Limit,
) -> Result<(), LimitError> {
    let mut scanner = JsonScanner::new(max_depth, None);
    scanner.feed(bytes)?;
    max_bytes.check(scanner.compact_bytes(), || "$".to_owned())
}

/// Size and depth of a value's JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measured {
    /// Bytes of the compact JSON text.
    pub bytes: usize,
    /// Nesting depth.
    pub depth: usize,
}

/// Why a value could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    /// It exceeds a limit (serialisation stopped at the first byte past it).
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// It cannot be written as JSON at all (e.g. an amount of more than 15 significant digits).
    #[error("not representable as JSON: {0}")]
    Json(serde_json::Error),
}

struct ScanningWriter {
    scanner: JsonScanner,
    failure: Option<LimitError>,
}

impl std::io::Write for ScanningWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.scanner.feed(buf) {
            Ok(()) => Ok(buf.len()),
            Err(e) => {
                self.failure = Some(e);
                Err(std::io::Error::other("limit exceeded"))
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Measures `value` as compact JSON without keeping the text: serialisation stops at the first
/// byte past `max_bytes` or the first container past `max_depth`, so the work is bounded by
/// the limit, not by the value.
///
/// # Errors
/// [`MeasureError`].
pub fn measure<T: Serialize + ?Sized>(
    value: &T,
    max_bytes: Limit,
    max_depth: Limit,
) -> Result<Measured, MeasureError> {
    let mut writer = ScanningWriter {
        scanner: JsonScanner::new(max_depth, Some(max_bytes)),
        failure: None,
    };
    match serde_json::to_writer(&mut writer, value) {
        Ok(()) => Ok(Measured {
            bytes: writer.scanner.bytes(),
            depth: writer.scanner.depth(),
        }),
        Err(e) => Err(match writer.failure {
            Some(limit) => MeasureError::Limit(limit),
            None => MeasureError::Json(e),
        }),
    }
}

/// Depth of a parsed value (iterative: a value built by JSON Patch operations may be deeper
/// than any parser would have allowed).
pub fn value_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((node, depth)) = stack.pop() {
        match node {
            Value::Array(items) => {
                deepest = deepest.max(depth + 1);
                stack.extend(items.iter().map(|v| (v, depth + 1)));
            }
            Value::Object(map) => {
                deepest = deepest.max(depth + 1);
                stack.extend(map.values().map(|v| (v, depth + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// The top level of a catalog file, as byte ranges of its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopLevel {
    /// `[ entry, entry, ... ]`: the ranges of the entries.
    Array(Vec<Range<usize>>),
    /// `{ "member": value, ... }`: each member's name and, when its value is an array, the
    /// ranges of its elements (`None` for any other value).
    Object(Vec<(String, Option<Vec<Range<usize>>>)>),
    /// Any other JSON value.
    Other,
}

/// Splits a document into its top-level entries without parsing them, so that each can be
/// checked for size and depth and parsed on its own. Only the structure is checked here (each
/// entry is later parsed, which checks the rest).
///
/// # Errors
/// The byte offset and what is wrong, when the structure is broken (unterminated string or
/// container, a missing `,` or `:`, text after the document).
pub fn split_top_level(bytes: &[u8]) -> Result<TopLevel, String> {
    let mut at = skip_ws(bytes, 0);
    let top = match bytes.get(at) {
        Some(b'[') => {
            let (elements, end) = array_elements(bytes, at)?;
            at = end;
            TopLevel::Array(elements)
        }
        Some(b'{') => {
            let mut members = Vec::new();
            at = skip_ws(bytes, at + 1);
            if bytes.get(at) == Some(&b'}') {
                at += 1;
            } else {
                loop {
                    if bytes.get(at) != Some(&b'"') {
                        return Err(format!("byte {at}: expected a member name"));
                    }
                    let key_end = skip_string(bytes, at)?;
                    let name: String = serde_json::from_slice(&bytes[at..key_end])
                        .map_err(|e| format!("byte {at}: {e}"))?;
                    at = skip_ws(bytes, key_end);
                    if bytes.get(at) != Some(&b':') {
                        return Err(format!("byte {at}: expected `:`"));
                    }
                    at = skip_ws(bytes, at + 1);
                    if bytes.get(at) == Some(&b'[') {
                        let (elements, end) = array_elements(bytes, at)?;
                        members.push((name, Some(elements)));
                        at = end;
                    } else {
                        at = skip_value(bytes, at)?;
                        members.push((name, None));
                    }
                    at = skip_ws(bytes, at);
                    match bytes.get(at) {
                        Some(b',') => at = skip_ws(bytes, at + 1),
                        Some(b'}') => {
                            at += 1;
                            break;
                        }
                        _ => return Err(format!("byte {at}: expected `,` or `}}`")),
                    }
                }
            }
            TopLevel::Object(members)
        }
        Some(_) => {
            at = skip_value(bytes, at)?;
            TopLevel::Other
        }
        None => return Err("the document is empty".to_owned()),
    };
    let end = skip_ws(bytes, at);
    if end != bytes.len() {
        return Err(format!("byte {end}: text after the document"));
    }
    Ok(top)
}

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

/// The elements of the array starting at `at` (a `[`), and the offset after its `]`.
fn array_elements(bytes: &[u8], at: usize) -> Result<(Vec<Range<usize>>, usize), String> {
    let mut elements = Vec::new();
    let mut at = skip_ws(bytes, at + 1);
    if bytes.get(at) == Some(&b']') {
        return Ok((elements, at + 1));
    }
    loop {
        let end = skip_value(bytes, at)?;
        elements.push(at..end);
        at = skip_ws(bytes, end);
        match bytes.get(at) {
            Some(b',') => at = skip_ws(bytes, at + 1),
            Some(b']') => return Ok((elements, at + 1)),
            _ => return Err(format!("byte {at}: expected `,` or `]`")),
        }
    }
}

/// The offset after the string starting at `at` (a `"`).
fn skip_string(bytes: &[u8], at: usize) -> Result<usize, String> {
    let mut escaped = false;
    for (offset, &byte) in bytes.iter().enumerate().skip(at + 1) {
        if escaped {
            escaped = false;
        } else if byte == b'\\' {
            escaped = true;
        } else if byte == b'"' {
            return Ok(offset + 1);
        }
    }
    Err(format!("byte {at}: unterminated string"))
}

/// The offset after the value starting at `at`: a string, a container (brackets counted,
/// strings skipped; no recursion) or a scalar (up to the next delimiter).
fn skip_value(bytes: &[u8], at: usize) -> Result<usize, String> {
    match bytes.get(at) {
        None => Err(format!("byte {at}: expected a value")),
        Some(b'"') => skip_string(bytes, at),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut offset = at;
            while offset < bytes.len() {
                match bytes[offset] {
                    b'"' => {
                        offset = skip_string(bytes, offset)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(offset + 1);
                        }
                    }
                    _ => {}
                }
                offset += 1;
            }
            Err(format!("byte {at}: unterminated container"))
        }
        Some(_) => {
            let mut offset = at;
            while offset < bytes.len()
                && !matches!(bytes[offset], b',' | b']' | b'}')
                && !bytes[offset].is_ascii_whitespace()
            {
                offset += 1;
            }
            if offset == at {
                Err(format!("byte {at}: expected a value"))
            } else {
                Ok(offset)
            }
        }
    }
}
