//! Timestamps as SQLite integers: nanoseconds since the Unix epoch, UTC. Integers sort and
//! compare correctly in indexes, unlike RFC 3339 text with mixed offsets.

use time::OffsetDateTime;

/// Encodes a timestamp (saturating outside 1677-2262, far beyond any business date).
pub(crate) fn encode(at: OffsetDateTime) -> i64 {
    let nanos = at.unix_timestamp_nanos();
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

/// Decodes a timestamp written by [`encode`].
pub(crate) fn decode(nanos: i64) -> OffsetDateTime {
    // Every i64 of nanoseconds is within the range `time` supports.
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A count or limit as an SQLite integer (saturating).
pub(crate) fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_timestamp_survives_encoding_at_nanosecond_precision() {
        let at = datetime!(2026-03-01 10:15:30.123456789 +02:00);
        assert_eq!(decode(encode(at)), at);
    }

    #[test]
    fn encoding_preserves_order_across_offsets() {
        let earlier = datetime!(2026-03-01 10:00 +02:00);
        let later = datetime!(2026-03-01 09:00 UTC);
        assert!(encode(earlier) < encode(later));
    }
}
