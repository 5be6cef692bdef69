//! apitap: a passive network sensor for API security posture management.
//!
//! Packets flow one way, and the modules follow that flow:
//!
//! ```text
//! capture -> decode -> pipeline (shard by symmetric flow hash) -> worker: flow -> event -> sink
//! ```
//!
//! Each stage owns its types and calls only the stages after it. Typed errors live in the
//! library (`thiserror`, one enum per stage); `anyhow` is used only by the binary.
#![forbid(unsafe_code)]

pub mod analyze;
pub mod capture;
pub mod config;
pub mod decode;
pub mod event;
pub mod flow;
pub mod http;
pub mod pipeline;
pub mod sink;
pub mod stats;
pub mod synth;
pub mod tcp;
