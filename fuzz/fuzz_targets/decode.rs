//! Any frame, under any link type, through the decoder and the fragment reassembler.
#![no_main]
use apitap::decode::frag::{Defrag, FragConfig, FragResult};
use apitap::decode::{DecodeConfig, Decoder, LinkType, Outcome};
use libfuzzer_sys::fuzz_target;

const LINKS: [LinkType; 8] = [
    LinkType::Ethernet,
    LinkType::Null,
    LinkType::Loop,
    LinkType::Raw,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::Sll,
    LinkType::Sll2,
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let mut d = Decoder::new(DecodeConfig::default());
    let mut defrag = Defrag::new(FragConfig {
        max_datagrams: 4,
        max_bytes: 4096,
        max_fragments: 8,
        ..FragConfig::default()
    });
    // The input may hold several frames separated by a 2-byte length.
    let mut input = rest;
    let mut ts = 0;
    while input.len() >= 2 {
        let len = usize::from(u16::from_le_bytes([input[0], input[1]])).min(input.len() - 2);
        let frame = &input[2..2 + len];
        input = &input[2 + len..];
        ts += 1_000_000;
        if let Outcome::Fragment(f) = d.decode(LINKS[usize::from(sel) % LINKS.len()], frame) {
            if let FragResult::Done(r) = defrag.add(ts, &f) {
                let _ = d.decode_reassembled(r.ctx, r.src, r.dst, r.proto, &r.payload);
            }
        }
    }
});
