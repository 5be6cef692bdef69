//! Criterion bench of the whole pipeline up to the flow tables (capture file reader,
//! decode, shard, workers, flow events to a discarding sink) on a 64 MiB capture from the
//! project's own builder, for 1 and 2 workers. Run: `cargo bench --bench pipeline`.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use apitap::capture::Reader;
use apitap::config::{Config, Mode, Overrides};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path: PathBuf = dir.path().join("bench.pcap");
    let info = apitap::synth::write_bench_capture(&path, 64 << 20, 7).expect("capture written");
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(info.bytes));
    for workers in [1usize, 2] {
        let cfg = Config::from_parts(
            Mode::Replay,
            Overrides {
                workers: Some(workers),
                stats_interval: Some("0".into()),
                sensor_name: Some("bench".into()),
                ..Overrides::default()
            },
            None,
        )
        .expect("valid config");
        g.bench_with_input(BenchmarkId::new("replay", workers), &cfg, |b, cfg| {
            b.iter(|| {
                let reader = Reader::open_files(std::slice::from_ref(&path), None).expect("opens");
                let (_keep, shutdown) = crossbeam_channel::bounded::<()>(1);
                let out: Box<dyn std::io::Write + Send> = Box::new(std::io::sink());
                let summary = apitap::pipeline::run(cfg, reader, shutdown, out).expect("runs");
                assert_eq!(summary.snapshot.capture.packets, info.packets);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
