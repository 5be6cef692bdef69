//! Runs the inspector once over the transactions of the benchmark capture
//! (`synth::bench::sample_messages`), for instruction counts that do not depend on a noisy
//! machine:
//!
//! ```sh
//! cargo build --release --example inspect_once
//! valgrind --tool=callgrind --toggle-collect='*Inspector*inspect*' \
//!     target/release/examples/inspect_once
//! ```
//!
//! It prints the number of `sensitive[]` items, so a change that alters results shows.

use apitap::analyze::auth::AuthConfig;
use apitap::analyze::inspect::{InspectSetup, RedactionKey};
use apitap::analyze::sensitive::SensitiveConfig;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let txs = apitap::synth::bench::sample_transactions(1, n);
    let setup = InspectSetup::new(
        &SensitiveConfig::default(),
        &AuthConfig::default(),
        &RedactionKey::from_bytes(b"criterion bench redaction key 0123456789"),
        false,
    )
    .expect("default config");
    let mut inspector = setup.inspector().expect("default auth config");
    let mut items = 0usize;
    for t in &txs {
        let i = inspector.inspect(
            t.request.as_ref(),
            t.response.as_ref(),
            Some("application/json"),
            Some("application/json"),
            1_767_225_600_000_000,
        );
        items += i.sensitive.len();
    }
    let bytes = apitap::synth::bench::body_bytes(&txs);
    println!(
        "{} transactions, {bytes} body bytes, {items} items",
        txs.len()
    );
}
