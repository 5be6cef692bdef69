//! Threads: capture -> decode -> shard -> workers -> sink.
//!
//! One capture thread reads and decodes every packet, reassembles IP fragments, computes the
//! symmetric flow hash and appends the packet (its metadata and TCP payload) to the batch of
//! the worker that owns the flow. Batches go over bounded crossbeam channels; each worker
//! owns its flow table, so the packet path takes no locks. Workers serialise their events
//! and send them, with their counters, to one sink thread that writes JSON lines and
//! assembles the `stats` events.
//!
//! Guarantees:
//! - both directions of a connection, and the inner flow of a tunnel, reach the same worker;
//! - replay never drops (`when_full = block`); live capture never blocks the capture thread
//!   (`drop`: a full queue drops the batch and counts it);
//! - control messages (clock ticks, report requests, the final flush) travel on a separate
//!   unbounded channel, and a worker drains its data queue before acting on one, so a report
//!   covers every packet read before it was requested;
//! - shutdown is passed in as a channel: when it fires or disconnects, capture stops, the
//!   queues drain, every flow is flushed, the sink flushes, and the final `stats` is written.

use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{bounded, select, unbounded, Receiver, Sender, TryRecvError, TrySendError};
use thiserror::Error;

use std::sync::Arc;

mod finish;

use finish::{Analyzer, Emitter, Finisher, SharedShapes, FINISH_BATCH};

use crate::analyze::aggregate::Calls;
use crate::analyze::discovery::{Discovery, DiscoveryError};
use crate::analyze::inspect::{InspectSetup, Inspector, KeyError, RedactionKey};
use crate::analyze::inventory::Partial;
use crate::analyze::spec::{SpecError, SpecSet};
use crate::analyze::template::{Fold, PathTrie};
use crate::analyze::Templater;
use crate::capture::{CaptureError, Next, Reader, Speed};
use crate::config::{Config, Mode, WhenFull};
use crate::decode::frag::{Defrag, FragResult};
use crate::decode::{Decoder, Layer, LinkType, Outcome, Proto, TcpMeta, L4};
use crate::event::{self, EventId, Timestamp};
use crate::flow::{FlowKey, FlowTable};
use crate::http::{HttpConfig, Transaction};
use crate::stats::{CaptureReport, SinkCounters, Snapshot, WorkerReport};
use crate::tcp::conn::Connection;
use crate::tcp::{Budget, Ctx, ReassemblyConfig, TcpCounters};

/// Errors that stop the pipeline.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PipelineError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("a worker thread stopped unexpectedly")]
    WorkerGone,
    #[error("cannot start thread: {0}")]
    Spawn(std::io::Error),
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("inspection setup: {0}")]
    Inspect(String),
}

/// One packet handed to a worker.
#[derive(Clone, Copy, Debug)]
pub struct PacketRec {
    pub ts: u64,
    pub key: FlowKey,
    pub src_is_lo: bool,
    pub tcp: TcpMeta,
    /// The TCP payload's range in the batch's `data`.
    pub start: u32,
    pub len: u32,
    pub wire_len: u32,
    pub truncated: bool,
}

/// Packets for one worker, with their payload bytes in one buffer.
#[derive(Debug, Default)]
pub struct Batch {
    pub data: Vec<u8>,
    pub pkts: Vec<PacketRec>,
    sent: Option<Instant>,
}

impl Batch {
    fn clear(&mut self) {
        self.data.clear();
        self.pkts.clear();
        self.sent = None;
    }
}

/// Bytes of payload after which a batch is sent even if not full.
const BATCH_BYTES: usize = 1 << 20;
/// Bytes of serialised events a worker gathers before sending them to the sink.
const EVENT_CHUNK: usize = 64 << 10;
/// Packet-time (or, live and idle, wall-time) interval of clock ticks to the workers.
const TICK_US: u64 = 1_000_000;

enum Ctrl {
    /// Advance the worker's clock (packet time, µs) and expire idle flows.
    Tick(u64),
    /// Send a report; `last`: flush every flow first, then exit.
    Report { seq: u64, last: bool },
}

/// Learned path structures from the discovery owner to one worker.
type ShapeRx = Receiver<Arc<PathTrie<()>>>;

enum SinkMsg {
    Events {
        buf: Vec<u8>,
        count: u64,
        records: Calls,
        /// The worker that sent them (its index).
        worker: usize,
        /// The report these calls come before (the worker's last report seq + 1): the owner
        /// learns from them at that report point, not earlier, whatever the threads' timing.
        before_report: u64,
    },
    Worker {
        seq: u64,
        report: Box<WorkerReport>,
    },
    Capture {
        seq: u64,
        ts: u64,
        report: Box<CaptureReport>,
        /// Write a `stats` event (else the report only marks a discovery point).
        stats: bool,
        last: bool,
    },
}

/// What a finished run reports.
#[derive(Debug)]
pub struct RunSummary {
    pub snapshot: Snapshot,
    pub elapsed: Duration,
    /// Human warnings already printed on stderr (truncated files, unsupported link types).
    pub warnings: Vec<String>,
    /// The output failed: events after the failure were counted as dropped.
    pub sink_error: Option<String>,
}

