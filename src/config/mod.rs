//! All stages: the one validated [`Config`].
//!
//! Built as ripgrep builds its `HiArgs`: the CLI's raw [`Overrides`] (exactly what was typed)
//! and the TOML file's text are merged over the documented defaults by
//! [`Config::from_parts`], which validates and opens nothing. Every limit in apitap is a
//! field here with its default, and every field can be set in the TOML file.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use crate::analyze::auth::AuthConfig;
use crate::analyze::exposure::parse_cidrs;
use crate::analyze::inspect::RedactionConfig;
use crate::analyze::sensitive::SensitiveConfig;
use crate::analyze::DiscoveryConfig;
use crate::capture::Speed;
use crate::decode::frag::FragConfig;
use crate::decode::DecodeConfig;
use crate::flow::FlowConfig;
use crate::http::HttpConfig;
use crate::tcp::ReassemblyConfig;

/// Errors in the configuration (file or flags).
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("config file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("invalid value for {field}: {value:?} ({reason})")]
    Invalid {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("[{section}]: {reason}")]
    Section {
        section: &'static str,
        reason: String,
    },
    #[error("live capture needs an interface: give -i IFACE or set live.interface")]
    NoInterface,
}

/// Serde helpers for durations written as `30s`, `5m`, `1h 30m`.
pub mod duration {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

/// What to do when a worker's queue is full.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// Wait for the worker (no loss; the default for replay).
    Block,
    /// Drop the batch and count it (the default for live capture: never stall the capture).
    Drop,
}

/// `[pipeline]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Packets per batch sent to a worker. Default 256.
    pub batch_packets: usize,
    /// Batches queued per worker (the bounded channel's capacity). Default 64.
    pub queue_batches: usize,
    /// `block` or `drop`; default: `block` for replay, `drop` for live.
    pub when_full: Option<WhenFull>,
    /// Measure decode latency on one packet in this many. Default 64.
    pub latency_sample: u32,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            batch_packets: 256,
            queue_batches: 64,
            when_full: None,
            latency_sample: 64,
        }
    }
}

/// `[live]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LiveConfig {
    /// Interface to capture on (`-i`).
    pub interface: Option<String>,
    /// Bytes kept of each packet. Default 262144.
    pub snaplen: i32,
    /// Kernel capture buffer in MiB. Default 64.
    pub buffer_mb: u32,
    /// Promiscuous mode. Default true.
    pub promisc: bool,
    /// Read timeout in milliseconds (how soon shutdown and flushes are noticed). Default 100.
    pub timeout_ms: i32,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            interface: None,
            snaplen: 262_144,
            buffer_mb: 64,
            promisc: true,
            timeout_ms: 100,
        }
    }
}

/// `[replay]`.
#[derive(Clone, Debug, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ReplayConfig {
    /// `max` (default) or a factor of the original timing (`1.0` real time).
    pub speed: Option<String>,
}

/// The TOML file, as written.
#[derive(Clone, Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct FileConfig {
    pub sensor_name: Option<String>,
    pub workers: Option<usize>,
    pub output: Option<String>,
    pub stats_interval: Option<String>,
    pub flow_events: Option<bool>,
    pub bpf: Option<String>,
    pub replay: ReplayConfig,
    pub live: LiveConfig,
    pub pipeline: PipelineConfig,
    pub flow: FlowConfig,
    pub tcp: ReassemblyConfig,
    pub http: HttpConfig,
    pub decode: DecodeConfig,
    pub ip_frag: FragConfig,
    pub discovery: DiscoveryConfig,
    pub sensitive: SensitiveConfig,
    pub auth: AuthConfig,
    pub redaction: RedactionConfig,
}

/// Values given on the command line; `None` means "not given".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    pub sensor_name: Option<String>,
    pub workers: Option<usize>,
    pub output: Option<String>,
    pub stats_interval: Option<String>,
    pub flow_events: Option<bool>,
    pub bpf: Option<String>,
    pub speed: Option<String>,
    pub interface: Option<String>,
    pub snaplen: Option<i32>,
    pub buffer_mb: Option<u32>,
    pub promisc: Option<bool>,
    pub when_full: Option<WhenFull>,
    pub data_dir: Option<PathBuf>,
    /// `--spec` files (added to the config file's `discovery.specs`).
    pub specs: Vec<PathBuf>,
    pub spec_host: Option<String>,
    /// `--unredacted`: raw sensitive values in events (logged as a warning at start).
    pub unredacted: bool,
}

