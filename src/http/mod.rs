//! Stage 5 (http, per TCP stream): HTTP/1.x framing, request/response pairing, body
//! de-chunking and decompression, anomalies.
//!
//! The TCP reassembler feeds each direction's byte stream to an [`HttpFlow`] as
//! [`Chunk::Data`] pieces of any size and [`Chunk::Gap`]s for lost bytes; the flow hands back
//! finished [`Transaction`]s in request order. Guarantees: peer bytes never panic; every buffer
//! fed by peer input is bounded by an [`HttpConfig`] value and reaching a bound is an
//! [`Anomaly`] on a transaction; bytes are scanned once (head ends are searched incrementally,
//! body bytes are never copied past the inspection cap).
//!
//! Files: `parse.rs` pure functions over slices, `body.rs` body framing and decoding,
//! `state.rs` the per-flow state machine, `tx.rs` the output types, `transcript.rs` the
//! `>>>`/`<<<` transcript format shared with the pipeline tests and the capture builder.

#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod body;
pub mod parse;
mod state;
pub mod transcript;
pub mod tx;

pub use parse::HeadError;
pub use tx::{Anomaly, Body, Chunk, Dir, Header, Request, Response, Transaction};

/// Limits of the HTTP parser (the `[http]` section of the config).
#[derive(Clone, Debug, serde::Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Request/status line plus headers, and chunked trailers, in bytes.
    pub max_header_bytes: usize,
    /// Header fields kept per message (more are counted for framing, not kept).
    pub max_headers: usize,
    /// Decoded body bytes kept per message.
    pub body_inspect_bytes: usize,
    /// Live (not yet drained) transactions per flow, like libhtp's `max_tx`.
    pub max_tx: usize,
    /// Bytes scanned for a message start after a gap, garbage, or a mid-stream pick-up.
    pub resync_limit: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_header_bytes: 65536,
            max_headers: 128,
            body_inspect_bytes: 1 << 20,
            max_tx: 512,
            resync_limit: 1 << 20,
        }
    }
}

/// The HTTP/1 parser for one TCP connection (both directions).
pub struct HttpFlow {
    state: state::HttpState,
}

impl HttpFlow {
    /// A parser for a new flow. `midstream`: the connection's start was not seen (no SYN), so
    /// both directions first look for a message start; otherwise the first bytes are probed.
    pub fn new(cfg: &HttpConfig, midstream: bool) -> Self {
        HttpFlow {
            state: state::HttpState::new(cfg, midstream),
        }
    }

    /// Feeds bytes (or a gap) of one direction seen at packet time `ts` (µs).
    pub fn feed(&mut self, dir: Dir, chunk: Chunk<'_>, ts: u64) {
        self.state.feed(dir, chunk, ts);
    }

    /// That direction ended (FIN/RST): a close-delimited body completes, a half message is truncated.
    pub fn close(&mut self, dir: Dir, ts: u64) {
        self.state.close(dir, ts);
    }

    /// Records a stream-level anomaly (e.g. [`Anomaly::OverlapDifferentData`]) on the
    /// transaction in progress in `dir` (or the next one of that direction).
    pub fn stream_anomaly(&mut self, dir: Dir, a: Anomaly) {
        self.state.stream_anomaly(dir, a);
    }

    /// Finished transactions, in request order. Never returns a transaction while an earlier
    /// one is still open.
    pub fn drain_ready(&mut self, out: &mut Vec<Transaction>) {
        self.state.drain_ready(out);
    }

    /// Flow end (timeout, eviction, shutdown): every remaining transaction, open ones with
    /// `complete = false` and [`Anomaly::Truncated`]. Later calls feed nothing.
    pub fn finish(&mut self, ts: u64, out: &mut Vec<Transaction>) {
        self.state.finish(ts, out);
    }

    /// Some(true) once a direction parsed as HTTP/1.x; Some(false) when the flow was judged not
    /// HTTP and is no longer buffered; None while undecided.
    pub fn is_http(&self) -> Option<bool> {
        self.state.is_http()
    }

    /// Whether the roles were swapped by probing (the side we thought was the client sent a
    /// response first, or the other side sent a request first).
    pub fn roles_swapped(&self) -> bool {
        self.state.roles_swapped()
    }

    /// Bytes currently held by this flow's parsers: head/probe/resync buffers, decoder state,
    /// and body data kept in transactions not yet drained.
    pub fn buffered_bytes(&self) -> usize {
        self.state.buffered_bytes()
    }

    /// Transactions held (not yet drained).
    #[cfg(test)]
    pub(crate) fn live_txs(&self) -> usize {
        self.state.live_txs()
    }
}
