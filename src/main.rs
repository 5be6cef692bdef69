//! The `apitap` binary: command-line parsing only. Flags are parsed into raw values, merged
//! and validated into one `Config` by the library, and errors are reported here (the only
//! place `anyhow` is used). Exit codes: 0 success, 1 runtime failure, 2 bad usage or input.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use apitap::capture::{LiveOptions, Reader};

/// mimalloc: per-thread free lists instead of glibc's contended arenas. Workers allocate
/// per transaction (heads, bodies, records) and the sink frees what they send; with the
/// system allocator malloc and free were about a fifth of the profile (see benches/README).
/// Built without asking for transparent huge pages (`no_thp`): the worker's heap churns, and
/// each fresh 2 MiB page was cleared whole by the kernel on the worker's thread (a fifth of
/// its samples replaying the benchmark capture, against a twentieth with 4 KiB pages).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use apitap::config::{Config, Mode, Overrides, WhenFull};

#[derive(Parser, Debug)]
#[command(
    name = "apitap",
    version,
    about = "Passive API security sensor: replays captures or listens on an interface, and writes JSON-lines events",
    after_help = "Events go to standard output as JSON lines (one object per line); human messages go to standard error.\nExit codes: 0 success, 1 runtime failure, 2 bad usage or unreadable input."
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

/// Options shared by `replay` and `live`; each can also be set in the config file.
#[derive(Args, Debug, Default)]
struct Common {
    /// Worker threads [default: number of cores - 1, at least 1]
    #[arg(long, global = true, value_name = "N")]
    workers: Option<usize>,
    /// Where events go: a file path (appended to) or - for standard output [default: -]
    #[arg(long, short = 'o', global = true, value_name = "PATH|-")]
    output: Option<String>,
    /// TOML config file; every option can be set there (command-line values win)
    #[arg(long, short = 'c', global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Sensor name written in every event [default: the host name]
    #[arg(long, global = true, value_name = "NAME")]
    sensor_name: Option<String>,
    /// Interval of periodic `stats` events, packet time for replay, 0 to disable (a final one is always written) [default: 60s]
    #[arg(long, global = true, value_name = "DURATION")]
    stats_interval: Option<String>,
    /// Write a `flow` event when each connection ends [default: true]
    #[arg(long, global = true, value_name = "BOOL")]
    flow_events: Option<bool>,
    /// BPF filter applied to the capture (tcpdump syntax) [default: none]
    #[arg(long, global = true, value_name = "EXPR")]
    bpf: Option<String>,
    /// When a worker queue is full: block (no loss) or drop (count the dropped batch) [default: block for replay, drop for live]
    #[arg(long, global = true, value_name = "POLICY", value_parser = parse_when_full)]
    when_full: Option<WhenFull>,
    /// Directory of the persisted inventory and baseline [default: $STATE_DIRECTORY, else /var/lib/apitap as root, else $XDG_STATE_HOME/apitap or ~/.local/state/apitap]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// OpenAPI 3.x or Swagger 2.0 file (JSON or YAML) of documented APIs; repeat for several
    #[arg(long = "spec", global = true, value_name = "FILE")]
    specs: Vec<PathBuf>,
    /// Host the specs apply to, replacing their servers/host [default: from the specs]
    #[arg(long, global = true, value_name = "HOST")]
    spec_host: Option<String>,
    /// Write raw sensitive values (personal data, card numbers, secrets) into events instead of redacting them; logged as a warning at start [default: redacted]
    #[arg(long, global = true)]
    unredacted: bool,
}