/// Where events go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Stdout,
    File(PathBuf),
}

/// Replay or live: some defaults differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Replay,
    Live,
}

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub mode: Mode,
    pub sensor_name: String,
    pub workers: usize,
    pub output: Output,
    /// 0 disables periodic stats (the final one is always written).
    pub stats_interval: Duration,
    pub flow_events: bool,
    pub bpf: Option<String>,
    pub speed: Speed,
    pub live: LiveConfig,
    pub pipeline: PipelineConfig,
    pub when_full: WhenFull,
    pub flow: FlowConfig,
    pub tcp: ReassemblyConfig,
    pub http: HttpConfig,
    pub decode: DecodeConfig,
    pub ip_frag: FragConfig,
    pub discovery: DiscoveryConfig,
    /// `[sensitive]`: the sensitive data detector.
    pub sensitive: SensitiveConfig,
    /// `[auth]`: credential classification and weak-credential checks.
    pub auth: AuthConfig,
    /// `[redaction]`: the per-sensor key of redaction tags.
    pub redaction: RedactionConfig,
    /// Raw sensitive values in events (`--unredacted`).
    pub unredacted: bool,
}

/// Default worker count: one core is left to the capture thread.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1)
}

/// Default sensor name: the host name.
pub fn default_sensor_name() -> String {
    gethostname::gethostname()
        .into_string()
        .unwrap_or_else(|_| "apitap".to_string())
}

/// Default periodic stats interval.
pub const DEFAULT_STATS_INTERVAL: Duration = Duration::from_secs(60);
/// Upper bound on `--workers`.
pub const MAX_WORKERS: usize = 256;

pub fn parse_speed(s: &str) -> Result<Speed, ConfigError> {
    if s.eq_ignore_ascii_case("max") {
        return Ok(Speed::Max);
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 => Ok(Speed::Factor(f)),
        _ => Err(ConfigError::Invalid {
            field: "speed",
            value: s.to_string(),
            reason: "expected `max` or a positive number such as 1.0",
        }),
    }
}

fn parse_duration(field: &'static str, s: &str) -> Result<Duration, ConfigError> {
    if s.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(s).map_err(|_| ConfigError::Invalid {
        field,
        value: s.to_string(),
        reason: "expected a duration such as 30s, 5m or 1h",
    })
}

fn check(
    ok: bool,
    field: &'static str,
    value: impl ToString,
    reason: &'static str,
) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            field,
            value: value.to_string(),
            reason,
        })
    }
}

