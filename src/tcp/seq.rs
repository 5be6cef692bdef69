//! Stage 4, tcp: TCP sequence numbers, which are not integers.
//!
//! `SeqNum` orders only through wrapping comparison (RFC 1982 serial arithmetic): it is
//! `PartialOrd` but not `Ord`, and is never used as a map key. Reassembly converts to `u64`
//! stream offsets at the edge ([`SeqNum::offset_from`]) and works only in offsets.

use std::cmp::Ordering;

/// A TCP sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeqNum(pub u32);

impl PartialOrd for SeqNum {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        // Two numbers exactly 2^31 apart have no order.
        let d = self.0.wrapping_sub(other.0);
        if d == 0x8000_0000 {
            None
        } else {
            (d as i32).partial_cmp(&0)
        }
    }
}

impl SeqNum {
    /// `self + n`, wrapping.
    pub fn plus(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }

    /// How far `self` is after `from`, when it is after (or equal) by less than 2^31.
    pub fn distance_from(self, from: SeqNum) -> Option<u32> {
        let d = self.0.wrapping_sub(from.0);
        (d < 0x8000_0000).then_some(d)
    }

    /// The signed distance from `from` to `self` (`self - from`), in -2^31..2^31.
    pub fn signed_from(self, from: SeqNum) -> i64 {
        i64::from(self.0.wrapping_sub(from.0) as i32)
    }

    /// The stream offset of `self`, given that `at` is the sequence number of offset
    /// `at_offset`. `None` when the result would be negative.
    pub fn offset_from(self, at: SeqNum, at_offset: u64) -> Option<u64> {
        let d = self.signed_from(at);
        if d >= 0 {
            at_offset.checked_add(d as u64)
        } else {
            at_offset.checked_sub(d.unsigned_abs())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ordering_wraps() {
        assert!(SeqNum(1) > SeqNum(0));
        assert!(SeqNum(0) > SeqNum(u32::MAX));
        assert!(SeqNum(5) < SeqNum(5u32.wrapping_add(0x7fff_ffff)));
        assert_eq!(SeqNum(0).partial_cmp(&SeqNum(0x8000_0000)), None);
        assert_eq!(SeqNum(7).partial_cmp(&SeqNum(7)), Some(Ordering::Equal));
    }

    #[test]
    fn distance_and_offsets() {
        assert_eq!(SeqNum(10).distance_from(SeqNum(u32::MAX - 5)), Some(16));
        assert_eq!(SeqNum(0).distance_from(SeqNum(1)), None);
        assert_eq!(SeqNum(3).offset_from(SeqNum(u32::MAX), 100), Some(104));
        assert_eq!(SeqNum(u32::MAX).offset_from(SeqNum(3), 100), Some(96));
        assert_eq!(SeqNum(0).offset_from(SeqNum(10), 5), None);
        assert_eq!(SeqNum(1).plus(u32::MAX), SeqNum(0));
    }

    proptest! {
        #[test]
        fn offset_roundtrip(base in any::<u32>(), at_off in 0u64..(1 << 40), d in -(1i64 << 30)..(1i64 << 30)) {
            let at = SeqNum(base);
            let s = SeqNum(base.wrapping_add(d as i32 as u32));
            let want = at_off as i64 + d;
            let got = s.offset_from(at, at_off);
            if want < 0 { prop_assert_eq!(got, None); } else { prop_assert_eq!(got, Some(want as u64)); }
        }

        #[test]
        fn antisymmetric(a in any::<u32>(), b in any::<u32>()) {
            let (x, y) = (SeqNum(a), SeqNum(b));
            match x.partial_cmp(&y) {
                Some(o) => prop_assert_eq!(y.partial_cmp(&x), Some(o.reverse())),
                None => prop_assert_eq!(y.partial_cmp(&x), None),
            }
        }
    }
}