fn parse_when_full(s: &str) -> Result<WhenFull, String> {
    match s {
        "block" => Ok(WhenFull::Block),
        "drop" => Ok(WhenFull::Drop),
        _ => Err("expected `block` or `drop`".into()),
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Replay pcap or pcapng files, in order (`-` reads standard input)
    Replay(ReplayArgs),
    /// Capture live from an interface with libpcap
    Live(LiveArgs),
    /// Write deterministic, labelled test captures (the ones in captures/ are made this way)
    Synth(SynthArgs),
    /// Show, export or baseline the API inventory kept in the data directory
    #[command(subcommand)]
    Inventory(InventoryCommand),
}

#[derive(Subcommand, Debug)]
enum InventoryCommand {
    /// Print the inventory as a table
    Show {
        /// Order: calls (most first), endpoint (host, method, path), last-seen (newest first), risk (highest first)
        #[arg(long, default_value = "calls", value_parser = ["calls", "endpoint", "last-seen", "risk"])]
        sort: String,
    },
    /// Print the inventory as JSON (endpoints, documented-never-seen, dormant) or OpenAPI 3.0
    Export {
        /// json or openapi
        #[arg(long, default_value = "json", value_parser = ["json", "openapi"])]
        format: String,
    },
    /// Save the current endpoints as the baseline: later new endpoints are shadow APIs
    Baseline,
}

#[derive(Args, Debug)]
struct SynthArgs {
    /// Scenario to write (see --list), or `bench` for a large benchmark capture
    #[arg(value_name = "SCENARIO", required_unless_present_any = ["list", "all"])]
    scenario: Option<String>,
    /// List the scenarios and exit
    #[arg(long)]
    list: bool,
    /// Write every scenario into DIR, with a manifest.json of their expected counts
    #[arg(long, value_name = "DIR", conflicts_with = "scenario")]
    all: Option<PathBuf>,
    /// Size of the `bench` capture, with a K/M/G suffix (powers of 1024) [default: 1G]
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    size: u64,
    /// Seed of the `bench` capture [default: 1], of `api-traffic` [default: 20260101] and of `sensitive-traffic` [default: 20261205]
    #[arg(long)]
    seed: Option<u64>,
    /// Calls of `api-traffic` and `sensitive-traffic` (labelled traffic, written into the --output directory)
    #[arg(long, default_value_t = 3000)]
    calls: usize,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix {c:?} (use K, M or G)")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("invalid size {s:?}"))
}

#[derive(Args, Debug)]
struct ReplayArgs {
    /// Capture files (pcap or pcapng); - for standard input
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Replay speed: max, or a factor of the original timing (1.0 = real time) [default: max]
    #[arg(long, value_name = "max|FACTOR")]
    speed: Option<String>,
}

#[derive(Args, Debug)]
struct LiveArgs {
    /// Interface to capture on (needs CAP_NET_RAW)
    #[arg(long, short = 'i', value_name = "IFACE")]
    interface: Option<String>,
    /// Bytes kept of each packet [default: 262144]
    #[arg(long, value_name = "BYTES")]
    snaplen: Option<i32>,
    /// Kernel capture buffer in MiB [default: 64]
    #[arg(long, value_name = "MIB")]
    buffer_mb: Option<u32>,
    /// Promiscuous mode [default: true]
    #[arg(long, value_name = "BOOL")]
    promisc: Option<bool>,
}

fn overrides(common: &Common) -> Overrides {
    Overrides {
        sensor_name: common.sensor_name.clone(),
        workers: common.workers,
        output: common.output.clone(),
        stats_interval: common.stats_interval.clone(),
        flow_events: common.flow_events,
        bpf: common.bpf.clone(),
        when_full: common.when_full,
        data_dir: common.data_dir.clone(),
        specs: common.specs.clone(),
        spec_host: common.spec_host.clone(),
        unredacted: common.unredacted,
        ..Overrides::default()
    }
}

/// A failure with its exit code.
struct Failure {
    code: u8,
    err: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Self {
            code: 1,
            err: e.into(),
        }
    }
}

fn usage<E: Into<anyhow::Error>>(e: E) -> Failure {
    Failure {
        code: 2,
        err: e.into(),
    }
}

/// Writes a human message on stderr; a closed stderr is not worth dying for.
fn say(msg: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "apitap: {msg}");
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(f) => {
            say(format_args!("error: {:#}", f.err));
            ExitCode::from(f.code)
        }
    }
}

fn load_config(mode: Mode, cli: Overrides, path: Option<&PathBuf>) -> Result<Config, Failure> {
    let text = match path {
        None => None,
        Some(p) => Some(
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read config file {}", p.display()))
                .map_err(usage)?,
        ),
    };
    let name = path.map(|p| p.display().to_string()).unwrap_or_default();
    Config::from_parts(mode, cli, text.as_deref().map(|t| (name.as_str(), t))).map_err(usage)
}

/// Connects SIGINT/SIGTERM to the pipeline's shutdown channel; a second signal exits at once.
fn shutdown_on_signals() -> Result<crossbeam_channel::Receiver<()>, Failure> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let (tx, rx) = crossbeam_channel::bounded::<()>(1);
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .context("cannot install signal handlers")?;
    std::thread::Builder::new()
        .name("apitap-signals".into())
        .spawn(move || {
            let mut seen = 0;
            for _ in signals.forever() {
                seen += 1;
                if seen == 1 {
                    say(format_args!(
                        "stopping: draining queues and flushing flows (signal again to exit now)"
                    ));
                    let _ = tx.try_send(());
                } else {
                    std::process::exit(130);
                }
            }
        })
        .context("cannot start signal thread")?;
    Ok(rx)
}

