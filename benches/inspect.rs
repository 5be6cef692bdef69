//! Criterion bench of the per-transaction analyzers on the worker: credential
//! classification and sensitive data detection with redaction ([`Inspector::inspect`]), and
//! the serialisation of the resulting `sensitive[]` items, over the transactions of the
//! end-to-end benchmark capture (`synth::bench::sample_messages`: the same headers, paths
//! and JSON bodies of 100 B to 20 KiB, each item carrying an e-mail address).
//! Run: `cargo bench --bench inspect`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use apitap::http::Transaction;

use apitap::analyze::auth::AuthConfig;
use apitap::analyze::inspect::{InspectSetup, RedactionKey};
use apitap::analyze::sensitive::SensitiveConfig;

fn bench(c: &mut Criterion) {
    let txs = apitap::synth::bench::sample_transactions(1, 2000);
    let bytes = apitap::synth::bench::body_bytes(&txs);
    let setup = InspectSetup::new(
        &SensitiveConfig::default(),
        &AuthConfig::default(),
        &RedactionKey::from_bytes(b"criterion bench redaction key 0123456789"),
        false,
    )
    .expect("default config");
    let mut inspector = setup.inspector().expect("default auth config");
    let json = "application/json";
    let mut g = c.benchmark_group("inspect");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(20);
    g.bench_function("bench_capture_txs", |b| {
        b.iter(|| {
            let mut items = 0usize;
            for t in &txs {
                let i = inspector.inspect(
                    t.request.as_ref(),
                    t.response.as_ref(),
                    Some(json),
                    Some(json),
                    1_767_225_600_000_000,
                );
                items += i.sensitive.len();
            }
            items
        })
    });
    g.bench_function("bench_capture_txs_serialised", |b| {
        let mut buf = Vec::with_capacity(1 << 20);
        b.iter(|| {
            buf.clear();
            for t in &txs {
                let i = inspector.inspect(
                    t.request.as_ref(),
                    t.response.as_ref(),
                    Some(json),
                    Some(json),
                    1_767_225_600_000_000,
                );
                serde_json::to_writer(&mut buf, &i.sensitive).expect("serialises");
            }
            buf.len()
        })
    });
    // The per-transaction part alone: the same transactions without their bodies.
    let heads: Vec<Transaction> = txs
        .iter()
        .cloned()
        .map(|mut t| {
            if let Some(r) = t.request.as_mut() {
                r.body.data.clear();
            }
            if let Some(r) = t.response.as_mut() {
                r.body.data.clear();
            }
            t
        })
        .collect();
    g.throughput(Throughput::Elements(heads.len() as u64));
    g.bench_function("bench_capture_heads", |b| {
        b.iter(|| {
            let mut items = 0usize;
            for t in &heads {
                let i = inspector.inspect(
                    t.request.as_ref(),
                    t.response.as_ref(),
                    Some(json),
                    Some(json),
                    1_767_225_600_000_000,
                );
                items += i.sensitive.len();
            }
            items
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