fn wall_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

fn warn(warnings: &mut Vec<String>, msg: String) {
    // A closed stderr must not stop the sensor.
    let _ = writeln!(std::io::stderr(), "apitap: warning: {msg}");
    warnings.push(msg);
}

/// Runs the pipeline until the source ends or `shutdown` fires (a message or a
/// disconnect), writing JSON lines to `out`.
pub fn run(
    cfg: &Config,
    mut reader: Reader,
    shutdown: Receiver<()>,
    out: Box<dyn Write + Send>,
) -> Result<RunSummary, PipelineError> {
    let started = Instant::now();
    let n = cfg.workers;
    let mut early_warnings = Vec::new();
    let specs = if cfg.discovery.specs.is_empty() {
        None
    } else {
        let set = SpecSet::load_paths(
            &cfg.discovery.specs,
            cfg.discovery.spec_host.as_deref(),
            &Default::default(),
        )?;
        for w in set.warnings.iter().take(20) {
            warn(&mut early_warnings, format!("spec: {w}"));
        }
        if set.warnings.len() > 20 {
            warn(
                &mut early_warnings,
                format!("spec: {} more warnings not shown", set.warnings.len() - 20),
            );
        }
        Some(Arc::new(set))
    };
    let mut discovery = Discovery::open(
        cfg.discovery.templates.clone(),
        cfg.discovery
            .data_dir
            .as_deref()
            .filter(|_| cfg.discovery.enabled),
        &cfg.sensor_name,
    )?;
    discovery.set_specs(specs.clone());
    let (key, ephemeral) = RedactionKey::load(&cfg.redaction, cfg.discovery.data_dir.as_deref())?;
    if ephemeral {
        warn(
            &mut early_warnings,
            "no data directory: redaction tags are keyed for this run only (set redaction.key_file or --data-dir to correlate across runs)".into(),
        );
    }
    if cfg.unredacted {
        warn(
            &mut early_warnings,
            "--unredacted: raw sensitive values (personal data, card numbers, secrets) are written to the events".into(),
        );
    }
    let inspect = InspectSetup::new(&cfg.sensitive, &cfg.auth, &key, cfg.unredacted)
        .map_err(|e| PipelineError::Inspect(e.to_string()))?;
    let shape = discovery.shape();
    let mut shape_txs = Vec::with_capacity(n);
    let mut shape_rxs = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = unbounded::<Arc<PathTrie<()>>>();
        shape_txs.push(tx);
        shape_rxs.push(rx);
    }
    let (sink_tx, sink_rx) = bounded::<SinkMsg>(n * 16);
    let (pool_tx, pool_rx) = bounded::<Batch>(n * (cfg.pipeline.queue_batches + 2));
    let mut data_txs = Vec::with_capacity(n);
    let mut ctrl_txs = Vec::with_capacity(n);

    let interrupt = reader.interrupter();
    // Dropped when the capture loop ends, so the watcher below never outlives it.
    let (done_tx, done_rx) = bounded::<()>(0);
    std::thread::scope(|scope| {
        if let Some(interrupt) = interrupt {
            // A blocked live read does not see the shutdown channel: wake it.
            let shutdown = shutdown.clone();
            std::thread::Builder::new()
                .name("apitap-shutdown".into())
                .spawn_scoped(scope, move || {
                    select! {
                        recv(shutdown) -> _ => interrupt.interrupt(),
                        recv(done_rx) -> _ => {}
                    }
                })
                .map_err(PipelineError::Spawn)?;
        }
        let sensor = cfg.sensor_name.clone();
        let live = cfg.mode == Mode::Live;
        let sink = std::thread::Builder::new()
            .name("apitap-sink".into())
            .spawn_scoped(scope, move || {
                sink_loop(
                    sink_rx,
                    out,
                    n,
                    &sensor,
                    live,
                    SinkDiscovery {
                        discovery,
                        shape_txs,
                        state_interval_us: cfg.discovery.state_interval.as_micros() as u64,
                        last_save: None,
                    },
                )
            })
            .map_err(PipelineError::Spawn)?;
        let mut workers = Vec::with_capacity(n);
        let built_shapes = Arc::new(SharedShapes::default());
        for id in 0..n {
            let (dtx, drx) = bounded::<Batch>(cfg.pipeline.queue_batches);
            let (ctx, crx) = unbounded::<(u64, Ctrl)>();
            data_txs.push(dtx);
            ctrl_txs.push(ctx);
            let mut templater = Templater::new(cfg.discovery.templates.clone(), specs.clone());
            templater.shape = shape.clone();
            let inspector = inspect
                .inspector()
                .map_err(|e| PipelineError::Inspect(e.to_string()))?;
            let w = Worker::new(
                id,
                cfg,
                sink_tx.clone(),
                pool_tx.clone(),
                templater,
                inspector,
                built_shapes.clone(),
            );
            let shapes = shape_rxs.pop().unwrap_or_else(|| unbounded().1);
            workers.push(
                std::thread::Builder::new()
                    .name(format!("apitap-w{id}"))
                    .spawn_scoped(scope, move || w.run(drx, crx, shapes))
                    .map_err(PipelineError::Spawn)?,
            );
        }
        drop(pool_tx);
        let mut cap = CaptureLoop {
            cfg,
            decoder: Decoder::new(cfg.decode.clone()),
            defrag: Defrag::new(cfg.ip_frag.clone()),
            report: CaptureReport::default(),
            batches: (0..n).map(|_| Batch::default()).collect(),
            sent: vec![0; n],
            data_txs,
            ctrl_txs,
            sink_tx,
            pool_rx,
            seed: foldhash::fast::RandomState::default().hash_one(0u8),
            seq: 0,
            warnings: early_warnings,
            warned_dlts: Vec::new(),
        };
        let result = cap.run(&mut reader, &shutdown);
        drop(done_tx);
        // Whatever happened, end cleanly: the last report flushes every flow.
        let finished = cap.finish(&mut reader);
        let warnings = std::mem::take(&mut cap.warnings);
        drop(cap);
        let mut worker_failed = false;
        for w in workers {
            worker_failed |= w.join().is_err();
        }
        let (snapshot, sink_error) = match sink.join() {
            Ok(r) => r,
            Err(_) => return Err(PipelineError::WorkerGone),
        };
        result?;
        finished?;
        if worker_failed {
            return Err(PipelineError::WorkerGone);
        }
        Ok(RunSummary {
            snapshot,
            elapsed: started.elapsed(),
            warnings,
            sink_error,
        })
    })
}

