//! Criterion bench of stage 2 (decode): frames per second for the encapsulations apitap
//! meets on mirror ports. Run: `cargo bench --bench decode`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use etherparse::PacketBuilder;

use apitap::decode::{DecodeConfig, Decoder, LinkType, Outcome};

fn tcp_frame(payload_len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([192, 168, 1, 10], [10, 0, 0, 80], 64)
        .tcp(40000, 80, 1000, 65535)
        .ack(1)
        .write(&mut out, &vec![b'a'; payload_len])
        .expect("frame builds");
    out
}

fn vlan_frame(payload_len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .single_vlan(etherparse::VlanId::try_new(42).expect("valid vlan"))
        .ipv4([192, 168, 1, 10], [10, 0, 0, 80], 64)
        .tcp(40000, 80, 1000, 65535)
        .write(&mut out, &vec![b'a'; payload_len])
        .expect("frame builds");
    out
}

fn vxlan_frame(payload_len: usize) -> Vec<u8> {
    let inner = tcp_frame(payload_len);
    let mut vx = vec![0x08, 0, 0, 0, 0, 0, 7, 0];
    vx.extend_from_slice(&inner);
    let mut out = Vec::new();
    PacketBuilder::ethernet2([3; 6], [4; 6])
        .ipv4([10, 255, 0, 1], [10, 255, 0, 2], 64)
        .udp(55555, 4789)
        .write(&mut out, &vx)
        .expect("frame builds");
    out
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    for (name, frame) in [
        ("eth_ipv4_tcp_64", tcp_frame(64)),
        ("eth_ipv4_tcp_1400", tcp_frame(1400)),
        ("vlan_ipv4_tcp_1400", vlan_frame(1400)),
        ("vxlan_ipv4_tcp_1400", vxlan_frame(1400)),
    ] {
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::from_parameter(name), &frame, |b, f| {
            let mut d = Decoder::new(DecodeConfig::default());
            b.iter(
                || match d.decode(LinkType::Ethernet, std::hint::black_box(f)) {
                    Outcome::L4(l4) => l4.payload.len(),
                    _ => 0,
                },
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
