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
use apitap::http::{Chunk, Dir, HttpConfig, HttpFlow};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let cfg = HttpConfig::default();
    let mut txs = Vec::new();
    for (req, resp) in apitap::synth::bench::sample_messages(1, n) {
        let mut f = HttpFlow::new(&cfg, false);
        f.feed(Dir::ToServer, Chunk::Data(&req), 1);
        f.feed(Dir::ToClient, Chunk::Data(&resp), 2);
        f.finish(3, &mut txs);
    }
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
    println!("{} transactions, {items} items", txs.len());
}