/// Waits until packet time `ts` is due at `factor` times the original speed. Returns false
/// when shutdown was requested while waiting.
fn pace(
    origin: &mut Option<(u64, Instant)>,
    ts: u64,
    factor: f64,
    shutdown: &Receiver<()>,
) -> bool {
    let (ts0, wall0) = *origin.get_or_insert((ts, Instant::now()));
    let due = Duration::from_secs_f64(ts.saturating_sub(ts0) as f64 / 1e6 / factor);
    loop {
        let elapsed = wall0.elapsed();
        if elapsed >= due {
            return true;
        }
        // Wait in slices so a shutdown is seen within 50 ms.
        match shutdown.recv_timeout((due - elapsed).min(Duration::from_millis(50))) {
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            _ => return false,
        }
    }
}

fn stop_requested(shutdown: &Receiver<()>) -> bool {
    !matches!(shutdown.try_recv(), Err(TryRecvError::Empty))
}

struct CaptureLoop<'c> {
    cfg: &'c Config,
    decoder: Decoder,
    defrag: Defrag,
    report: CaptureReport,
    batches: Vec<Batch>,
    data_txs: Vec<Sender<Batch>>,
    /// Each control message carries how many batches went to its worker before it.
    ctrl_txs: Vec<Sender<(u64, Ctrl)>>,
    /// Batches sent to each worker.
    sent: Vec<u64>,
    sink_tx: Sender<SinkMsg>,
    pool_rx: Receiver<Batch>,
    seed: u64,
    seq: u64,
    warnings: Vec<String>,
    warned_dlts: Vec<i32>,
}

