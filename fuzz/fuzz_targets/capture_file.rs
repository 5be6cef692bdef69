//! Any bytes as a pcap or pcapng file: opening and reading never panic or loop.
#![no_main]
use apitap::capture::file::{FileNext, FileReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = FileReader::open(data) {
        let mut n = 0u32;
        while let FileNext::Packet { .. } = r.next_packet() {
            n += 1;
            assert!(n < 1_000_000);
        }
    }
});
