//! Deterministic synthetic capture builder (`apitap synth`).
//!
//! This module writes labelled pcap/pcapng captures for the test suite,
//! benchmarks and users who want known traffic to run the sensor against.
//!
//! Guarantees:
//! - Determinism: the same call always writes byte-identical output. No wall
//!   clock is read and all pseudo-randomness comes from [`rng::SplitMix64`]
//!   seeded by the caller (or by a fixed constant).
//! - Timestamps start at [`EPOCH_US`] (2026-01-01T00:00:00Z).
//! - Every packet built here carries correct IPv4 header checksums and
//!   correct TCP/UDP/ICMP checksums, unless a test explicitly cuts it short.
//! - No panics on inputs reachable from the CLI: failures are [`SynthError`].
//!
//! Layout: [`pcap`] (file writers), [`packet`] (frame builder with link
//! layers and tunnels), [`frag`] (IP fragmentation), [`tcp`] (TCP
//! conversation builder), [`segops`] (seeded re-segmenting, reordering,
//! duplication, overlaps and drops of a conversation's segments), [`rng`]
//! (seeded RNG), [`scenario`] (named test captures with exact expected
//! counts and HTTP transactions; the `http-*` ones are built in the private
//! `http_scenarios`) and [`bench`](mod@bench) (large benchmark capture).
//! Tests share a test-only independent decoder (`testdecode`: libpcap read,
//! TCP reassembly by sequence number, HTTP/1.x parsing written from the
//! RFCs) to check what the builders say they wrote.

pub mod api_traffic;
pub mod bench;
pub mod frag;
mod http_scenarios;
pub mod packet;
pub mod pcap;
pub mod rng;
pub mod scenario;
pub mod segops;
pub mod sensitive_traffic;
pub mod tcp;
#[cfg(test)]
pub(crate) mod testdecode;

pub use bench::{write_bench_capture, BenchInfo};
pub use http_scenarios::API_DISCOVERY_TEMPLATES;
pub use scenario::{
    scenarios, write_all_scenarios, write_scenario, ExpectedTx, ScenarioInfo, HTTP_ANOMALIES,
};

/// 2026-01-01T00:00:00Z in seconds since the Unix epoch.
pub const EPOCH_SECS: u64 = 1_767_225_600;
/// 2026-01-01T00:00:00Z in microseconds since the Unix epoch; the first
/// timestamp of every capture written by this module.
pub const EPOCH_US: u64 = EPOCH_SECS * 1_000_000;

/// Everything that can go wrong while building or writing a capture.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// Writing the capture failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// `write_scenario` was asked for a name not in [`scenarios`].
    #[error("unknown scenario {0:?} (see `scenarios()` for the list)")]
    UnknownScenario(String),
    /// A frame description cannot be encoded (e.g. a VLAN tag on a raw-IP
    /// link, an IPv6 packet on the IPv4-only link type, a VLAN id >= 4096).
    #[error("invalid frame: {0}")]
    InvalidFrame(String),
    /// A packet or header length field would overflow.
    #[error("packet too large: {0} bytes")]
    TooLarge(usize),
    /// A parameter is out of its allowed range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl SynthError {
    pub(crate) fn frame(msg: impl Into<String>) -> Self {
        SynthError::InvalidFrame(msg.into())
    }
    pub(crate) fn arg(msg: impl Into<String>) -> Self {
        SynthError::InvalidArgument(msg.into())
    }
}