impl CaptureLoop<'_> {
    fn run(&mut self, reader: &mut Reader, shutdown: &Receiver<()>) -> Result<(), PipelineError> {
        let live = reader.is_live();
        let stats_us = self.cfg.stats_interval.as_micros() as u64;
        let discovery_us = self.cfg.discovery.interval.as_micros() as u64;
        let mut next_discovery: Option<u64> = None;
        let sample = u64::from(self.cfg.pipeline.latency_sample);
        let mut next_tick: Option<u64> = None;
        let mut next_stats: Option<u64> = None;
        let mut link_cache: Option<(i32, Option<LinkType>)> = None;
        let mut count: u64 = 0;
        let mut pace_origin: Option<(u64, Instant)> = None;
        loop {
            if count % 16 == 0 && stop_requested(shutdown) {
                return Ok(());
            }
            count += 1;
            let now_clock = match reader.next_packet()? {
                Next::Packet(p) => {
                    if let Speed::Factor(f) = self.cfg.speed {
                        if !pace(&mut pace_origin, p.ts_us, f, shutdown) {
                            return Ok(());
                        }
                    }
                    self.report.packets += 1;
                    self.report.bytes += u64::from(p.wire_len);
                    let ts = p.ts_us;
                    self.report.last_ts = self.report.last_ts.max(ts);
                    let link = match link_cache {
                        Some((dlt, lt)) if dlt == p.dlt => lt,
                        _ => {
                            let lt = LinkType::from_dlt(p.dlt);
                            link_cache = Some((p.dlt, lt));
                            lt
                        }
                    };
                    match link {
                        None => {
                            self.report.unsupported_link_packets += 1;
                            self.decoder.counters.record_stop(
                                Layer::Link,
                                crate::decode::StopReason::UnsupportedLinkType,
                            );
                            if !self.warned_dlts.contains(&p.dlt) {
                                self.warned_dlts.push(p.dlt);
                                let name = pcap::Linktype(p.dlt)
                                    .get_name()
                                    .unwrap_or_else(|_| "unknown".into());
                                warn(
                                    &mut self.warnings,
                                    format!(
                                        "link type {} ({name}) is not supported: its packets are counted, not decoded",
                                        p.dlt
                                    ),
                                );
                            }
                        }
                        Some(lt) => {
                            let t0 = (count % sample == 0).then(Instant::now);
                            let out = self.decoder.decode(lt, p.data);
                            self.handle(out, ts, p.wire_len)?;
                            if let Some(t0) = t0 {
                                self.report.decode_ns.record(t0.elapsed().as_nanos() as u64);
                            }
                        }
                    }
                    Some(ts)
                }
                Next::Idle => {
                    if stop_requested(shutdown) {
                        return Ok(());
                    }
                    // Live and quiet: hand partial batches on, keep clocks moving.
                    self.flush_all()?;
                    Some(wall_us())
                }
                Next::FileEnded { path, warning } => {
                    self.report.files += 1;
                    if let Some(w) = warning {
                        self.report.truncated_files += 1;
                        warn(&mut self.warnings, format!("{}: {w}", path.display()));
                    }
                    None
                }
                Next::End => return Ok(()),
            };
            let Some(now) = now_clock else { continue };
            // Live capture reports on wall time even when no packet arrives.
            let clock = if live { wall_us() } else { now };
            let tick = *next_tick.get_or_insert(clock + TICK_US);
            if clock >= tick {
                next_tick = Some(clock + TICK_US);
                self.defrag.expire(clock);
                self.drain_frag_anomalies();
                self.flush_all()?;
                for (tx, &sent) in self.ctrl_txs.iter().zip(&self.sent) {
                    tx.send((sent, Ctrl::Tick(clock)))
                        .map_err(|_| PipelineError::WorkerGone)?;
                }
            }
            let mut stats_due = false;
            if stats_us > 0 {
                let due = *next_stats.get_or_insert(clock + stats_us);
                if clock >= due {
                    next_stats = Some(clock + stats_us);
                    stats_due = true;
                }
            }
            let due = *next_discovery.get_or_insert(clock + discovery_us);
            let discovery_due = clock >= due;
            if discovery_due {
                next_discovery = Some(clock + discovery_us);
            }
            if stats_due || discovery_due {
                self.request_report(reader, clock, false, stats_due)?;
            }
        }
    }

    fn drain_frag_anomalies(&mut self) {
        for r in self.defrag.pending.drain(..) {
            self.decoder.counters.record_stop(Layer::IpFrag, r);
        }
    }

    fn handle(&mut self, out: Outcome<'_>, ts: u64, wire_len: u32) -> Result<(), PipelineError> {
        match out {
            Outcome::L4(l4) => self.route(&l4, ts, wire_len),
            Outcome::Fragment(f) => {
                let res = self.defrag.add(ts, &f);
                self.drain_frag_anomalies();
                match res {
                    FragResult::Held => Ok(()),
                    FragResult::Dropped(r) => {
                        self.decoder.counters.record_stop(Layer::IpFrag, r);
                        Ok(())
                    }
                    FragResult::Done(d) => {
                        match self
                            .decoder
                            .decode_reassembled(d.ctx, d.src, d.dst, d.proto, &d.payload)
                        {
                            Outcome::L4(l4) => self.route(&l4, ts, wire_len),
                            // Counted by the decoder; a fragment inside a fragment is a stop.
                            Outcome::Fragment(_) => {
                                self.decoder.counters.record_stop(
                                    Layer::IpFrag,
                                    crate::decode::StopReason::BadHeader,
                                );
                                Ok(())
                            }
                            _ => Ok(()),
                        }
                    }
                }
            }
            Outcome::Ignored(_) | Outcome::Stop(..) => Ok(()),
        }
    }

    fn route(&mut self, l4: &L4<'_>, ts: u64, wire_len: u32) -> Result<(), PipelineError> {
        let (key, src_is_lo) = FlowKey::from_l4(l4, self.cfg.flow.track_vlan);
        let h = key.shard_hash(self.seed);
        let w = ((u128::from(h) * self.batches.len() as u128) >> 64) as usize;
        let b = &mut self.batches[w];
        let start = b.data.len() as u32;
        let len = if l4.proto == Proto::Tcp {
            b.data.extend_from_slice(l4.payload);
            l4.payload.len() as u32
        } else {
            0
        };
        b.pkts.push(PacketRec {
            ts,
            key,
            src_is_lo,
            tcp: l4.tcp,
            start,
            len,
            wire_len,
            truncated: l4.truncated,
        });
        if b.pkts.len() >= self.cfg.pipeline.batch_packets || b.data.len() >= BATCH_BYTES {
            self.send(w)?;
        }
        Ok(())
    }

    fn send(&mut self, w: usize) -> Result<(), PipelineError> {
        if self.batches[w].pkts.is_empty() {
            return Ok(());
        }
        let fresh = self.pool_rx.try_recv().unwrap_or_default();
        let mut b = std::mem::replace(&mut self.batches[w], fresh);
        b.sent = Some(Instant::now());
        let npkts = b.pkts.len() as u64;
        self.report.batches += 1;
        match self.cfg.when_full {
            WhenFull::Block => {
                self.data_txs[w]
                    .send(b)
                    .map_err(|_| PipelineError::WorkerGone)?;
                self.sent[w] += 1;
                Ok(())
            }
            WhenFull::Drop => match self.data_txs[w].try_send(b) {
                Ok(()) => {
                    self.sent[w] += 1;
                    Ok(())
                }
                Err(TrySendError::Full(mut b)) => {
                    self.report.queue_drops_batches += 1;
                    self.report.queue_drops_packets += npkts;
                    b.clear();
                    self.batches[w] = b;
                    Ok(())
                }
                Err(TrySendError::Disconnected(_)) => Err(PipelineError::WorkerGone),
            },
        }
    }

    fn flush_all(&mut self) -> Result<(), PipelineError> {
        for w in 0..self.batches.len() {
            self.send(w)?;
        }
        Ok(())
    }

    fn request_report(
        &mut self,
        reader: &mut Reader,
        ts: u64,
        last: bool,
        stats: bool,
    ) -> Result<(), PipelineError> {
        self.flush_all()?;
        self.seq += 1;
        let seq = self.seq;
        for (tx, &sent) in self.ctrl_txs.iter().zip(&self.sent) {
            tx.send((sent, Ctrl::Report { seq, last }))
                .map_err(|_| PipelineError::WorkerGone)?;
        }
        self.report.kernel = reader.kernel_stats();
        self.report.frag = self.defrag.counters.clone();
        self.report.decode = self.decoder.counters.clone();
        let msg = SinkMsg::Capture {
            seq,
            ts,
            report: Box::new(self.report.clone()),
            stats: stats || last,
            last,
        };
        self.sink_tx
            .send(msg)
            .map_err(|_| PipelineError::WorkerGone)
    }

    /// Final report: workers flush every flow and exit.
    fn finish(&mut self, reader: &mut Reader) -> Result<(), PipelineError> {
        let ts = if reader.is_live() || self.report.packets == 0 {
            wall_us()
        } else {
            self.report.last_ts
        };
        self.request_report(reader, ts, true, true)
    }
}

