//! Cursor scans on SQLite ([`q2c_service::listing`]): the rows after a position in a
//! listing ordered by `<date> DESC, id` (NULL dates last) or, without a date, by `id`. A
//! position splits the rest of the listing into segments, each one index range read in index
//! order: the rest of the position's date (ids above its id), the older dates, then the
//! undated rows. So a scan never reads the rows before its cursor, however deep it is.

use q2c_service::listing::{ListCursor, Scan, Scanned};
use q2c_service::ports::StoreError;
use rusqlite::types::Value;
use rusqlite::{Connection, Row};

use crate::error::ResultExt;
use crate::time_codec;

/// One listing to scan: its `SELECT … FROM … WHERE` (its own parameters numbered from 1),
/// the date and id columns, and how a row decodes.
pub(crate) struct ScanQuery<'a, T> {
    /// `SELECT <columns> FROM <table> WHERE <condition>`.
    pub select: String,
    /// The parameters of `select`.
    pub params: Vec<Value>,
    /// The listing date column (`q.quote_date`), `None` for a listing by id.
    pub date: Option<&'a str>,
    /// The id column.
    pub id: &'a str,
    /// Decodes a row.
    pub decode: &'a dyn Fn(&Row<'_>) -> Result<T, StoreError>,
}

/// A segment: an extra condition with its values and the order that reads it.
struct Segment {
    condition: String,
    values: Vec<Value>,
    order: String,
}

impl<T> ScanQuery<'_, T> {
    fn segments(&self, after: Option<&ListCursor>) -> Vec<Segment> {
        let id = self.id;
        let segment = |condition: String, values: Vec<Value>, order: String| Segment {
            condition,
            values,
            order,
        };
        let Some(date) = self.date else {
            let order = id.to_owned();
            return vec![match after {
                None => segment("1".into(), vec![], order),
                Some(c) => segment(format!("{id} > ?A"), vec![text(&c.id)], order),
            }];
        };
        let by_id = id.to_owned();
        let newest_first = format!("{date} DESC, {id}");
        match after {
            None => vec![segment("1".into(), vec![], newest_first)],
            Some(ListCursor {
                date: None,
                id: after,
            }) => vec![segment(
                format!("{date} IS NULL AND {id} > ?A"),
                vec![text(after)],
                by_id,
            )],
            Some(ListCursor {
                date: Some(at),
                id: after,
            }) => {
                let at = Value::Integer(time_codec::encode(*at));
                vec![
                    segment(
                        format!("{date} = ?A AND {id} > ?B"),
                        vec![at.clone(), text(after)],
                        by_id.clone(),
                    ),
                    segment(format!("{date} < ?A"), vec![at], newest_first),
                    segment(format!("{date} IS NULL"), vec![], by_id),
                ]
            }
        }
    }

    /// The rows of `scan`: at most `scan.max`, and whether more follow.
    pub(crate) fn run(&self, conn: &Connection, scan: &Scan) -> Result<Scanned<T>, StoreError> {
        let wanted = usize::try_from(scan.max.saturating_add(1)).unwrap_or(usize::MAX);
        let mut rows = Vec::new();
        for segment in self.segments(scan.after.as_ref()) {
            if rows.len() >= wanted {
                break;
            }
            // `?A`, `?B` are the segment's values, numbered after the query's own.
            let mut params = self.params.clone();
            let mut condition = segment.condition;
            for (name, value) in ["?A", "?B"].iter().zip(segment.values) {
                params.push(value);
                condition = condition.replace(name, &format!("?{}", params.len()));
            }
            params.push(Value::Integer(time_codec::int(
                (wanted - rows.len()) as u64,
            )));
            let sql = format!(
                "{} AND {condition} ORDER BY {} LIMIT ?{}",
                self.select,
                segment.order,
                params.len()
            );
            let mut statement = conn.prepare_cached(&sql).store()?;
            let mut found = statement
                .query(rusqlite::params_from_iter(params))
                .store()?;
            while let Some(row) = found.next().store()? {
                rows.push((self.decode)(row)?);
            }
        }
        Ok(Scanned::from_overfetch(rows, scan.max))
    }
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}
