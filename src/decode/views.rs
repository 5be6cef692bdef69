//! Views over the link and tunnel headers that etherparse does not decode: Linux cooked
//! capture v1/v2, BSD null/loopback, PPPoE session, MPLS, GRE, VXLAN, GENEVE, ERSPAN II/III.
//!
//! Contract (as smoltcp's `wire`): each view is built with `new_checked`, which checks the
//! buffer is long enough for every fixed field *and* every variable part the header itself
//! announces (GRE optional words, GENEVE options, ERSPAN III sub-header). Once it returns
//! `Ok`, no accessor can panic. Offsets are `Range` constants in a private `field` module.

use super::{Layer, StopReason};

type Field = core::ops::Range<usize>;

fn be16(b: &[u8], f: Field) -> u16 {
    u16::from_be_bytes([b[f.start], b[f.start + 1]])
}

fn be32(b: &[u8], f: Field) -> u32 {
    u32::from_be_bytes([b[f.start], b[f.start + 1], b[f.start + 2], b[f.start + 3]])
}

/// Error of a view: which layer, and why the header was refused.
pub type ViewError = (Layer, StopReason);

fn need(buf: &[u8], len: usize, layer: Layer) -> Result<(), ViewError> {
    if buf.len() < len {
        Err((layer, StopReason::Truncated))
    } else {
        Ok(())
    }
}

/// Linux cooked capture v1 (`LINKTYPE_LINUX_SLL`, 16 bytes).
pub struct Sll<'a> {
    buf: &'a [u8],
}

mod sll {
    use super::Field;
    pub const PROTOCOL: Field = 14..16;
    pub const LEN: usize = 16;
}

impl<'a> Sll<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, ViewError> {
        need(buf, sll::LEN, Layer::Link)?;
        Ok(Self { buf })
    }
    pub fn protocol(&self) -> u16 {
        be16(self.buf, sll::PROTOCOL)
    }
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[sll::LEN..]
    }
}

/// Linux cooked capture v2 (`LINKTYPE_LINUX_SLL2`, 20 bytes, protocol first).
pub struct Sll2<'a> {
    buf: &'a [u8],
}

mod sll2 {
    use super::Field;
    pub const PROTOCOL: Field = 0..2;
    pub const LEN: usize = 20;
}

impl<'a> Sll2<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, ViewError> {
        need(buf, sll2::LEN, Layer::Link)?;
        Ok(Self { buf })
    }
    pub fn protocol(&self) -> u16 {
        be16(self.buf, sll2::PROTOCOL)
    }
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[sll2::LEN..]
    }
}

/// BSD loopback: a 4-byte address family, host order (`NULL`) or network order (`LOOP`).
pub struct Null<'a> {
    buf: &'a [u8],
}

impl<'a> Null<'a> {
    pub const LEN: usize = 4;
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, ViewError> {
        need(buf, Self::LEN, Layer::Link)?;
        Ok(Self { buf })
    }
    /// The address family. The writer's byte order is unknown for `NULL`, so both orders
    /// are tried: families are small numbers, so the order giving a value < 256 is right.
    pub fn family(&self) -> u32 {
        let b = [self.buf[0], self.buf[1], self.buf[2], self.buf[3]];
        let be = u32::from_be_bytes(b);
        if be < 256 {
            be
        } else {
            u32::from_le_bytes(b)
        }
    }
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[Self::LEN..]
    }
}

/// PPPoE session stage (ether type 0x8864) followed by the 2-byte PPP protocol.
pub struct Pppoe<'a> {
    buf: &'a [u8],
}

mod pppoe {
    use super::Field;
    pub const VER_TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const LENGTH: Field = 4..6;
    pub const PPP_PROTOCOL: Field = 6..8;
    pub const LEN: usize = 8;
}