struct Worker {
    analyzer: Analyzer,
    table: FlowTable,
    tcp_cfg: ReassemblyConfig,
    http_cfg: HttpConfig,
    budget: Budget,
    tcp: TcpCounters,
    txs: Vec<Transaction>,
    /// The batch's finished transactions and ended flows, until their events are made.
    finisher: Finisher,
    sensor: String,
    emit: Emitter,
    report: WorkerReport,
    sink_tx: Sender<SinkMsg>,
    pool_tx: Sender<Batch>,
    /// This worker's index.
    id: usize,
    /// Seq of the last report sent.
    reports_done: u64,
    /// Batches received from the capture thread.
    batches_done: u64,
}

impl Worker {
    fn new(
        id: usize,
        cfg: &Config,
        sink_tx: Sender<SinkMsg>,
        pool_tx: Sender<Batch>,
        templater: Templater,
        inspector: Inspector,
        shapes: Arc<SharedShapes>,
    ) -> Self {
        Self {
            analyzer: Analyzer::new(cfg, templater, inspector, shapes),
            table: FlowTable::new(&cfg.flow, cfg.workers),
            tcp_cfg: cfg.tcp.clone(),
            http_cfg: cfg.http.clone(),
            budget: Budget {
                used: 0,
                limit: cfg.tcp.memcap / cfg.workers.max(1),
            },
            tcp: TcpCounters::default(),
            txs: Vec::new(),
            finisher: Finisher::default(),
            sensor: cfg.sensor_name.clone(),
            emit: Emitter {
                flow_events: cfg.flow_events,
                out: Vec::with_capacity(EVENT_CHUNK * 2),
                count: 0,
            },
            report: WorkerReport::default(),
            sink_tx,
            pool_tx,
            id,
            reports_done: 0,
            batches_done: 0,
        }
    }

    fn run(mut self, data: Receiver<Batch>, ctrl: Receiver<(u64, Ctrl)>, shapes: ShapeRx) {
        // A control message is acted on after exactly the batches sent before it: a tick
        // or report lands at the same point of the capture on every run, so flow timeouts
        // and the calls summed per report do not depend on the threads' timing.
        let mut pending: Option<(u64, Ctrl)> = None;
        loop {
            while let Ok(shape) = shapes.try_recv() {
                self.analyzer.templater.shape = shape;
            }
            if self.settle(&ctrl, &mut pending) {
                return;
            }
            if pending.is_some() {
                // The batches sent before the pending control message are on their way.
                match data.recv() {
                    Ok(b) => self.batch(b),
                    Err(_) => {
                        self.finish_control(&ctrl, pending.take());
                        return;
                    }
                }
                continue;
            }
            select! {
                recv(data) -> m => match m {
                    Ok(b) => {
                        // A control message sent before this batch goes first.
                        if self.settle(&ctrl, &mut pending) {
                            return;
                        }
                        self.batch(b);
                    }
                    // The capture thread is gone: act on the control messages it left,
                    // the final report among them.
                    Err(_) => {
                        self.finish_control(&ctrl, pending.take());
                        return;
                    }
                },
                recv(ctrl) -> m => match m {
                    Ok(c) => pending = Some(c),
                    Err(_) => {
                        while let Ok(b) = data.recv() {
                            self.batch(b);
                        }
                        return;
                    }
                },
            }
        }
    }

