//! Stage 4, tcp (per flow): TCP reassembly.
//!
//! `seq` holds the wrap-around sequence number type; `stream` the bounded per-direction
//! reassembler that turns segments in capture order into the byte stream, gaps and closes
//! the HTTP parser reads.

pub mod conn;
pub mod seq;
pub mod stream;

pub use seq::SeqNum;
pub use stream::{Budget, Ctx, HalfStream, ReassemblyConfig, Refused, StreamSink, TcpCounters};
