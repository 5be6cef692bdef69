//! The bare libpcap read loop: the speed limit apitap's pipeline chases. Reads every packet
//! of the files and touches its bytes, nothing else.
//! Run: `cargo run --release --example read_loop -- FILE...`

use std::time::Instant;

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: read_loop FILE...");
        std::process::exit(2);
    }
    let start = Instant::now();
    let (mut packets, mut bytes, mut touch) = (0u64, 0u64, 0u64);
    for f in &files {
        let mut cap = match pcap::Capture::from_file(f) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("read_loop: {f}: {e}");
                std::process::exit(2);
            }
        };
        while let Ok(p) = cap.next_packet() {
            packets += 1;
            bytes += u64::from(p.header.len);
            touch = touch.wrapping_add(u64::from(p.data.first().copied().unwrap_or(0)));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "read_loop packets={packets} bytes={bytes} seconds={secs:.3} pps={:.0} gbps={:.3} touch={touch}",
        packets as f64 / secs,
        bytes as f64 * 8.0 / secs / 1e9
    );
}