    /// Acts on the control messages whose batches have all been processed. True when the
    /// worker should exit.
    fn settle(&mut self, ctrl: &Receiver<(u64, Ctrl)>, pending: &mut Option<(u64, Ctrl)>) -> bool {
        loop {
            if pending.is_none() {
                match ctrl.try_recv() {
                    Ok(c) => *pending = Some(c),
                    Err(_) => return false,
                }
            }
            match pending.take() {
                Some((upto, c)) if self.batches_done >= upto => {
                    if self.control(c) {
                        return true;
                    }
                }
                later => {
                    *pending = later;
                    return false;
                }
            }
        }
    }

    /// No more batches: the remaining control messages, in order.
    fn finish_control(&mut self, ctrl: &Receiver<(u64, Ctrl)>, pending: Option<(u64, Ctrl)>) {
        if let Some((_, c)) = pending {
            if self.control(c) {
                return;
            }
        }
        while let Ok((_, c)) = ctrl.recv() {
            if self.control(c) {
                return;
            }
        }
    }

    fn batch(&mut self, mut b: Batch) {
        self.batches_done += 1;
        let t0 = Instant::now();
        if let Some(sent) = b.sent {
            self.report
                .queue_ns
                .record(t0.duration_since(sent).as_nanos() as u64);
        }
        for p in &b.pkts {
            self.report.packets += 1;
            self.report.bytes += u64::from(p.wire_len);
            self.report.payload_bytes += u64::from(p.len);
            let payload = b
                .data
                .get(p.start as usize..(p.start + p.len) as usize)
                .unwrap_or_default();
            self.packet(p, payload);
            if self.finisher.len() >= FINISH_BATCH {
                self.finisher.flush(
                    &self.sensor,
                    &mut self.analyzer,
                    &mut self.emit,
                    &mut self.report,
                );
            }
        }
        // Also makes the events of the batch's finished transactions.
        self.emit_ended();
        self.report.batch_ns.record(t0.elapsed().as_nanos() as u64);
        b.clear();
        let _ = self.pool_tx.try_send(b);
    }

    fn packet(&mut self, p: &PacketRec, payload: &[u8]) {
        let Self {
            table,
            tcp_cfg,
            http_cfg,
            budget,
            tcp,
            txs,
            finisher,
            report,
            ..
        } = self;
        let (flow, dir) = table.packet(&p.key, p.src_is_lo, p.ts, &p.tcp, p.wire_len);
        if p.key.proto != Proto::Tcp || flow.conn_done {
            return;
        }
        let midstream = flow.midstream;
        let conn = flow
            .conn
            .get_or_insert_with(|| Box::new(Connection::new(http_cfg, midstream)));
        let mut x = Ctx {
            cfg: tcp_cfg,
            budget,
            c: tcp,
        };
        conn.segment(&mut x, dir, &p.tcp, payload, p.ts);
        conn.drain_ready(txs);
        // Both directions closed: nothing more can reach the parser, so its last
        // transactions go out now and its buffers are freed, instead of both waiting in the
        // flow table for `tcp_closed_timeout` (a busy link opens thousands of connections
        // in that time).
        let done = conn.is_closed();
        if done {
            conn.finish(&mut x, p.ts, txs);
        }
        let swapped = conn.http.roles_swapped();
        let (old, new) = (flow.app_bytes, if done { 0 } else { conn.buffered() });
        if done {
            flow.conn = None;
            flow.conn_done = true;
        }
        flow.app_bytes = new;
        for tx in txs.drain(..) {
            report.http.count(&tx);
            finisher.tx(p.key, flow, swapped, tx);
        }
        table.account(old, new);
    }

    /// Returns true when the worker should exit.
    fn control(&mut self, c: Ctrl) -> bool {
        match c {
            Ctrl::Tick(ts) => {
                self.table.advance(ts);
                self.emit_ended();
                // The summed calls stay until the report point: the owner holds them until
                // then anyway, and a key summed over the whole interval is made, sent,
                // folded and freed once instead of once per tick.
                self.send_events(false);
                false
            }
            Ctrl::Report { seq, last } => {
                if last {
                    self.table.flush();
                    self.emit_ended();
                }
                self.send_events(true);
                self.report.flows = self.table.counters.clone();
                self.report.tcp = self.tcp;
                self.report.tcp_buffered = self.budget.used as u64;
                self.report.inspect = self.analyzer.counters.clone();
                self.report.inspect.weak_secret = self.analyzer.inspector.weak_secret_stats();
                let _ = self.sink_tx.send(SinkMsg::Worker {
                    seq,
                    report: Box::new(self.report.clone()),
                });
                self.reports_done = seq;
                self.analyzer.epoch = seq + 1;
                last
            }
        }
    }

