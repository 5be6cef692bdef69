//! Stage 4, tcp (per flow): one TCP connection, both directions reassembled and fed to the
//! HTTP parser.
//!
//! Guarantees: each direction's bytes reach [`HttpFlow`] in stream order, with gaps as gaps
//! and overlaps with different data recorded on the transaction in progress; an ACK from one
//! side lets the other side's reassembler declare what the capture lost; a RST or the end
//! of the flow flushes both directions, so every byte that was captured is parsed.

use crate::decode::tcp_flags::{ACK, RST};
use crate::decode::TcpMeta;
use crate::flow::TO_SERVER;
use crate::http::{Anomaly, Chunk, Dir, HttpConfig, HttpFlow, Transaction};

use super::stream::{Ctx, HalfStream, StreamSink};

/// Both directions of a connection and its HTTP parser.
pub struct Connection {
    /// Indexed by flow direction: `TO_SERVER`, `TO_CLIENT`.
    half: [HalfStream; 2],
    pub http: HttpFlow,
}

/// Feeds one direction's reassembled stream into the HTTP parser.
struct Feed<'a> {
    http: &'a mut HttpFlow,
    dir: Dir,
    ts: u64,
}

impl StreamSink for Feed<'_> {
    fn data(&mut self, bytes: &[u8]) {
        self.http.feed(self.dir, Chunk::Data(bytes), self.ts);
    }
    fn gap(&mut self, len: u64) {
        self.http.feed(self.dir, Chunk::Gap(len), self.ts);
    }
    fn overlap_different(&mut self) {
        self.http
            .stream_anomaly(self.dir, Anomaly::OverlapDifferentData);
    }
    fn closed(&mut self) {
        self.http.close(self.dir, self.ts);
    }
}

fn http_dir(flow_dir: usize) -> Dir {
    if flow_dir == TO_SERVER {
        Dir::ToServer
    } else {
        Dir::ToClient
    }
}

impl Connection {
    pub fn new(cfg: &HttpConfig, midstream: bool) -> Self {
        Self {
            half: [HalfStream::new(), HalfStream::new()],
            http: HttpFlow::new(cfg, midstream),
        }
    }

    /// Bytes held by this connection (out-of-order data and the parser's buffers).
    pub fn buffered(&self) -> usize {
        self.half[0].buffered() + self.half[1].buffered() + self.http.buffered_bytes()
    }

    /// One segment travelling in flow direction `dir` at packet time `ts`.
    pub fn segment(&mut self, x: &mut Ctx<'_>, dir: usize, tcp: &TcpMeta, payload: &[u8], ts: u64) {
        let dir = dir & 1;
        let other = dir ^ 1;
        // A flow already judged not to be HTTP costs nothing more.
        if self.http.is_http() == Some(false) {
            return;
        }
        // The ACK first: what the other side had acknowledged (and the capture lost) must
        // reach the parser before this segment's data, so a response never overtakes the
        // request it answers.
        if tcp.flags & ACK != 0 {
            let mut feed = Feed {
                http: &mut self.http,
                dir: http_dir(other),
                ts,
            };
            self.half[other].acked(x, tcp.ack, &mut feed);
        }
        let mut feed = Feed {
            http: &mut self.http,
            dir: http_dir(dir),
            ts,
        };
        // A refused out-of-order segment is counted by the reassembler and becomes a gap.
        let _refused = self.half[dir].segment(x, tcp.seq, tcp.flags, payload, &mut feed);
        // A FIN closes its direction once every byte before it was delivered (through
        // `Feed::closed`); a RST ends both directions now.
        if tcp.flags & RST != 0 {
            for d in [dir, other] {
                let mut feed = Feed {
                    http: &mut self.http,
                    dir: http_dir(d),
                    ts,
                };
                self.half[d].flush(x, &mut feed);
                self.http.close(http_dir(d), ts);
            }
        }
    }

    /// Both directions are closed (FIN delivered after every byte before it, or a RST): no
    /// later segment can reach the parser, so the connection can be finished now instead of
    /// waiting in the flow table for the closed timeout.
    pub fn is_closed(&self) -> bool {
        self.half[0].is_closed() && self.half[1].is_closed()
    }

    /// Finished transactions, in request order.
    pub fn drain_ready(&mut self, out: &mut Vec<Transaction>) {
        self.http.drain_ready(out);
    }

    /// The flow ended: flush both directions and hand over every remaining transaction.
    pub fn finish(&mut self, x: &mut Ctx<'_>, ts: u64, out: &mut Vec<Transaction>) {
        for d in [0, 1] {
            let mut feed = Feed {
                http: &mut self.http,
                dir: http_dir(d),
                ts,
            };
            self.half[d].flush(x, &mut feed);
        }
        self.http.finish(ts, out);
    }
}