impl<'a> Pppoe<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, ViewError> {
        need(buf, pppoe::LEN, Layer::Pppoe)?;
        // Version 1, type 1; session data has code 0.
        if buf[pppoe::VER_TYPE] != 0x11 || buf[pppoe::CODE] != 0 {
            return Err((Layer::Pppoe, StopReason::BadHeader));
        }
        Ok(Self { buf })
    }
    /// PPP protocol: 0x0021 IPv4, 0x0057 IPv6.
    pub fn ppp_protocol(&self) -> u16 {
        be16(self.buf, pppoe::PPP_PROTOCOL)
    }
    /// The PPP payload, cut to the PPPoE length field when it is shorter than the buffer
    /// (Ethernet padding), else the rest of the buffer.
    pub fn payload(&self) -> &'a [u8] {
        let claimed = usize::from(be16(self.buf, pppoe::LENGTH)).saturating_add(6);
        let end = claimed.clamp(pppoe::LEN, self.buf.len());
        &self.buf[pppoe::LEN..end]
    }
}

/// One MPLS label stack entry (4 bytes).
pub struct MplsEntry {
    word: u32,
}

impl MplsEntry {
    pub fn new_checked(buf: &[u8]) -> Result<Self, ViewError> {
        need(buf, 4, Layer::Mpls)?;
        Ok(Self {
            word: be32(buf, 0..4),
        })
    }
    pub fn bottom_of_stack(&self) -> bool {
        self.word & 0x100 != 0
    }
}

/// GRE (RFC 2784 / 2890) version 0: optional checksum, key and sequence words.
pub struct Gre<'a> {
    buf: &'a [u8],
    header_len: usize,
}

mod gre {
    use super::Field;
    pub const FLAGS: Field = 0..2;
    pub const PROTOCOL: Field = 2..4;
    pub const BASE_LEN: usize = 4;
    pub const C: u16 = 0x8000;
    pub const K: u16 = 0x2000;
    pub const S: u16 = 0x1000;
    pub const VERSION: u16 = 0x0007;
    /// Routing present (RFC 1701): not supported, deprecated.
    pub const R: u16 = 0x4000;
}

impl<'a> Gre<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, ViewError> {
        need(buf, gre::BASE_LEN, Layer::Gre)?;
        let flags = be16(buf, gre::FLAGS);
        if flags & gre::VERSION != 0 || flags & gre::R != 0 {
            return Err((Layer::Gre, StopReason::Unsupported));
        }
        let mut len = gre::BASE_LEN;
        for bit in [gre::C, gre::K, gre::S] {
            if flags & bit != 0 {
                len += 4;
            }
        }
        need(buf, len, Layer::Gre)?;
        Ok(Self {
            buf,
            header_len: len,
        })
    }
    pub fn protocol(&self) -> u16 {
        be16(self.buf, gre::PROTOCOL)
    }
    fn flags(&self) -> u16 {
        be16(self.buf, gre::FLAGS)
    }
    pub fn has_sequence(&self) -> bool {
        self.flags() & gre::S != 0
    }
    pub fn key(&self) -> Option<u32> {
        let flags = self.flags();
        if flags & gre::K == 0 {
            return None;
        }
        let at = gre::BASE_LEN + if flags & gre::C != 0 { 4 } else { 0 };
        Some(be32(self.buf, at..at + 4))
    }
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..]
    }
}

/// VXLAN (RFC 7348): 8 bytes, the I flag says the VNI is valid.
pub struct Vxlan<'a> {
    buf: &'a [u8],
}

mod vxlan {
    use super::Field;
    pub const FLAGS: usize = 0;
    pub const VNI: Field = 4..8;
    pub const LEN: usize = 8;
    pub const I: u8 = 0x08;
}

impl<'a> Vxlan<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, ViewError> {
        need(buf, vxlan::LEN, Layer::Vxlan)?;
        if buf[vxlan::FLAGS] & vxlan::I == 0 {
            return Err((Layer::Vxlan, StopReason::BadHeader));
        }
        Ok(Self { buf })
    }
    pub fn vni(&self) -> u32 {
        be32(self.buf, vxlan::VNI) >> 8
    }
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[vxlan::LEN..]
    }
}

/// GENEVE (RFC 8926): 8 bytes plus options whose length the header gives.
pub struct Geneve<'a> {
    buf: &'a [u8],
    header_len: usize,
}

