//! Criterion bench of API discovery's per-call work on a worker: the stateless template of
//! a path (what every call is summed under), and the body shape of a sampled JSON body
//! (the fingerprint every sampled body gets, the schema only a new shape gets).
//! Run: `cargo bench --bench discovery`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use apitap::analyze::spec::{Schema, SchemaLimits};
use apitap::analyze::template::{PathTrie, TemplateConfig};

/// Paths in the styles of real APIs (numeric, UUID, prefixed and slug identifiers, versions,
/// format suffixes, literal siblings of parameters).
const PATHS: &[&str] = &[
    "/api/v1/users/48213/orders",
    "/api/v1/orders/3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    "/v2/repos/octocat/hello-world/pulls/1347/comments",
    "/v1/customers/cus_NffrFeUfNV2Hib/invoices",
    "/store/order/7",
    "/pet/findByStatus",
    "/users/me",
    "/rest/api/2/issue/PROJ-123/comment",
    "/reports/2024-01-05/summary.json",
    "/api/v1/products/507f1f77bcf86cd799439011/reviews",
    "/static/js/app.4f2a9c.js",
    "/accounts/42/payment-methods/pm_1NirD82eZvKYlo2CIvbtLWuY",
];

/// A JSON document of `items` objects, as list endpoints answer.
fn body(items: usize) -> Vec<u8> {
    let mut s = String::from(r#"{"id":7,"next":null,"items":["#);
    for i in 0..items {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#"{{"id":{i},"name":"item-{i}","email":"user{i}@example.com","tags":["a","b"],"price":{i}.5,"active":true,"owner":{{"id":{i},"login":"u{i}"}}}}"#
        ));
    }
    s.push_str(r#"],"total":99}"#);
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    let cfg = TemplateConfig::default();
    let blank = PathTrie::<()>::new();
    let mut g = c.benchmark_group("discovery");
    g.throughput(Throughput::Elements(PATHS.len() as u64));
    g.bench_function("stateless_template", |b| {
        b.iter(|| {
            for p in PATHS {
                std::hint::black_box(blank.lookup(std::hint::black_box(p), &cfg));
            }
        })
    });
    let limits = SchemaLimits::default();
    for (name, items) in [("small", 2usize), ("large", 60)] {
        let doc = body(items);
        g.throughput(Throughput::Bytes(doc.len() as u64));
        g.bench_function(format!("shape_fingerprint/{name}"), |b| {
            b.iter(|| Schema::fingerprint(std::hint::black_box(&doc), &limits))
        });
        g.bench_function(format!("shape_build/{name}"), |b| {
            b.iter(|| Schema::from_json_slice(std::hint::black_box(&doc), &limits))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
