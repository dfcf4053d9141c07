//! Capacity units by AWS's published rules ("DynamoDB read and write operations",
//! Developer Guide): a write unit per 1 KB written, a read unit per 4 KB read strongly
//! consistent, half for eventually consistent, two for transactional; both doubled in a
//! transaction.

/// 1 KB, the write unit's size.
pub const WRITE_UNIT_BYTES: u64 = 1024;
/// 4 KB, the read unit's size.
pub const READ_UNIT_BYTES: u64 = 4096;

/// How a read is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consistency {
    Eventual,
    Strong,
    Transactional,
}

/// Write units for writing one item of `bytes` (a zero-byte write still costs one unit).
pub fn write_units(bytes: u64, transactional: bool) -> f64 {
    let units = bytes.div_ceil(WRITE_UNIT_BYTES).max(1) as f64;
    if transactional { 2.0 * units } else { units }
}

/// Read units for `bytes` read in one rounding (one item of a get or batch get, or everything
/// a query read).
pub fn read_units(bytes: u64, consistency: Consistency) -> f64 {
    let units = bytes.div_ceil(READ_UNIT_BYTES).max(1) as f64;
    match consistency {
        Consistency::Eventual => units / 2.0,
        Consistency::Strong => units,
        Consistency::Transactional => 2.0 * units,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked examples of AWS's "DynamoDB read and write operations" page.
    #[test]
    fn a_3500_byte_item_reads_as_4_kb() {
        assert_eq!(read_units(3_500, Consistency::Strong), 1.0);
    }

    #[test]
    fn an_8_kb_item_costs_2_strong_1_eventual_4_transactional() {
        assert_eq!(read_units(8 * 1024, Consistency::Strong), 2.0);
        assert_eq!(read_units(8 * 1024, Consistency::Eventual), 1.0);
        assert_eq!(read_units(8 * 1024, Consistency::Transactional), 4.0);
    }

    #[test]
    fn a_10_kb_item_rounds_to_12_kb() {
        assert_eq!(read_units(10 * 1024, Consistency::Strong), 3.0);
    }

    #[test]
    fn a_batch_get_of_1_5_and_6_5_kb_rounds_each_item_to_12_kb() {
        let batch = read_units(1_536, Consistency::Strong) + read_units(6_656, Consistency::Strong);
        assert_eq!(batch, 3.0, "4 KB + 8 KB, not 8 KB");
    }

    #[test]
    fn writes_round_up_to_1_kb_and_double_in_a_transaction() {
        assert_eq!(write_units(500, false), 1.0);
        assert_eq!(
            write_units(1_536, false),
            2.0,
            "a 1.5 KB item costs 2 write units"
        );
        assert_eq!(write_units(1_024, true), 2.0);
        assert_eq!(write_units(0, false), 1.0);
    }
}