mod geneve {
    use super::Field;
    pub const VER_OPTLEN: usize = 0;
    pub const PROTOCOL: Field = 2..4;
    pub const VNI: Field = 4..8;
    pub const BASE_LEN: usize = 8;
}

impl<'a> Geneve<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, ViewError> {
        need(buf, geneve::BASE_LEN, Layer::Geneve)?;
        let b0 = buf[geneve::VER_OPTLEN];
        if b0 >> 6 != 0 {
            return Err((Layer::Geneve, StopReason::BadVersion));
        }
        let len = geneve::BASE_LEN + usize::from(b0 & 0x3f) * 4;
        need(buf, len, Layer::Geneve)?;
        Ok(Self {
            buf,
            header_len: len,
        })
    }
    pub fn protocol(&self) -> u16 {
        be16(self.buf, geneve::PROTOCOL)
    }
    pub fn vni(&self) -> u32 {
        be32(self.buf, geneve::VNI) >> 8
    }
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..]
    }
}

/// ERSPAN type II (8 bytes) or type III (12 bytes, plus 8 when the O flag announces the
/// platform-specific sub-header); an Ethernet frame follows.
pub struct Erspan<'a> {
    buf: &'a [u8],
    header_len: usize,
}

mod erspan {
    use super::Field;
    pub const VER_VLAN: Field = 0..2;
    pub const SESSION: Field = 2..4;
    pub const LEN_II: usize = 8;
    pub const LEN_III: usize = 12;
    pub const III_FLAGS: usize = 11;
    pub const III_O: u8 = 0x01;
    pub const III_PLATFORM_LEN: usize = 8;
}