    /// Flushes the connections of ended flows and writes their events.
    fn emit_ended(&mut self) {
        let Self {
            analyzer,
            table,
            tcp_cfg,
            budget,
            tcp,
            txs,
            finisher,
            sensor,
            emit,
            report,
            ..
        } = self;
        for (key, mut flow, reason) in table.drain_ended() {
            if let Some(mut conn) = flow.conn.take() {
                let mut x = Ctx {
                    cfg: tcp_cfg,
                    budget: &mut *budget,
                    c: &mut *tcp,
                };
                conn.finish(&mut x, flow.last_ts, txs);
                let swapped = conn.http.roles_swapped();
                for tx in txs.drain(..) {
                    report.http.count(&tx);
                    finisher.tx(key, &flow, swapped, tx);
                }
            }
            if emit.flow_events {
                finisher.flow(key, flow, reason);
            }
        }
        finisher.flush(sensor, analyzer, emit, report);
        let full = self.analyzer.agg.is_full();
        if self.emit.out.len() >= EVENT_CHUNK || full {
            self.send_events(full);
        }
    }

    /// Sends the serialised events, and the summed calls when `with_calls` (at reports, so
    /// the owner gets many calls per key, or when the aggregate is full).
    fn send_events(&mut self, with_calls: bool) {
        if self.emit.out.is_empty() && (!with_calls || self.analyzer.agg.is_empty()) {
            return;
        }
        let buf = std::mem::replace(&mut self.emit.out, Vec::with_capacity(EVENT_CHUNK * 2));
        let count = std::mem::take(&mut self.emit.count);
        let records = if with_calls {
            self.analyzer.agg.take()
        } else {
            Calls::default()
        };
        let _ = self.sink_tx.send(SinkMsg::Events {
            buf,
            count,
            records,
            worker: self.id,
            before_report: self.reports_done + 1,
        });
    }
}

fn with_discovery(mut stats: serde_json::Value, d: &Discovery) -> serde_json::Value {
    if let Some(o) = stats.as_object_mut() {
        let mut v = serde_json::to_value(d.counters).unwrap_or_default();
        v["templates"] =
            serde_json::to_value(d.inventory().state.trie.counters).unwrap_or_default();
        o.insert("discovery".into(), v);
    }
    stats
}

/// (host, method, path, from spec, worker): the order the owner learns from held calls in.
type HeldKey = (String, String, String, bool, usize);

/// Folds one worker's summed calls into those held for a report.
fn hold(
    held: &mut BTreeMap<HeldKey, Partial>,
    records: impl IntoIterator<Item = Partial>,
    worker: usize,
) {
    for mut p in records {
        let k = (
            std::mem::take(&mut p.host),
            std::mem::take(&mut p.method),
            std::mem::take(&mut p.path),
            p.from_spec,
            worker,
        );
        hold_one(held, k, p);
    }
}

fn hold_one(held: &mut BTreeMap<HeldKey, Partial>, k: HeldKey, p: Partial) {
    match held.entry(k) {
        std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().stats.fold(p.stats),
        std::collections::btree_map::Entry::Vacant(v) => {
            v.insert(p);
        }
    }
}

#[derive(Default)]
struct Pending {
    capture: Option<(u64, Box<CaptureReport>, bool, bool)>,
    worker: WorkerReport,
    workers_in: usize,
}

/// The discovery owner and what it needs, on the sink thread.
struct SinkDiscovery {
    discovery: Discovery,
    shape_txs: Vec<Sender<Arc<PathTrie<()>>>>,
    state_interval_us: u64,
    /// Packet time of the last state save (of the first report point before one).
    last_save: Option<u64>,
}

impl SinkDiscovery {
    /// A report point: learn, write the new API events into `out`, send the workers the new
    /// shape, save the state when due. Returns the number of events written into `out`.
    fn report_point(&mut self, ts: u64, last: bool, out: &mut Vec<u8>) -> u64 {
        let (written, changed) = self.discovery.evaluate(ts, out);
        if changed {
            let shape = self.discovery.shape();
            for tx in &self.shape_txs {
                let _ = tx.send(shape.clone());
            }
        }
        // The first save is one interval after the first report point (and at the end).
        let since = *self.last_save.get_or_insert(ts);
        let due = ts.saturating_sub(since) >= self.state_interval_us;
        if last || due {
            self.last_save = Some(ts);
            if let Err(e) = self.discovery.save() {
                let msg = e.to_string();
                if self.discovery.save_error.as_deref() != Some(msg.as_str()) {
                    let _ = writeln!(std::io::stderr(), "apitap: warning: {msg}");
                }
                self.discovery.save_error = Some(msg);
            } else {
                self.discovery.save_error = None;
            }
        }
        written
    }
}

