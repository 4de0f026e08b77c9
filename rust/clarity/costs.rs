//! Cost accounting: every call runs under a budget of runtime units and storage reads and
//! writes (count and bytes); the block's remaining budget caps each call's budget.

use std::fmt;

/// Resource use (or a limit on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cost {
    /// Abstract runtime units: one per evaluated expression plus size-proportional charges.
    pub runtime: u64,
    pub read_count: u64,
    /// Bytes read (keys and values).
    pub read_length: u64,
    pub write_count: u64,
    /// Bytes written (keys and values).
    pub write_length: u64,
}

impl Cost {
    /// Default per-call limit. The storage fields are the reference's (stacks-core's block
    /// limit, which is also what one of its transactions may use): real contracts rely on
    /// them, e.g. airdrops that mint to a few thousand holders when deployed.
    pub const CALL_LIMIT: Cost = Cost {
        runtime: 5_000_000,
        read_count: 15_000,
        read_length: 100_000_000,
        write_count: 15_000,
        write_length: 15_000_000,
    };

    /// Default per-block limit.
    pub const BLOCK_LIMIT: Cost = Cost {
        runtime: 500_000_000,
        read_count: 50_000,
        read_length: 100_000_000,
        write_count: 25_000,
        write_length: 20_000_000,
    };

    /// Component-wise minimum.
    pub fn min(self, o: Cost) -> Cost {
        Cost {
            runtime: self.runtime.min(o.runtime),
            read_count: self.read_count.min(o.read_count),
            read_length: self.read_length.min(o.read_length),
            write_count: self.write_count.min(o.write_count),
            write_length: self.write_length.min(o.write_length),
        }
    }

    pub fn saturating_sub(self, o: Cost) -> Cost {
        Cost {
            runtime: self.runtime.saturating_sub(o.runtime),
            read_count: self.read_count.saturating_sub(o.read_count),
            read_length: self.read_length.saturating_sub(o.read_length),
            write_count: self.write_count.saturating_sub(o.write_count),
            write_length: self.write_length.saturating_sub(o.write_length),
        }
    }

    pub fn saturating_add(self, o: Cost) -> Cost {
        Cost {
            runtime: self.runtime.saturating_add(o.runtime),
            read_count: self.read_count.saturating_add(o.read_count),
            read_length: self.read_length.saturating_add(o.read_length),
            write_count: self.write_count.saturating_add(o.write_count),
            write_length: self.write_length.saturating_add(o.write_length),
        }
    }

    /// The first component over `limit`, if any.
    pub fn exceeded(&self, limit: &Cost) -> Option<&'static str> {
        if self.runtime > limit.runtime {
            Some("runtime")
        } else if self.read_count > limit.read_count {
            Some("read_count")
        } else if self.read_length > limit.read_length {
            Some("read_length")
        } else if self.write_count > limit.write_count {
            Some("write_count")
        } else if self.write_length > limit.write_length {
            Some("write_length")
        } else {
            None
        }
    }
}

impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "runtime={} reads={} read_bytes={} writes={} write_bytes={}",
            self.runtime, self.read_count, self.read_length, self.write_count, self.write_length
        )
    }
}