impl<'a> Erspan<'a> {
    pub fn new_checked(buf: &'a [u8], type3: bool) -> Result<Self, ViewError> {
        let base = if type3 {
            erspan::LEN_III
        } else {
            erspan::LEN_II
        };
        need(buf, base, Layer::Erspan)?;
        let version = be16(buf, erspan::VER_VLAN) >> 12;
        let expected = if type3 { 2 } else { 1 };
        if version != expected {
            return Err((Layer::Erspan, StopReason::BadVersion));
        }
        let mut len = base;
        if type3 && buf[erspan::III_FLAGS] & erspan::III_O != 0 {
            len += erspan::III_PLATFORM_LEN;
        }
        need(buf, len, Layer::Erspan)?;
        Ok(Self {
            buf,
            header_len: len,
        })
    }
    /// The 10-bit session id.
    pub fn session(&self) -> u16 {
        be16(self.buf, erspan::SESSION) & 0x03ff
    }
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.header_len..]
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Every truncation of a valid header must be refused by `new_checked`, never panic.
    fn all_truncations_refused<F: Fn(&[u8]) -> bool>(sample: &[u8], header_len: usize, ok: F) {
        for cut in 0..header_len {
            assert!(!ok(&sample[..cut]), "accepted a {cut}-byte truncation");
        }
        assert!(ok(sample));
    }

    #[test]
    fn sll_fields_and_truncations() {
        let mut s = [0u8; 20];
        s[14] = 0x08;
        let v = Sll::new_checked(&s).unwrap();
        assert_eq!(v.protocol(), 0x0800);
        assert_eq!(v.payload().len(), 4);
        all_truncations_refused(&s, 16, |b| Sll::new_checked(b).is_ok());
    }

    #[test]
    fn sll2_fields_and_truncations() {
        let mut s = [0u8; 20];
        s[0] = 0x86;
        s[1] = 0xdd;
        assert_eq!(Sll2::new_checked(&s).unwrap().protocol(), 0x86dd);
        all_truncations_refused(&s, 20, |b| Sll2::new_checked(b).is_ok());
    }

    #[test]
    fn null_family_either_byte_order() {
        assert_eq!(Null::new_checked(&[2, 0, 0, 0]).unwrap().family(), 2);
        assert_eq!(Null::new_checked(&[0, 0, 0, 30]).unwrap().family(), 30);
        assert!(Null::new_checked(&[2, 0, 0]).is_err());
    }

    #[test]
    fn pppoe_checks_version_and_cuts_padding() {
        let s = [0x11, 0, 0x12, 0x34, 0, 4, 0x00, 0x21, 0xaa, 0xbb, 0, 0, 0];
        let v = Pppoe::new_checked(&s).unwrap();
        assert_eq!(v.ppp_protocol(), 0x21);
        assert_eq!(v.payload(), &[0xaa, 0xbb]);
        let mut bad = s;
        bad[0] = 0x21;
        assert_eq!(
            Pppoe::new_checked(&bad).err(),
            Some((Layer::Pppoe, StopReason::BadHeader))
        );
        all_truncations_refused(&s, 8, |b| Pppoe::new_checked(b).is_ok());
    }

    #[test]
    fn pppoe_length_shorter_than_header_is_empty_payload() {
        let s = [0x11, 0, 0, 1, 0, 0, 0x00, 0x21, 1, 2];
        assert!(Pppoe::new_checked(&s).unwrap().payload().is_empty());
    }

    #[test]
    fn mpls_label_and_bos() {
        // label 100, tc 0, bos 1, ttl 64
        let w = (100u32 << 12) | 0x100 | 64;
        let e = MplsEntry::new_checked(&w.to_be_bytes()).unwrap();
        assert!(e.bottom_of_stack());
        assert!(MplsEntry::new_checked(&[0, 0, 0]).is_err());
    }

    #[test]
    fn gre_optional_words() {
        // C and K set: checksum word then key.
        let s = [0xa0, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 42, 0x45];
        let g = Gre::new_checked(&s).unwrap();
        assert_eq!(g.protocol(), 0x0800);
        assert_eq!(g.key(), Some(42));
        assert_eq!(g.payload(), &[0x45]);
        all_truncations_refused(&s, 12, |b| Gre::new_checked(b).is_ok());
        let v1 = [0x00, 0x01, 0x88, 0x0b];
        assert_eq!(
            Gre::new_checked(&v1).err(),
            Some((Layer::Gre, StopReason::Unsupported))
        );
    }

    #[test]
    fn vxlan_vni_and_flag() {
        let s = [0x08, 0, 0, 0, 0x01, 0x02, 0x03, 0x00, 0xff];
        let v = Vxlan::new_checked(&s).unwrap();
        assert_eq!(v.vni(), 0x010203);
        assert_eq!(v.payload(), &[0xff]);
        assert!(Vxlan::new_checked(&[0u8; 8]).is_err());
        all_truncations_refused(&s, 8, |b| Vxlan::new_checked(b).is_ok());
    }

    #[test]
    fn geneve_options_length() {
        // one 4-byte option word
        let s = [0x01, 0, 0x65, 0x58, 0, 0, 7, 0, 1, 2, 3, 4, 0xee];
        let g = Geneve::new_checked(&s).unwrap();
        assert_eq!(g.vni(), 7);
        assert_eq!(g.protocol(), 0x6558);
        assert_eq!(g.payload(), &[0xee]);
        all_truncations_refused(&s, 12, |b| Geneve::new_checked(b).is_ok());
        let mut bad = s;
        bad[0] = 0x40;
        assert_eq!(
            Geneve::new_checked(&bad).err(),
            Some((Layer::Geneve, StopReason::BadVersion))
        );
    }

    #[test]
    fn erspan_types() {
        let ii = [0x10, 0x00, 0x00, 0x2a, 0, 0, 0, 0, 0xee];
        let v = Erspan::new_checked(&ii, false).unwrap();
        assert_eq!(v.session(), 42);
        assert_eq!(v.payload(), &[0xee]);
        all_truncations_refused(&ii, 8, |b| Erspan::new_checked(b, false).is_ok());
        assert!(Erspan::new_checked(&ii, true).is_err());

        let mut iii = [0u8; 21];
        iii[0] = 0x20;
        iii[3] = 5;
        iii[11] = 0x01; // platform sub-header present
        iii[20] = 0xee;
        let v = Erspan::new_checked(&iii, true).unwrap();
        assert_eq!(v.session(), 5);
        assert_eq!(v.payload(), &[0xee]);
        all_truncations_refused(&iii, 20, |b| Erspan::new_checked(b, true).is_ok());
    }
}