fn sink_loop(
    rx: Receiver<SinkMsg>,
    out: Box<dyn Write + Send>,
    workers: usize,
    sensor: &str,
    live: bool,
    mut disc: SinkDiscovery,
) -> (Snapshot, Option<String>) {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, out);
    let mut counters = SinkCounters::default();
    let mut error: Option<String> = None;
    let mut pending: BTreeMap<u64, Pending> = BTreeMap::new();
    // Workers' summed calls by the report they precede (see `SinkMsg::Events`), folded per
    // (endpoint key, worker) as they arrive: what is held is bounded by the keys, not by the
    // calls or flushes of a report interval. Each worker's flushes arrive in its own order,
    // and the key order is fixed, so the owner learns the same whatever the threads' timing.
    let mut held: BTreeMap<u64, BTreeMap<HeldKey, Partial>> = BTreeMap::new();
    let mut last = Snapshot {
        workers,
        ..Snapshot::default()
    };
    let write = |w: &mut std::io::BufWriter<Box<dyn Write + Send>>,
                 counters: &mut SinkCounters,
                 error: &mut Option<String>,
                 buf: &[u8],
                 count: u64| {
        if error.is_some() {
            counters.events_dropped += count;
            return;
        }
        match w.write_all(buf) {
            Ok(()) => {
                counters.events_written += count;
                counters.bytes_written += buf.len() as u64;
            }
            Err(e) => {
                counters.write_errors += 1;
                counters.events_dropped += count;
                *error = Some(e.to_string());
            }
        }
    };
    for msg in rx.iter() {
        let ready = match msg {
            SinkMsg::Events {
                buf,
                count,
                records,
                worker,
                before_report,
            } => {
                write(&mut w, &mut counters, &mut error, &buf, count);
                if !records.is_empty() {
                    hold(
                        held.entry(before_report).or_default(),
                        records.into_partials(),
                        worker,
                    );
                }
                None
            }
            SinkMsg::Worker { seq, report } => {
                let p = pending.entry(seq).or_default();
                p.worker.merge(&report);
                p.workers_in += 1;
                Some(seq)
            }
            SinkMsg::Capture {
                seq,
                ts,
                report,
                stats,
                last,
            } => {
                pending.entry(seq).or_default().capture = Some((ts, report, stats, last));
                Some(seq)
            }
        };
        if let Some(seq) = ready {
            let complete = pending
                .get(&seq)
                .is_some_and(|p| p.capture.is_some() && p.workers_in == workers);
            if complete {
                if let Some(Pending {
                    capture: Some((ts, capture, stats, last_report)),
                    worker,
                    ..
                }) = pending.remove(&seq)
                {
                    // The calls of every worker up to this report, and none after it, in an
                    // order that does not depend on which worker sent what first.
                    let later = held.split_off(&(seq + 1));
                    let mut calls = BTreeMap::new();
                    for (_, epoch) in std::mem::replace(&mut held, later) {
                        for (k, p) in epoch {
                            hold_one(&mut calls, k, p);
                        }
                    }
                    for (k, mut p) in calls {
                        (p.host, p.method, p.path) = (k.0, k.1, k.2);
                        disc.discovery.record_partial(p);
                    }
                    let mut api = Vec::new();
                    let n = disc.report_point(ts, last_report, &mut api);
                    write(&mut w, &mut counters, &mut error, &api, n);
                    if !stats {
                        continue;
                    }
                    // The stats event counts itself as written.
                    let mut snap = Snapshot {
                        workers,
                        capture: *capture,
                        worker,
                        sink: counters.clone(),
                    };
                    snap.sink.events_written += 1;
                    let ev = serde_json::json!({
                        "timestamp": Timestamp(ts),
                        "event_type": "stats",
                        "event_id": EventId::derive(sensor, "stats", &(seq, ts)),
                        "sensor": sensor,
                        "stats": with_discovery(snap.to_json(), &disc.discovery),
                    });
                    let mut line = Vec::with_capacity(2048);
                    if event::write_line(&mut line, &ev).is_ok() {
                        write(&mut w, &mut counters, &mut error, &line, 1);
                    }
                    if error.is_none() {
                        if let Err(e) = w.flush() {
                            counters.write_errors += 1;
                            error = Some(e.to_string());
                        }
                    }
                    snap.sink = counters.clone();
                    last = snap;
                }
            }
        }
        if live && rx.is_empty() && error.is_none() {
            if let Err(e) = w.flush() {
                counters.write_errors += 1;
                error = Some(e.to_string());
            }
        }
    }
    if error.is_none() {
        if let Err(e) = w.flush() {
            counters.write_errors += 1;
            error = Some(e.to_string());
        }
    }
    last.sink = counters;
    // The run is over once its last events are written and its state saved: freeing the
    // inventory (5 ms for 2,000 endpoints, more for larger ones) is left to a thread of
    // its own, which the process may end before it finishes. (When no thread can be
    // started, the closure and the inventory are dropped here.)
    let _ = std::thread::Builder::new()
        .name("apitap-free".into())
        .spawn(move || drop(disc));
    (last, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(path: &str, calls: u64) -> Partial {
        let mut p = Partial {
            host: "h".into(),
            method: "GET".into(),
            path: path.into(),
            ..Partial::default()
        };
        p.stats.calls = calls;
        p
    }

    #[test]
    fn held_calls_fold_per_key_and_worker() {
        let mut held = BTreeMap::new();
        hold(&mut held, vec![partial("/a", 1), partial("/b", 2)], 1);
        hold(&mut held, vec![partial("/a", 3)], 1);
        hold(&mut held, vec![partial("/a", 4)], 0);
        let got: Vec<(&str, usize, u64)> = held
            .iter()
            .map(|(k, p)| (k.2.as_str(), k.4, p.stats.calls))
            .collect();
        // One entry per (key, worker), whatever the number of flushes, in key order.
        assert_eq!(got, [("/a", 0, 4), ("/a", 1, 4), ("/b", 1, 2)]);
    }
}