fn synth(args: SynthArgs, output: Option<&str>) -> Result<ExitCode, Failure> {
    use apitap::synth;
    if args.list {
        for (name, desc) in synth::scenarios() {
            println!("{name:18} {desc}");
        }
        println!("{:18} a large benchmark capture (--size, --seed)", "bench");
        println!(
            "{:18} labelled API traffic, specs and labels into the --output directory (--calls, --seed)",
            "api-traffic"
        );
        println!(
            "{:18} labelled sensitive values and credentials, capture and labels into the --output directory (--calls, --seed)",
            "sensitive-traffic"
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(dir) = args.all {
        let infos = synth::write_all_scenarios(&dir)
            .with_context(|| format!("cannot write scenarios into {}", dir.display()))?;
        say(format_args!(
            "wrote {} captures into {}",
            infos.len(),
            dir.display()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(name), Some(out)) = (args.scenario, output.filter(|o| *o != "-")) else {
        return Err(usage(anyhow::anyhow!(
            "give a scenario and --output FILE, or --list, or --all DIR"
        )));
    };
    let out = PathBuf::from(out);
    if name == "api-traffic" {
        let mut opts = synth::api_traffic::ApiTrafficOptions {
            calls: args.calls,
            ..Default::default()
        };
        if let Some(seed) = args.seed {
            opts.seed = seed;
        }
        std::fs::create_dir_all(&out)
            .with_context(|| format!("cannot create {}", out.display()))?;
        let info = synth::api_traffic::write_api_traffic(&out, &opts)
            .with_context(|| format!("cannot write into {}", out.display()))?;
        say(format_args!(
            "wrote {}: {} calls to {} endpoints ({} shadow, {} zombie), labels in {}, specs in {}",
            info.pcap.display(),
            info.calls,
            info.endpoints,
            info.shadow_endpoints,
            info.zombie_endpoints,
            info.labels.display(),
            out.join("specs").display()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    if name == "sensitive-traffic" {
        let mut opts = synth::sensitive_traffic::SensitiveTrafficOptions {
            calls: args.calls,
            ..Default::default()
        };
        if let Some(seed) = args.seed {
            opts.seed = seed;
        }
        let info = synth::sensitive_traffic::write_sensitive_traffic(&out, &opts)
            .with_context(|| format!("cannot write into {}", out.display()))?;
        say(format_args!(
            "wrote {}: {} calls on {} connections, {} planted values, {} hard negatives, labels in {}",
            out.join(synth::sensitive_traffic::PCAP_NAME).display(),
            info.calls,
            info.connections,
            info.plants,
            info.negatives,
            out.join(synth::sensitive_traffic::LABELS_NAME).display()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    if name == "bench" {
        let info = synth::write_bench_capture(&out, args.size, args.seed.unwrap_or(1))
            .with_context(|| format!("cannot write {}", out.display()))?;
        say(format_args!(
            "wrote {}: {} packets, {} bytes, {} flows, {} HTTP transactions",
            out.display(),
            info.packets,
            info.bytes,
            info.flows,
            info.http_transactions
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let info = match synth::write_scenario(&name, &out) {
        Ok(i) => i,
        Err(e @ synth::SynthError::UnknownScenario(_)) => return Err(usage(e)),
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("cannot write {}", out.display()))
                .into())
        }
    };
    say(format_args!(
        "wrote {}: {} packets, {} TCP flows, {} UDP flows",
        out.display(),
        info.packets,
        info.flows_tcp,
        info.flows_udp
    ));
    Ok(ExitCode::SUCCESS)
}

/// The data directory when none is configured: systemd's `$STATE_DIRECTORY`, else
/// `/var/lib/apitap` for root, else the XDG state directory.
fn default_data_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("STATE_DIRECTORY") {
        let first = d
            .to_string_lossy()
            .split(':')
            .next()
            .unwrap_or("")
            .to_string();
        if !first.is_empty() {
            return Some(PathBuf::from(first));
        }
    }
    if is_root() {
        return Some(PathBuf::from("/var/lib/apitap"));
    }
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("apitap"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".local/state/apitap"))
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| {
            use std::os::unix::fs::MetadataExt;
            m.uid() == 0
        })
        .unwrap_or(false)
}

fn with_data_dir(mut cfg: Config) -> Config {
    if cfg.discovery.data_dir.is_none() {
        cfg.discovery.data_dir = default_data_dir();
    }
    cfg
}

fn inventory(cmd: InventoryCommand, cfg: &Config) -> Result<ExitCode, Failure> {
    use apitap::analyze::{discovery, inventory::Inventory, report, spec::SpecSet};
    let Some(dir) = cfg.discovery.data_dir.clone() else {
        return Err(usage(anyhow::anyhow!(
            "no data directory: give --data-dir (HOME is not set)"
        )));
    };
    let mut inv = Inventory::new(cfg.discovery.templates.clone());
    inv.state = discovery::load_state(&dir).map_err(usage)?;
    let specs = if cfg.discovery.specs.is_empty() {
        None
    } else {
        Some(
            SpecSet::load_paths(
                &cfg.discovery.specs,
                cfg.discovery.spec_host.as_deref(),
                &Default::default(),
            )
            .map_err(usage)?,
        )
    };
    let baseline = report::read_baseline(&dir).map_err(usage)?;
    let out = match cmd {
        InventoryCommand::Show { sort } => {
            let sort = match sort.as_str() {
                "endpoint" => report::Sort::Endpoint,
                "last-seen" => report::Sort::LastSeen,
                "risk" => report::Sort::Risk,
                _ => report::Sort::Calls,
            };
            report::table(&inv, sort, specs.as_ref(), baseline.as_ref())
        }
        InventoryCommand::Export { format } => {
            let v = if format == "openapi" {
                report::export_openapi_doc(&inv)
            } else {
                report::export_json(
                    &inv,
                    specs.as_ref(),
                    baseline.as_ref(),
                    cfg.discovery.dormant_after.as_micros() as u64,
                )
            };
            let mut s = serde_json::to_string_pretty(&v).context("cannot serialise")?;
            s.push('\n');
            s
        }
        InventoryCommand::Baseline => {
            let created =
                humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
            let n = report::write_baseline(&inv, &dir, &created)?;
            say(format_args!(
                "baseline of {n} endpoints saved in {}",
                dir.join(discovery::BASELINE_FILE).display()
            ));
            return Ok(ExitCode::SUCCESS);
        }
    };
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    if let Err(e) = lock.write_all(out.as_bytes()).and_then(|_| lock.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(anyhow::Error::new(e)
                .context("cannot write to standard output")
                .into());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let mut ov = overrides(&cli.common);
    let (cfg, reader) = match cli.command {
        Command::Synth(args) => return synth(args, cli.common.output.as_deref()),
        Command::Inventory(cmd) => {
            let cfg = with_data_dir(load_config(Mode::Replay, ov, cli.common.config.as_ref())?);
            return inventory(cmd, &cfg);
        }
        Command::Replay(args) => {
            ov.speed = args.speed;
            let cfg = with_data_dir(load_config(Mode::Replay, ov, cli.common.config.as_ref())?);
            let reader = Reader::open_files(&args.files, cfg.bpf.as_deref()).map_err(usage)?;
            say(format_args!(
                "replaying {} file(s) with {} worker(s)",
                args.files.len(),
                cfg.workers
            ));
            (cfg, reader)
        }
        Command::Live(args) => {
            ov.interface = args.interface;
            ov.snaplen = args.snaplen;
            ov.buffer_mb = args.buffer_mb;
            ov.promisc = args.promisc;
            let cfg = with_data_dir(load_config(Mode::Live, ov, cli.common.config.as_ref())?);
            let opts = LiveOptions {
                interface: cfg.live.interface.clone().unwrap_or_default(),
                snaplen: cfg.live.snaplen,
                buffer_mb: cfg.live.buffer_mb,
                promisc: cfg.live.promisc,
                timeout_ms: cfg.live.timeout_ms,
            };
            let reader = Reader::open_live(&opts, cfg.bpf.as_deref())?;
            say(format_args!(
                "capturing on {} (snaplen {}, buffer {} MiB) with {} worker(s)",
                opts.interface, opts.snaplen, opts.buffer_mb, cfg.workers
            ));
            (cfg, reader)
        }
    };
    let out = apitap::sink::open(&cfg.output).map_err(usage)?;
    let shutdown = shutdown_on_signals()?;
    let summary = match apitap::pipeline::run(&cfg, reader, shutdown, out) {
        Ok(s) => s,
        Err(
            e @ (apitap::pipeline::PipelineError::Spec(_)
            | apitap::pipeline::PipelineError::Discovery(_)
            | apitap::pipeline::PipelineError::Key(_)),
        ) => return Err(usage(e)),
        Err(e) => return Err(e.into()),
    };
    eprintln!("apitap: {}", summary.snapshot.summary_line(summary.elapsed));
    if let Some(e) = summary.sink_error {
        return Err(anyhow::anyhow!(
            "writing events failed ({e}); {} events were dropped",
            summary.snapshot.sink.events_dropped
        )
        .into());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn shared_options_go_before_or_after_the_command() {
        let a = Cli::try_parse_from(["apitap", "--workers", "3", "replay", "x.pcap"]).unwrap();
        let b = Cli::try_parse_from(["apitap", "replay", "x.pcap", "--workers", "3"]).unwrap();
        assert_eq!(a.common.workers, Some(3));
        assert_eq!(b.common.workers, Some(3));
    }

    #[test]
    fn replay_needs_a_file() {
        assert!(Cli::try_parse_from(["apitap", "replay"]).is_err());
    }

    #[test]
    fn when_full_values() {
        assert_eq!(parse_when_full("drop"), Ok(WhenFull::Drop));
        assert!(parse_when_full("sometimes").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("0").is_err());
        assert!(parse_size("1T").is_err());
        assert!(parse_size("x").is_err());
    }
}