impl Config {
    /// Merges CLI values over the TOML file (`toml`: its path and text) over the defaults,
    /// and validates the result.
    pub fn from_parts(
        mode: Mode,
        cli: Overrides,
        toml: Option<(&str, &str)>,
    ) -> Result<Config, ConfigError> {
        let file: FileConfig = match toml {
            None => FileConfig::default(),
            Some((path, text)) => toml::from_str(text).map_err(|e| ConfigError::File {
                path: path.to_string(),
                reason: e.to_string(),
            })?,
        };
        let mut live = file.live;
        if let Some(i) = cli.interface {
            live.interface = Some(i);
        }
        if let Some(s) = cli.snaplen {
            live.snaplen = s;
        }
        if let Some(b) = cli.buffer_mb {
            live.buffer_mb = b;
        }
        if let Some(p) = cli.promisc {
            live.promisc = p;
        }
        let workers = cli.workers.or(file.workers).unwrap_or_else(default_workers);
        check(
            (1..=MAX_WORKERS).contains(&workers),
            "workers",
            workers,
            "must be between 1 and 256",
        )?;
        let output = match cli.output.or(file.output).as_deref() {
            None | Some("-") => Output::Stdout,
            Some("") => {
                return Err(ConfigError::Invalid {
                    field: "output",
                    value: String::new(),
                    reason: "expected a path or -",
                })
            }
            Some(p) => Output::File(PathBuf::from(p)),
        };
        let stats_interval = match cli.stats_interval.or(file.stats_interval) {
            None => DEFAULT_STATS_INTERVAL,
            Some(s) => parse_duration("stats_interval", &s)?,
        };
        let speed = match cli.speed.or(file.replay.speed) {
            None => Speed::Max,
            Some(s) => parse_speed(&s)?,
        };
        let sensor_name = cli
            .sensor_name
            .or(file.sensor_name)
            .unwrap_or_else(default_sensor_name);
        check(
            !sensor_name.is_empty(),
            "sensor_name",
            "",
            "must not be empty",
        )?;
        let p = &file.pipeline;
        check(
            (1..=65_536).contains(&p.batch_packets),
            "pipeline.batch_packets",
            p.batch_packets,
            "must be between 1 and 65536",
        )?;
        check(
            p.queue_batches >= 1,
            "pipeline.queue_batches",
            p.queue_batches,
            "must be at least 1",
        )?;
        check(
            p.latency_sample >= 1,
            "pipeline.latency_sample",
            p.latency_sample,
            "must be at least 1",
        )?;
        check(
            live.snaplen >= 64,
            "live.snaplen",
            live.snaplen,
            "must be at least 64",
        )?;
        check(
            live.timeout_ms >= 1,
            "live.timeout_ms",
            live.timeout_ms,
            "must be at least 1",
        )?;
        let f = &file.flow;
        check(
            f.max_flows >= workers,
            "flow.max_flows",
            f.max_flows,
            "must be at least the number of workers",
        )?;
        check(
            !f.tcp_timeout.is_zero() && !f.udp_timeout.is_zero() && !f.lifetime.is_zero(),
            "flow timeouts",
            "0",
            "must be greater than zero",
        )?;
        check(
            file.decode.max_layers >= 1,
            "decode.max_layers",
            file.decode.max_layers,
            "must be at least 1",
        )?;
        check(
            file.ip_frag.max_fragments >= 1 && file.ip_frag.max_datagrams >= 1,
            "ip_frag limits",
            "0",
            "must be at least 1",
        )?;
        let h = &file.http;
        check(
            h.max_header_bytes >= 64 && h.max_headers >= 1 && h.max_tx >= 1,
            "http limits",
            format!(
                "max_header_bytes={} max_headers={} max_tx={}",
                h.max_header_bytes, h.max_headers, h.max_tx
            ),
            "max_header_bytes must be at least 64, max_headers and max_tx at least 1",
        )?;
        check(
            file.tcp.memcap >= workers,
            "tcp.memcap",
            file.tcp.memcap,
            "must be at least one byte per worker",
        )?;
        let mut discovery = file.discovery;
        if let Some(d) = cli.data_dir {
            discovery.data_dir = Some(d);
        }
        discovery.specs.extend(cli.specs);
        if let Some(h) = cli.spec_host {
            discovery.spec_host = Some(h);
        }
        for (field, list) in [
            ("discovery.internal_cidrs", &discovery.internal_cidrs),
            ("discovery.trusted_proxies", &discovery.trusted_proxies),
        ] {
            if let Err(bad) = parse_cidrs(list) {
                return Err(ConfigError::Invalid {
                    field,
                    value: bad,
                    reason: "expected addresses or CIDRs such as 10.0.0.0/8",
                });
            }
        }
        check(
            !discovery.interval.is_zero() && !discovery.state_interval.is_zero(),
            "discovery.interval",
            format!("{:?}/{:?}", discovery.interval, discovery.state_interval),
            "interval and state_interval must be more than 0",
        )?;
        check(
            discovery.schema_sample_every >= 1 && discovery.schema_small_every >= 1,
            "discovery.schema_sample_every",
            format!(
                "{}/{}",
                discovery.schema_sample_every, discovery.schema_small_every
            ),
            "schema_sample_every and schema_small_every must be at least 1",
        )?;
        let t = &discovery.templates;
        check(
            t.param_threshold >= 2
                && t.plural_threshold >= 2
                && t.force_threshold >= 2
                && t.max_children >= 2
                && t.max_nodes >= 16
                && t.max_depth >= 1
                && (0.0..=1.0).contains(&t.similarity),
            "discovery.templates",
            format!("{t:?}"),
            "thresholds and max_children at least 2, max_nodes at least 16, max_depth at least 1, similarity within 0..1",
        )?;
        if let Err(e) = crate::analyze::sensitive::Detector::new(&file.sensitive) {
            return Err(ConfigError::Section {
                section: "sensitive",
                reason: e.to_string(),
            });
        }
        if let Err(e) = file.auth.validate() {
            return Err(ConfigError::Section {
                section: "auth",
                reason: e.to_string(),
            });
        }
        if mode == Mode::Live && live.interface.is_none() {
            return Err(ConfigError::NoInterface);
        }
        let when_full = cli
            .when_full
            .or(file.pipeline.when_full)
            .unwrap_or(match mode {
                Mode::Replay => WhenFull::Block,
                Mode::Live => WhenFull::Drop,
            });
        Ok(Config {
            mode,
            sensor_name,
            workers,
            output,
            stats_interval,
            flow_events: cli.flow_events.or(file.flow_events).unwrap_or(true),
            bpf: cli.bpf.or(file.bpf),
            speed,
            live,
            pipeline: file.pipeline,
            when_full,
            flow: file.flow,
            tcp: file.tcp,
            http: file.http,
            decode: file.decode,
            ip_frag: file.ip_frag,
            discovery,
            sensitive: file.sensitive,
            auth: file.auth,
            redaction: file.redaction,
            unredacted: cli.unredacted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(cli: Overrides, toml: Option<&str>) -> Result<Config, ConfigError> {
        Config::from_parts(Mode::Replay, cli, toml.map(|t| ("test.toml", t)))
    }

    #[test]
    fn defaults() {
        let c = replay(Overrides::default(), None).unwrap();
        assert_eq!(c.output, Output::Stdout);
        assert_eq!(c.speed, Speed::Max);
        assert_eq!(c.when_full, WhenFull::Block);
        assert_eq!(c.stats_interval, DEFAULT_STATS_INTERVAL);
        assert!(c.workers >= 1);
        assert!(c.flow_events);
        assert_eq!(c.flow, FlowConfig::default());
    }

    #[test]
    fn cli_overrides_file_overrides_default() {
        let toml = r#"
            workers = 3
            sensor_name = "from-file"
            stats_interval = "10s"
            [flow]
            tcp_timeout = "2m"
            max_flows = 5000
            [live]
            snaplen = 1500
        "#;
        let c = replay(
            Overrides {
                workers: Some(2),
                ..Overrides::default()
            },
            Some(toml),
        )
        .unwrap();
        assert_eq!(c.workers, 2);
        assert_eq!(c.sensor_name, "from-file");
        assert_eq!(c.stats_interval, Duration::from_secs(10));
        assert_eq!(c.flow.tcp_timeout, Duration::from_secs(120));
        assert_eq!(c.flow.max_flows, 5000);
        assert_eq!(c.live.snaplen, 1500);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = replay(Overrides::default(), Some("wokers = 3")).unwrap_err();
        assert!(matches!(e, ConfigError::File { .. }), "{e}");
        assert!(e.to_string().contains("wokers"), "{e}");
    }

    #[test]
    fn invalid_values_are_named() {
        let e = replay(
            Overrides {
                workers: Some(0),
                ..Overrides::default()
            },
            None,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value for workers: \"0\" (must be between 1 and 256)"
        );
        let e = replay(
            Overrides {
                speed: Some("fast".into()),
                ..Overrides::default()
            },
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("speed"), "{e}");
        assert!(replay(
            Overrides {
                stats_interval: Some("soon".into()),
                ..Overrides::default()
            },
            None
        )
        .is_err());
    }

    #[test]
    fn speed_parsing() {
        assert_eq!(parse_speed("max").unwrap(), Speed::Max);
        assert_eq!(parse_speed("1.0").unwrap(), Speed::Factor(1.0));
        assert!(parse_speed("0").is_err());
        assert!(parse_speed("-2").is_err());
        assert!(parse_speed("NaN").is_err());
    }

    #[test]
    fn live_needs_interface_and_drops_by_default() {
        assert_eq!(
            Config::from_parts(Mode::Live, Overrides::default(), None).unwrap_err(),
            ConfigError::NoInterface
        );
        let c = Config::from_parts(
            Mode::Live,
            Overrides {
                interface: Some("eth0".into()),
                ..Overrides::default()
            },
            None,
        )
        .unwrap();
        assert_eq!(c.when_full, WhenFull::Drop);
    }

    #[test]
    fn http_and_tcp_sections() {
        let c = replay(
            Overrides::default(),
            Some("[http]\nmax_tx = 16\n[tcp]\ndepth = 1000000\n"),
        )
        .unwrap();
        assert_eq!(c.http.max_tx, 16);
        assert_eq!(c.tcp.depth, 1_000_000);
        let e = replay(Overrides::default(), Some("[http]\nmax_tx = 0\n")).unwrap_err();
        assert!(e.to_string().contains("max_tx"), "{e}");
    }

    #[test]
    fn zero_stats_interval_disables() {
        let c = replay(
            Overrides {
                stats_interval: Some("0".into()),
                ..Overrides::default()
            },
            None,
        )
        .unwrap();
        assert!(c.stats_interval.is_zero());
    }
}
