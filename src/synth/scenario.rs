//! Named test scenarios: small captures of HTTP/1.1 API traffic, one per
//! link type / encapsulation / edge case the sensor must handle.
//!
//! Guarantees:
//! - [`write_scenario`] is deterministic: the same name always produces a
//!   byte-identical file, starting at [`crate::synth::EPOCH_US`].
//! - Packets are written in non-decreasing timestamp order.
//! - Every count in [`ScenarioInfo`] and its `expected` JSON is tallied
//!   while writing, from the records actually written (see
//!   [`ScenarioInfo`] for the meaning of each key).
//! - Unknown names and I/O failures are [`SynthError`]s; nothing panics.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::BufWriter;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use serde_json::json;

use super::frag::{fragment_ip, FragOptions, FragOrder};
use super::packet::{arp_frame, mac_for, Encap, Frame, IpPair, Link, TcpFlags, Transport};
use super::pcap::{CaptureFormat, CaptureWriter, DEFAULT_SNAPLEN};
use super::tcp::{Conversation, FrameStyle, Side};
use super::{SynthError, EPOCH_US};

/// Result of writing one scenario.
///
/// `expected` keys (all present for every scenario):
/// - `format` ("pcap"/"pcapng"), `linktype`, `snaplen`, `encapsulation`
///   (list of layer names between link and innermost IP);
/// - `packets`: complete records in the file; `cut_records`: records cut
///   short at the end of the file (0 or 1, not in `packets`);
/// - `tcp_flows` / `udp_flows`: distinct bidirectional 5-tuples of the
///   innermost packets (tunnel outer UDP is not a flow);
/// - `tcp_segments`: TCP segments (a fragmented datagram counts once);
///   `tcp_syn`, `tcp_fin`, `tcp_rst`: segments with that flag;
///   `handshakes`: connections with a three-way handshake;
///   `tcp_payload_bytes_client` / `_server`: TCP payload per direction;
///   `seq_wrapped_flows`: connections whose sequence numbers wrap 2^32;
/// - `ip_fragments`: fragment frames; `fragmented_datagrams`;
///   `out_of_order_datagrams`: datagrams whose fragments are not in offset
///   order;
/// - `truncated_frames`: records with caplen < orig_len;
///   `header_truncated_frames`: of those, cut inside the IP/TCP headers
///   (no flow can be read from them);
/// - `arp_packets`, `icmp_packets`, `udp_packets`; `ipv4_packets`,
///   `ipv6_packets`: complete-header frames by innermost IP version;
/// - `http_requests`, `http_responses` and `http`: one entry per
///   transaction on the wire (`client`, `server`, `method`, `path`, `host`,
///   `status`, `request_body_bytes`, `response_body_bytes`), per flow in
///   request order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScenarioInfo {
    /// Scenario name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// pcap link type of the file.
    pub linktype: u32,
    /// Complete records written.
    pub packets: u64,
    /// Distinct TCP flows.
    pub flows_tcp: u64,
    /// Distinct UDP flows.
    pub flows_udp: u64,
    /// Exact counts a test should assert (keys documented above).
    pub expected: serde_json::Value,
}

const SCENARIOS: &[(&str, &str)] = &[
    (
        "ethernet",
        "Ethernet II, IPv4, three HTTP/1.1 API conversations",
    ),
    (
        "ipv6",
        "Ethernet II, IPv6 with hop-by-hop and destination-options headers",
    ),
    ("vlan", "802.1Q VLAN 100 tagged Ethernet, IPv4"),
    ("qinq", "802.1ad QinQ (outer 200 / inner 300), IPv4"),
    ("mpls", "MPLS label stack 1001/2002 over Ethernet, IPv4"),
    ("pppoe", "PPPoE session 0x1234 over Ethernet, IPv4"),
    ("sll", "Linux cooked capture v1 (linktype 113), IPv4"),
    ("sll2", "Linux cooked capture v2 (linktype 276), IPv4"),
    ("raw-ip", "Raw IP (linktype 101), IPv4"),
    (
        "null-loopback",
        "BSD loopback (linktype 0), IPv4 and IPv6 on loopback addresses",
    ),
    (
        "vxlan",
        "VXLAN VNI 5001 (UDP 4789); one conversation has an inner VLAN 7 tag",
    ),
    ("geneve", "GENEVE VNI 6001 (UDP 6081) carrying Ethernet"),
    ("gre", "IP-in-GRE with key 0x1000"),
    ("erspan2", "ERSPAN type II session 100 (GRE 0x88be)"),
    ("erspan3", "ERSPAN type III session 200 (GRE 0x22eb)"),
    (
        "ipv4-fragments",
        "IPv4 with large TCP segments fragmented at MTU 576, one datagram out of order",
    ),
    (
        "ipv6-fragments",
        "IPv6 with large TCP segments fragmented at MTU 1280, one datagram out of order",
    ),
    (
        "truncated-packets",
        "snaplen 96 cuts payloads; two frames cut inside the IP and TCP headers",
    ),
    (
        "truncated-file",
        "the ethernet scenario with the file ending in the middle of the last record",
    ),
    ("pcapng", "the ethernet scenario written as pcapng"),
    (
        "mixed",
        "Ethernet mix: IPv4, VLAN, IPv6, VXLAN conversations plus ARP, DNS over UDP and ICMP",
    ),
    (
        "seq-wrap",
        "initial sequence numbers near 2^32 so every connection wraps",
    ),
    ("midstream", "capture starts after the handshakes (no SYNs)"),
];

/// All scenarios: (name, one-line description).
pub fn scenarios() -> &'static [(&'static str, &'static str)] {
    SCENARIOS
}

/// File name used by [`write_all_scenarios`] for a scenario.
pub fn scenario_file_name(name: &str) -> String {
    if name == "pcapng" {
        format!("{name}.pcapng")
    } else {
        format!("{name}.pcap")
    }
}

/// Writes every scenario into `dir` (created if missing) as
/// [`scenario_file_name`], plus `manifest.json` listing the infos.
pub fn write_all_scenarios(dir: &Path) -> Result<Vec<ScenarioInfo>, SynthError> {
    std::fs::create_dir_all(dir)?;
    let mut infos = Vec::with_capacity(SCENARIOS.len());
    for (name, _) in SCENARIOS {
        infos.push(write_scenario(name, &dir.join(scenario_file_name(name)))?);
    }
    let manifest = serde_json::to_vec_pretty(&infos).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("manifest.json"), manifest)?;
    Ok(infos)
}

/// Writes scenario `name` to `path` and returns what it contains.
pub fn write_scenario(name: &str, path: &Path) -> Result<ScenarioInfo, SynthError> {
    let description = SCENARIOS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
        .ok_or_else(|| SynthError::UnknownScenario(name.to_string()))?;
    let plan = plan_for(name)?;
    let built = build(&plan)?;
    let file = File::create(path)?;
    let w = CaptureWriter::new(
        plan.format,
        BufWriter::with_capacity(1 << 16, file),
        plan.link.linktype(),
        plan.snaplen,
    )?;
    let tally = write_all(w, &built.pending, plan.cut_last)?;
    let expected = expected_json(&plan, &built, &tally);
    Ok(ScenarioInfo {
        name: name.to_string(),
        description: description.to_string(),
        linktype: plan.link.linktype(),
        packets: tally.packets,
        flows_tcp: tally.tcp_flows.len() as u64,
        flows_udp: tally.udp_flows.len() as u64,
        expected,
    })
}

// ---------------------------------------------------------------- content

/// One HTTP/1.1 request/response pair.
#[derive(Debug, Clone)]
struct Exchange {
    method: &'static str,
    path: String,
    host: &'static str,
    req_headers: Vec<(&'static str, String)>,
    req_body: Option<String>,
    status: u16,
    reason: &'static str,
    resp_headers: Vec<(&'static str, String)>,
    resp_body: Option<String>,
}

const DATE: &str = "Thu, 01 Jan 2026 00:00:00 GMT";

impl Exchange {
    fn request(&self) -> Vec<u8> {
        let mut s = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: apitap-synth/1.0\r\nAccept: application/json\r\n",
            self.method, self.path, self.host
        );
        for (k, v) in &self.req_headers {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = &self.req_body {
            s.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            ));
        } else {
            s.push_str("\r\n");
        }
        s.into_bytes()
    }

    fn response(&self) -> Vec<u8> {
        let mut s = format!(
            "HTTP/1.1 {} {}\r\nDate: {DATE}\r\nServer: synth\r\n",
            self.status, self.reason
        );
        for (k, v) in &self.resp_headers {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        match &self.resp_body {
            Some(b) => s.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            )),
            None if self.status == 204 => s.push_str("\r\n"),
            None => s.push_str("Content-Length: 0\r\n\r\n"),
        }
        s.into_bytes()
    }
}

fn orders_json(user: u32, n: u32) -> String {
    let items: Vec<String> = (1..=n)
        .map(|i| {
            format!(
                "{{\"order_id\":\"ord_{:04}\",\"user_id\":{user},\"status\":\"{}\",\"total\":{}.{:02},\"currency\":\"EUR\",\"created_at\":\"2025-12-{:02}T10:{:02}:00Z\",\"items\":[{{\"sku\":\"SKU-{}\",\"qty\":{}}}]}}",
                1000 + i,
                if i % 3 == 0 { "shipped" } else { "paid" },
                10 + i * 7,
                (i * 13) % 100,
                1 + i % 28,
                i % 60,
                2000 + i * 11,
                1 + i % 4
            )
        })
        .collect();
    format!(
        "{{\"user_id\":{user},\"count\":{n},\"orders\":[{}]}}",
        items.join(",")
    )
}

/// Template 0: two GETs on one keep-alive connection (second response is
/// several segments long).
fn template_users() -> Vec<Exchange> {
    vec![
        Exchange {
            method: "GET",
            path: "/api/users/42".into(),
            host: "api.example.com",
            req_headers: vec![],
            req_body: None,
            status: 200,
            reason: "OK",
            resp_headers: vec![],
            resp_body: Some(
                "{\"id\":42,\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\",\"role\":\"admin\"}".into(),
            ),
        },
        Exchange {
            method: "GET",
            path: "/api/users/42/orders?limit=20".into(),
            host: "api.example.com",
            req_headers: vec![],
            req_body: None,
            status: 200,
            reason: "OK",
            resp_headers: vec![],
            resp_body: Some(orders_json(42, 20)),
        },
    ]
}

/// Template 1: a POST with a JSON body.
fn template_orders() -> Vec<Exchange> {
    vec![Exchange {
        method: "POST",
        path: "/api/orders".into(),
        host: "api.example.com",
        req_headers: vec![],
        req_body: Some(
            "{\"user_id\":42,\"email\":\"ada@example.com\",\"items\":[{\"sku\":\"SKU-1001\",\"qty\":2},{\"sku\":\"SKU-2002\",\"qty\":1}],\"card_number\":\"4111111111111111\"}".into(),
        ),
        status: 201,
        reason: "Created",
        resp_headers: vec![("Location", "/api/orders/ord_1001".into())],
        resp_body: Some("{\"order_id\":\"ord_1001\",\"status\":\"created\",\"total\":59.97}".into()),
    }]
}

/// Template 2: authenticated PUT then DELETE (204, no body).
fn template_accounts() -> Vec<Exchange> {
    let auth = (
        "Authorization",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.c2lnbmF0dXJl".to_string(),
    );
    vec![
        Exchange {
            method: "PUT",
            path: "/api/v2/accounts/7".into(),
            host: "accounts.example.com:8080",
            req_headers: vec![auth.clone()],
            req_body: Some("{\"display_name\":\"Grace\",\"phone\":\"+1-555-0100\"}".into()),
            status: 200,
            reason: "OK",
            resp_headers: vec![],
            resp_body: Some("{\"id\":7,\"display_name\":\"Grace\",\"updated\":true}".into()),
        },
        Exchange {
            method: "DELETE",
            path: "/api/v2/sessions/s_9f8e7d".into(),
            host: "accounts.example.com:8080",
            req_headers: vec![auth],
            req_body: None,
            status: 204,
            reason: "No Content",
            resp_headers: vec![],
            resp_body: None,
        },
    ]
}

// ---------------------------------------------------------------- plans

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    ClientFin,
    ServerFin,
    ClientRst,
}

#[derive(Debug, Clone)]
struct ConvSpec {
    client: SocketAddr,
    server: SocketAddr,
    exchanges: Vec<Exchange>,
    isn_c: u32,
    isn_s: u32,
    handshake: bool,
    close: Close,
    mss: usize,
    start_us: u64,
    step_us: u64,
    style: FrameStyle,
}

#[derive(Debug, Clone, Copy)]
struct FragPlan {
    /// Segments whose IP packet exceeds this are sent as fragments.
    mtu: usize,
    /// Send the first fragmented datagram's fragments in reverse order.
    reverse_first: bool,
}

#[derive(Debug, Clone)]
struct Plan {
    link: Link,
    format: CaptureFormat,
    snaplen: u32,
    encapsulation: Vec<&'static str>,
    convs: Vec<ConvSpec>,
    frag: Option<FragPlan>,
    extras: Vec<Pending>,
    cut_last: bool,
}

fn sa(s: &str) -> Result<SocketAddr, SynthError> {
    s.parse()
        .map_err(|_| SynthError::arg(format!("bad address {s}")))
}

/// The three standard conversations between the given endpoint pairs.
fn standard(
    addrs: &[(&str, &str); 3],
    style: &FrameStyle,
    mss: usize,
) -> Result<Vec<ConvSpec>, SynthError> {
    let templates = [template_users(), template_orders(), template_accounts()];
    let closes = [Close::ClientFin, Close::ServerFin, Close::ClientRst];
    let mut v = Vec::new();
    for (i, ((c, s), ex)) in addrs.iter().zip(templates).enumerate() {
        let i32_ = i as u32;
        v.push(ConvSpec {
            client: sa(c)?,
            server: sa(s)?,
            exchanges: ex,
            isn_c: 0x1000_0000u32.wrapping_mul(i32_ + 1).wrapping_add(0x1234),
            isn_s: 0x8000_0000u32
                .wrapping_add(i32_ * 0x0100_0000)
                .wrapping_add(0x4321),
            handshake: true,
            close: closes[i],
            mss,
            start_us: EPOCH_US + i as u64 * 700,
            step_us: 100 + 10 * i as u64,
            style: style.clone(),
        });
    }
    Ok(v)
}

const V4: [(&str, &str); 3] = [
    ("10.0.0.10:40001", "10.0.1.20:80"),
    ("10.0.0.11:40002", "10.0.1.20:80"),
    ("10.0.0.12:40003", "10.0.1.21:8080"),
];
const V6: [(&str, &str); 3] = [
    ("[2001:db8:0:1::10]:40001", "[2001:db8:0:2::20]:80"),
    ("[2001:db8:0:1::11]:40002", "[2001:db8:0:2::20]:80"),
    ("[2001:db8:0:1::12]:40003", "[2001:db8:0:2::21]:8080"),
];

fn style(link: Link, encaps: Vec<Encap>) -> FrameStyle {
    FrameStyle {
        link: Some(link),
        encaps,
        ipv6_ext: false,
        pad_ethernet: false,
    }
}

fn simple(link: Link, encaps: Vec<Encap>, names: Vec<&'static str>) -> Result<Plan, SynthError> {
    Ok(Plan {
        link,
        format: CaptureFormat::Pcap,
        snaplen: DEFAULT_SNAPLEN,
        encapsulation: names,
        convs: standard(&V4, &style(link, encaps), 1460)?,
        frag: None,
        extras: Vec::new(),
        cut_last: false,
    })
}

fn plan_for(name: &str) -> Result<Plan, SynthError> {
    use Encap::*;
    let eth = Link::Ethernet;
    Ok(match name {
        "ethernet" => simple(eth, vec![], vec![])?,
        "ipv6" => {
            let mut st = style(eth, vec![]);
            st.ipv6_ext = true;
            let mut p = simple(eth, vec![], vec![])?;
            // 1500 - 40 (IPv6) - 16 (extension headers) - 20 (TCP).
            p.convs = standard(&V6, &st, 1424)?;
            p
        }
        "vlan" => simple(eth, vec![Vlan(100)], vec!["vlan"])?,
        "qinq" => simple(
            eth,
            vec![QinQ {
                outer: 200,
                inner: 300,
            }],
            vec!["qinq"],
        )?,
        "mpls" => simple(eth, vec![Mpls(vec![1001, 2002])], vec!["mpls"])?,
        "pppoe" => simple(eth, vec![Pppoe { session: 0x1234 }], vec!["pppoe"])?,
        "sll" => simple(Link::Sll, vec![], vec![])?,
        "sll2" => simple(Link::Sll2, vec![], vec![])?,
        "raw-ip" => simple(Link::RawIp, vec![], vec![])?,
        "null-loopback" => {
            let mut p = simple(Link::Null, vec![], vec![])?;
            p.convs = standard(
                &[
                    ("127.0.0.1:50001", "127.0.0.1:8080"),
                    ("127.0.0.1:50002", "127.0.0.1:8080"),
                    ("[::1]:50003", "[::1]:8080"),
                ],
                &style(Link::Null, vec![]),
                16_344,
            )?;
            p
        }
        "vxlan" => {
            let mut p = simple(eth, vec![Vxlan { vni: 5001 }], vec!["vxlan"])?;
            p.convs[2].style.encaps.push(Vlan(7));
            p
        }
        "geneve" => simple(eth, vec![Geneve { vni: 6001 }], vec!["geneve"])?,
        "gre" => simple(eth, vec![Gre { key: Some(0x1000) }], vec!["gre"])?,
        "erspan2" => simple(eth, vec![ErspanII { session: 100 }], vec!["erspan2"])?,
        "erspan3" => simple(eth, vec![ErspanIII { session: 200 }], vec!["erspan3"])?,
        "ipv4-fragments" => {
            let mut p = simple(eth, vec![], vec![])?;
            p.frag = Some(FragPlan {
                mtu: 576,
                reverse_first: true,
            });
            p
        }
        "ipv6-fragments" => {
            let mut p = simple(eth, vec![], vec![])?;
            p.convs = standard(&V6, &style(eth, vec![]), 1440)?;
            p.frag = Some(FragPlan {
                mtu: 1280,
                reverse_first: true,
            });
            p
        }
        "truncated-packets" => {
            let mut p = simple(eth, vec![], vec![])?;
            p.snaplen = 96;
            // A SYN of a fourth client, captured twice cut inside headers.
            let syn = Frame::new(
                IpPair::V4 {
                    src: Ipv4Addr::new(10, 0, 0, 99),
                    dst: Ipv4Addr::new(10, 0, 1, 20),
                },
                Transport::tcp(40099, 80, 0x0bad_cafe, 0, TcpFlags::SYN, Vec::new()),
            )
            .to_bytes()?;
            let orig = syn.len() as u32;
            for (i, cut) in [14 + 12, 14 + 20 + 10].into_iter().enumerate() {
                p.extras.push(Pending {
                    ts: EPOCH_US + 200 + 100 * i as u64,
                    data: syn[..cut].to_vec(),
                    orig_len: orig,
                    tag: Tag {
                        header_truncated: true,
                        ip_version: 4,
                        ..Tag::default()
                    },
                });
            }
            p
        }
        "truncated-file" => {
            let mut p = simple(eth, vec![], vec![])?;
            p.cut_last = true;
            p
        }
        "pcapng" => {
            let mut p = simple(eth, vec![], vec![])?;
            p.format = CaptureFormat::PcapNg;
            p
        }
        "mixed" => mixed_plan()?,
        "seq-wrap" => {
            let mut p = simple(eth, vec![], vec![])?;
            let isns = [
                (u32::MAX - 9, u32::MAX - 1999),
                (u32::MAX - 99, u32::MAX),
                (u32::MAX, u32::MAX - 499),
            ];
            for (c, (ic, is)) in p.convs.iter_mut().zip(isns) {
                c.isn_c = ic;
                c.isn_s = is;
            }
            p
        }
        "midstream" => {
            let mut p = simple(eth, vec![], vec![])?;
            for c in &mut p.convs {
                c.handshake = false;
            }
            p
        }
        other => return Err(SynthError::UnknownScenario(other.to_string())),
    })
}

fn mixed_plan() -> Result<Plan, SynthError> {
    let eth = Link::Ethernet;
    let mut padded = style(eth, vec![]);
    padded.pad_ethernet = true;
    padded.ipv6_ext = true;
    let mut convs = standard(&V4, &padded, 1460)?;
    // ARP, DNS and ICMP come first; connections start 1 ms later.
    for c in &mut convs {
        c.start_us += 1_000;
    }
    convs[1].style.encaps = vec![Encap::Vlan(10)];
    let v6 = standard(&V6, &padded, 1424)?;
    convs[2] = ConvSpec {
        start_us: convs[2].start_us,
        step_us: convs[2].step_us,
        ..v6[2].clone()
    };
    let mut tunnelled = standard(&V4, &padded, 1460)?.remove(0);
    tunnelled.client = sa("10.0.0.13:40004")?;
    tunnelled.style.encaps = vec![Encap::Vxlan { vni: 7001 }];
    tunnelled.start_us = EPOCH_US + 3_100;
    tunnelled.isn_c = 0x5555_0000;
    tunnelled.isn_s = 0x6666_0000;
    convs.push(tunnelled);

    let client = Ipv4Addr::new(10, 0, 0, 10);
    let gw = Ipv4Addr::new(10, 0, 0, 1);
    let dns = Ipv4Addr::new(10, 0, 0, 53);
    let server = Ipv4Addr::new(10, 0, 1, 20);
    let cmac = mac_for(client.into());
    let gmac = mac_for(gw.into());
    let mut extras = vec![
        Pending {
            ts: EPOCH_US,
            data: arp_frame(false, cmac, client, [0; 6], gw),
            orig_len: 60,
            tag: Tag {
                arp: true,
                ..Tag::default()
            },
        },
        Pending {
            ts: EPOCH_US + 40,
            data: arp_frame(true, gmac, gw, cmac, client),
            orig_len: 60,
            tag: Tag {
                arp: true,
                ..Tag::default()
            },
        },
    ];
    // DNS query and answer for api.example.com A.
    let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in ["api", "example", "com"] {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    let mut r = q.clone();
    r[2..8].copy_from_slice(&[0x81, 0x80, 0, 1, 0, 1]);
    r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4]);
    r.extend_from_slice(&server.octets());
    let ping: Vec<u8> = b"abcdefghijklmnopqrstuvwabcdefghi".to_vec();
    let datagrams = [
        (
            EPOCH_US + 200,
            client,
            dns,
            Transport::Udp {
                src_port: 53001,
                dst_port: 53,
                payload: q,
            },
        ),
        (
            EPOCH_US + 450,
            dns,
            client,
            Transport::Udp {
                src_port: 53,
                dst_port: 53001,
                payload: r,
            },
        ),
        (
            EPOCH_US + 600,
            client,
            server,
            Transport::Icmp {
                icmp_type: 8,
                code: 0,
                rest: [0, 1, 0, 1],
                payload: ping.clone(),
            },
        ),
        (
            EPOCH_US + 780,
            server,
            client,
            Transport::Icmp {
                icmp_type: 0,
                code: 0,
                rest: [0, 1, 0, 1],
                payload: ping,
            },
        ),
    ];
    for (i, (ts, src, dst, t)) in datagrams.into_iter().enumerate() {
        let udp_flow = match &t {
            Transport::Udp {
                src_port, dst_port, ..
            } => Some(flow_key(
                SocketAddr::new(src.into(), *src_port),
                SocketAddr::new(dst.into(), *dst_port),
            )),
            _ => None,
        };
        let icmp = matches!(t, Transport::Icmp { .. });
        let mut f = Frame::new(IpPair::V4 { src, dst }, t).with_ip_id(0x2000 + i as u16);
        f.pad_ethernet = true;
        let data = f.to_bytes()?;
        extras.push(Pending {
            ts,
            orig_len: data.len() as u32,
            data,
            tag: Tag {
                udp_flow,
                icmp,
                ip_version: 4,
                ..Tag::default()
            },
        });
    }
    Ok(Plan {
        link: eth,
        format: CaptureFormat::Pcap,
        snaplen: DEFAULT_SNAPLEN,
        encapsulation: vec!["mixed"],
        convs,
        frag: None,
        extras,
        cut_last: false,
    })
}

// ---------------------------------------------------------------- building

type FlowKey = (SocketAddr, SocketAddr);

fn flow_key(a: SocketAddr, b: SocketAddr) -> FlowKey {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

#[derive(Debug, Clone, Copy)]
struct TcpTag {
    flow: FlowKey,
    flags: TcpFlags,
    from_client: bool,
    payload_len: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Tag {
    /// Set on the frame that carries the TCP header of a segment.
    tcp: Option<TcpTag>,
    udp_flow: Option<FlowKey>,
    arp: bool,
    icmp: bool,
    ip_version: u8,
    fragment: bool,
    header_truncated: bool,
}

#[derive(Debug, Clone)]
struct Pending {
    ts: u64,
    data: Vec<u8>,
    orig_len: u32,
    tag: Tag,
}

#[derive(Debug, Default)]
struct Built {
    pending: Vec<Pending>,
    fragmented_datagrams: u64,
    out_of_order_datagrams: u64,
    handshakes: u64,
    seq_wrapped_flows: u64,
    http: Vec<serde_json::Value>,
}

fn build(plan: &Plan) -> Result<Built, SynthError> {
    let mut b = Built::default();
    let mut v6_ident: u32 = 0x0001_0000;
    for spec in &plan.convs {
        let mut conv = Conversation::new(
            spec.client,
            spec.server,
            spec.isn_c,
            spec.isn_s,
            spec.start_us,
        )
        .with_mss(spec.mss)
        .with_step_us(spec.step_us);
        if spec.handshake {
            conv.handshake();
        } else {
            conv.midstream();
        }
        for ex in &spec.exchanges {
            conv.client(&ex.request()).server(&ex.response());
            b.http.push(json!({
                "client": spec.client.to_string(),
                "server": spec.server.to_string(),
                "method": ex.method,
                "path": ex.path,
                "host": ex.host,
                "status": ex.status,
                "request_body_bytes": ex.req_body.as_ref().map_or(0, |s| s.len()),
                "response_body_bytes": ex.resp_body.as_ref().map_or(0, |s| s.len()),
            }));
        }
        match spec.close {
            Close::ClientFin => conv.fin(),
            Close::ServerFin => conv.close(Side::Server),
            Close::ClientRst => conv.rst(),
        };
        if conv.stats().handshake {
            b.handshakes += 1;
        }
        let segs = conv.segments();
        let wraps = |from_client: bool, isn: u32| {
            segs.iter()
                .any(|s| s.from_client == from_client && s.seq.wrapping_add(s.seq_len()) < isn)
        };
        if wraps(true, spec.isn_c) || wraps(false, spec.isn_s) {
            b.seq_wrapped_flows += 1;
        }
        let flow = flow_key(spec.client, spec.server);
        let v = if spec.client.is_ipv6() { 6 } else { 4 };
        for seg in segs {
            let frame = seg.to_frame(spec.client, spec.server, &spec.style)?;
            let tcp = TcpTag {
                flow,
                flags: seg.flags,
                from_client: seg.from_client,
                payload_len: seg.payload.len() as u64,
            };
            let base = Tag {
                ip_version: v,
                ..Tag::default()
            };
            let ip = frame.ip_packet()?;
            let needs_frag = plan.frag.filter(|f| ip.len() > f.mtu);
            match needs_frag {
                None => {
                    let mut data = Vec::with_capacity(ip.len() + 64);
                    frame.wrapping().wrap(&ip, &mut data)?;
                    b.pending.push(Pending {
                        ts: seg.ts_us,
                        orig_len: data.len() as u32,
                        data,
                        tag: Tag {
                            tcp: Some(tcp),
                            ..base
                        },
                    });
                }
                Some(fp) => {
                    let reverse = fp.reverse_first && b.fragmented_datagrams == 0;
                    let order = if reverse {
                        FragOrder::Reversed
                    } else {
                        FragOrder::InOrder
                    };
                    v6_ident = v6_ident.wrapping_add(1);
                    let in_order = fragment_ip(&ip, v6_ident, &FragOptions::mtu(fp.mtu))?;
                    let first = in_order.first().cloned();
                    let frags = super::frag::reorder(in_order, &order)?;
                    b.fragmented_datagrams += 1;
                    if reverse {
                        b.out_of_order_datagrams += 1;
                    }
                    for (k, fr) in frags.iter().enumerate() {
                        let mut data = Vec::with_capacity(fr.len() + 64);
                        frame.wrapping().wrap(fr, &mut data)?;
                        let carries_header = first.as_ref() == Some(fr);
                        b.pending.push(Pending {
                            ts: seg.ts_us + k as u64,
                            orig_len: data.len() as u32,
                            data,
                            tag: Tag {
                                tcp: carries_header.then_some(tcp),
                                fragment: true,
                                ..base
                            },
                        });
                    }
                }
            }
        }
    }
    b.pending.extend(plan.extras.iter().cloned());
    // Stable: equal timestamps keep generation order.
    b.pending.sort_by_key(|p| p.ts);
    Ok(b)
}

#[derive(Debug, Default)]
struct Tally {
    packets: u64,
    cut_records: u64,
    tcp_flows: BTreeSet<FlowKey>,
    udp_flows: BTreeSet<FlowKey>,
    tcp_segments: u64,
    tcp_syn: u64,
    tcp_fin: u64,
    tcp_rst: u64,
    client_bytes: u64,
    server_bytes: u64,
    ip_fragments: u64,
    truncated_frames: u64,
    header_truncated_frames: u64,
    arp: u64,
    icmp: u64,
    udp: u64,
    ipv4: u64,
    ipv6: u64,
}

fn write_all(
    mut w: CaptureWriter<BufWriter<File>>,
    pending: &[Pending],
    cut_last: bool,
) -> Result<Tally, SynthError> {
    let mut t = Tally::default();
    let snaplen = w.snaplen() as usize;
    for (i, p) in pending.iter().enumerate() {
        if cut_last && i + 1 == pending.len() {
            let caplen = p.data.len().min(snaplen);
            w.write_cut_record(p.ts, &p.data, p.orig_len, 16 + caplen / 2)?;
            t.cut_records += 1;
            break;
        }
        w.write_packet(p.ts, &p.data, p.orig_len)?;
        t.packets += 1;
        let tag = &p.tag;
        if p.data.len().min(snaplen) < p.orig_len as usize {
            t.truncated_frames += 1;
        }
        if tag.header_truncated {
            t.header_truncated_frames += 1;
            continue;
        }
        if tag.fragment {
            t.ip_fragments += 1;
        }
        match tag.ip_version {
            4 => t.ipv4 += 1,
            6 => t.ipv6 += 1,
            _ => {}
        }
        if let Some(tcp) = &tag.tcp {
            t.tcp_flows.insert(tcp.flow);
            t.tcp_segments += 1;
            t.tcp_syn += u64::from(tcp.flags.contains(TcpFlags::SYN));
            t.tcp_fin += u64::from(tcp.flags.contains(TcpFlags::FIN));
            t.tcp_rst += u64::from(tcp.flags.contains(TcpFlags::RST));
            if tcp.from_client {
                t.client_bytes += tcp.payload_len;
            } else {
                t.server_bytes += tcp.payload_len;
            }
        }
        if let Some(f) = tag.udp_flow {
            t.udp_flows.insert(f);
            t.udp += 1;
        }
        t.arp += u64::from(tag.arp);
        t.icmp += u64::from(tag.icmp);
    }
    w.into_inner()?;
    Ok(t)
}

fn expected_json(plan: &Plan, b: &Built, t: &Tally) -> serde_json::Value {
    let requests = b.http.len();
    json!({
        "format": plan.format,
        "linktype": plan.link.linktype(),
        "snaplen": plan.snaplen,
        "encapsulation": plan.encapsulation,
        "packets": t.packets,
        "cut_records": t.cut_records,
        "tcp_flows": t.tcp_flows.len(),
        "udp_flows": t.udp_flows.len(),
        "tcp_segments": t.tcp_segments,
        "tcp_syn": t.tcp_syn,
        "tcp_fin": t.tcp_fin,
        "tcp_rst": t.tcp_rst,
        "handshakes": b.handshakes,
        "tcp_payload_bytes_client": t.client_bytes,
        "tcp_payload_bytes_server": t.server_bytes,
        "seq_wrapped_flows": b.seq_wrapped_flows,
        "ip_fragments": t.ip_fragments,
        "fragmented_datagrams": b.fragmented_datagrams,
        "out_of_order_datagrams": b.out_of_order_datagrams,
        "truncated_frames": t.truncated_frames,
        "header_truncated_frames": t.header_truncated_frames,
        "arp_packets": t.arp,
        "icmp_packets": t.icmp,
        "udp_packets": t.udp,
        "ipv4_packets": t.ipv4,
        "ipv6_packets": t.ipv6,
        "http_requests": requests,
        "http_responses": requests,
        "http": b.http,
    })
}

#[cfg(test)]
mod tests {
    //! Independent check: a small decoder written from the RFCs (not the
    //! builder) re-reads every scenario through libpcap and recounts.
    use super::*;
    use std::collections::{BTreeMap, HashMap};
    use std::net::{IpAddr, Ipv6Addr};

    #[derive(Debug)]
    enum Inner {
        Tcp {
            src: SocketAddr,
            dst: SocketAddr,
            flags: u8,
            payload: Vec<u8>,
        },
        Udp {
            src: SocketAddr,
            dst: SocketAddr,
        },
        Icmp,
        Arp,
        Fragment {
            key: (IpAddr, IpAddr, u32),
            off: usize,
            more: bool,
            proto: u8,
            data: Vec<u8>,
        },
    }

    fn be16(b: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
    }

    fn decode(dlt: i32, b: &[u8]) -> Option<(u8, Inner)> {
        match dlt {
            1 => ether(be16(b, 12)?, b.get(14..)?),
            113 => ether(be16(b, 14)?, b.get(16..)?),
            276 => ether(be16(b, 0)?, b.get(20..)?),
            12 | 101 => ip(b),
            0 => {
                let af = u32::from_le_bytes(b.get(..4)?.try_into().ok()?);
                assert!(af == 2 || af == 30, "AF {af}");
                ip(b.get(4..)?)
            }
            other => panic!("unexpected DLT {other}"),
        }
    }

    fn ether(mut etype: u16, mut b: &[u8]) -> Option<(u8, Inner)> {
        loop {
            match etype {
                0x8100 | 0x88a8 => {
                    etype = be16(b, 2)?;
                    b = b.get(4..)?;
                }
                0x8847 => loop {
                    let bos = b.get(2)? & 1 == 1;
                    b = b.get(4..)?;
                    if bos {
                        return ip(b);
                    }
                },
                0x8864 => {
                    assert_eq!(b.get(..2)?, &[0x11, 0x00]);
                    let ppp = be16(b, 6)?;
                    assert!(ppp == 0x21 || ppp == 0x57);
                    return ip(b.get(8..)?);
                }
                0x0806 => return Some((0, Inner::Arp)),
                0x0800 | 0x86dd => return ip(b),
                other => panic!("unexpected ethertype {other:#x}"),
            }
        }
    }

    fn transport(proto: u8, src: IpAddr, dst: IpAddr, t: &[u8]) -> Option<Inner> {
        match proto {
            6 => {
                let sp = be16(t, 0)?;
                let dp = be16(t, 2)?;
                let hl = usize::from(*t.get(12)? >> 4) * 4;
                let flags = *t.get(13)?;
                let payload = t.get(hl..).unwrap_or(&[]).to_vec();
                if t.len() < hl {
                    return None;
                }
                Some(Inner::Tcp {
                    src: SocketAddr::new(src, sp),
                    dst: SocketAddr::new(dst, dp),
                    flags,
                    payload,
                })
            }
            17 => {
                let sp = be16(t, 0)?;
                let dp = be16(t, 2)?;
                let p = t.get(8..)?;
                match dp {
                    4789 => {
                        assert_eq!(p[0], 0x08);
                        ether(be16(p, 20)?, p.get(22..)?).map(|x| x.1)
                    }
                    6081 => {
                        let opt = usize::from(p[0] & 0x3f) * 4;
                        assert_eq!(be16(p, 2)?, 0x6558);
                        let e = p.get(8 + opt..)?;
                        ether(be16(e, 12)?, e.get(14..)?).map(|x| x.1)
                    }
                    _ => Some(Inner::Udp {
                        src: SocketAddr::new(src, sp),
                        dst: SocketAddr::new(dst, dp),
                    }),
                }
            }
            47 => {
                let flags = be16(t, 0)?;
                let proto = be16(t, 2)?;
                let mut off = 4;
                for bit in [0x8000u16, 0x2000, 0x1000] {
                    if flags & bit != 0 {
                        off += 4;
                    }
                }
                let p = t.get(off..)?;
                let eth = |e: &[u8]| ether(be16(e, 12)?, e.get(14..)?).map(|x| x.1);
                match proto {
                    0x6558 => eth(p),
                    0x88be => eth(p.get(8..)?),
                    0x22eb => {
                        let o = p.get(11)? & 1 == 1;
                        eth(p.get(if o { 20 } else { 12 }..)?)
                    }
                    _ => ether(proto, p).map(|x| x.1),
                }
            }
            1 | 58 => Some(Inner::Icmp),
            other => panic!("unexpected protocol {other}"),
        }
    }

    fn ip(b: &[u8]) -> Option<(u8, Inner)> {
        let inner = match b.first()? >> 4 {
            4 => {
                let ihl = usize::from(b[0] & 0xf) * 4;
                let total = usize::from(be16(b, 2)?);
                let fo = be16(b, 6)?;
                let proto = *b.get(9)?;
                let src = IpAddr::from(<[u8; 4]>::try_from(b.get(12..16)?).ok()?);
                let dst = IpAddr::from(<[u8; 4]>::try_from(b.get(16..20)?).ok()?);
                let body = b.get(ihl..total.min(b.len()))?;
                if fo & 0x3fff != 0 {
                    let id = u32::from(be16(b, 4)?);
                    return Some((
                        4,
                        Inner::Fragment {
                            key: (src, dst, id),
                            off: usize::from(fo & 0x1fff) * 8,
                            more: fo & 0x2000 != 0,
                            proto,
                            data: body.to_vec(),
                        },
                    ));
                }
                return Some((4, transport(proto, src, dst, body)?));
            }
            6 => {
                let src = IpAddr::from(<[u8; 16]>::try_from(b.get(8..24)?).ok()?);
                let dst = IpAddr::from(<[u8; 16]>::try_from(b.get(24..40)?).ok()?);
                let mut next = *b.get(6)?;
                let mut off = 40;
                loop {
                    match next {
                        0 | 43 | 60 => {
                            next = *b.get(off)?;
                            off += (usize::from(*b.get(off + 1)?) + 1) * 8;
                        }
                        44 => {
                            let w = be16(b, off + 2)?;
                            let id = u32::from_be_bytes(b.get(off + 4..off + 8)?.try_into().ok()?);
                            return Some((
                                6,
                                Inner::Fragment {
                                    key: (src, dst, id),
                                    off: usize::from(w >> 3) * 8,
                                    more: w & 1 == 1,
                                    proto: *b.get(off)?,
                                    data: b.get(off + 8..)?.to_vec(),
                                },
                            ));
                        }
                        _ => break,
                    }
                }
                let _ = Ipv6Addr::LOCALHOST;
                transport(next, src, dst, b.get(off..)?)?
            }
            v => panic!("IP version {v}"),
        };
        let v = match &inner {
            Inner::Tcp { src, .. } | Inner::Udp { src, .. } if src.is_ipv6() => 6,
            _ => 4,
        };
        Some((v, inner))
    }

    #[derive(Default, Debug)]
    struct Recount {
        packets: u64,
        read_error: bool,
        tcp_flows: BTreeSet<FlowKey>,
        udp_flows: BTreeSet<FlowKey>,
        tcp_segments: u64,
        syn: u64,
        fin: u64,
        rst: u64,
        udp: u64,
        arp: u64,
        icmp: u64,
        fragments: u64,
        truncated: u64,
        header_truncated: u64,
        streams: BTreeMap<(SocketAddr, SocketAddr), Vec<u8>>,
    }

    fn add_tcp(r: &mut Recount, src: SocketAddr, dst: SocketAddr, flags: u8, payload: Vec<u8>) {
        r.tcp_flows.insert(flow_key(src, dst));
        r.tcp_segments += 1;
        r.syn += u64::from(flags & 0x02 != 0);
        r.fin += u64::from(flags & 0x01 != 0);
        r.rst += u64::from(flags & 0x04 != 0);
        r.streams
            .entry((src, dst))
            .or_default()
            .extend_from_slice(&payload);
    }

    type FragKey = (IpAddr, IpAddr, u32);
    /// (offset, more fragments, protocol, data)
    type FragPiece = (usize, bool, u8, Vec<u8>);

    fn recount(path: &Path) -> (i32, Recount) {
        let mut cap = ::pcap::Capture::from_file(path).unwrap();
        let dlt = cap.get_datalink().0;
        let mut r = Recount::default();
        let mut frags: HashMap<FragKey, Vec<FragPiece>> = HashMap::new();
        let mut last_ts = 0u64;
        loop {
            let p = match cap.next_packet() {
                Ok(p) => p,
                Err(::pcap::Error::NoMorePackets) => break,
                Err(_) => {
                    r.read_error = true;
                    break;
                }
            };
            r.packets += 1;
            let ts = p.header.ts.tv_sec as u64 * 1_000_000 + p.header.ts.tv_usec as u64;
            if r.packets == 1 {
                assert_eq!(ts, EPOCH_US, "first packet at 2026-01-01T00:00:00Z");
            }
            assert!(ts >= last_ts && ts >= EPOCH_US);
            last_ts = ts;
            if p.header.caplen < p.header.len {
                r.truncated += 1;
            }
            match decode(dlt, p.data) {
                None => r.header_truncated += 1,
                Some((_, Inner::Arp)) => r.arp += 1,
                Some((_, Inner::Icmp)) => r.icmp += 1,
                Some((_, Inner::Udp { src, dst })) => {
                    r.udp += 1;
                    r.udp_flows.insert(flow_key(src, dst));
                }
                Some((
                    _,
                    Inner::Tcp {
                        src,
                        dst,
                        flags,
                        payload,
                    },
                )) => add_tcp(&mut r, src, dst, flags, payload),
                Some((
                    _,
                    Inner::Fragment {
                        key,
                        off,
                        more,
                        proto,
                        data,
                    },
                )) => {
                    r.fragments += 1;
                    let e = frags.entry(key).or_default();
                    e.push((off, more, proto, data));
                    let Some(end) = e.iter().find(|f| !f.1).map(|f| f.0 + f.3.len()) else {
                        continue;
                    };
                    let mut buf = vec![None; end];
                    for (o, _, _, d) in e.iter() {
                        for (i, x) in d.iter().enumerate() {
                            buf[o + i] = Some(*x);
                        }
                    }
                    if buf.iter().all(Option::is_some) {
                        let whole: Vec<u8> = buf.into_iter().flatten().collect();
                        let proto = e.iter().find(|f| f.0 == 0).map(|f| f.2).unwrap();
                        frags.remove(&key);
                        match transport(proto, key.0, key.1, &whole) {
                            Some(Inner::Tcp {
                                src,
                                dst,
                                flags,
                                payload,
                            }) => add_tcp(&mut r, src, dst, flags, payload),
                            other => panic!("reassembled {other:?}"),
                        }
                    }
                }
            }
        }
        assert!(frags.is_empty(), "incomplete datagrams left");
        (dlt, r)
    }

    fn dlt_of(linktype: u32) -> i32 {
        if linktype == 101 {
            12
        } else {
            linktype as i32
        }
    }

    fn check(name: &str) -> ScenarioInfo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(scenario_file_name(name));
        let info = write_scenario(name, &path).unwrap();
        let e = &info.expected;
        let n = |k: &str| e[k].as_u64().unwrap_or_else(|| panic!("{name}: key {k}"));
        let (dlt, r) = recount(&path);
        assert_eq!(dlt, dlt_of(info.linktype), "{name}");
        assert_eq!(r.packets, info.packets, "{name} packets");
        assert_eq!(r.read_error, n("cut_records") == 1, "{name} cut");
        assert_eq!(n("packets"), info.packets);
        assert_eq!(r.tcp_flows.len() as u64, info.flows_tcp, "{name} tcp flows");
        assert_eq!(r.udp_flows.len() as u64, info.flows_udp, "{name} udp flows");
        assert_eq!(n("tcp_flows"), info.flows_tcp);
        assert_eq!(n("udp_flows"), info.flows_udp);
        assert_eq!(r.tcp_segments, n("tcp_segments"), "{name} segments");
        assert_eq!(
            (r.syn, r.fin, r.rst),
            (n("tcp_syn"), n("tcp_fin"), n("tcp_rst")),
            "{name} flags"
        );
        assert_eq!(r.udp, n("udp_packets"), "{name}");
        assert_eq!(r.arp, n("arp_packets"), "{name}");
        assert_eq!(r.icmp, n("icmp_packets"), "{name}");
        assert_eq!(r.fragments, n("ip_fragments"), "{name}");
        assert_eq!(r.truncated, n("truncated_frames"), "{name}");
        assert_eq!(r.header_truncated, n("header_truncated_frames"), "{name}");
        if n("truncated_frames") == 0 {
            // Reassembled streams hold exactly the HTTP messages.
            let http = e["http"].as_array().unwrap();
            let mut client_total = 0;
            let mut server_total = 0;
            for ((src, dst), bytes) in &r.streams {
                let is_client = http
                    .iter()
                    .any(|h| h["client"] == src.to_string() && h["server"] == dst.to_string());
                if is_client {
                    client_total += bytes.len() as u64;
                    let text = String::from_utf8_lossy(bytes);
                    let mut at = 0;
                    for h in http.iter().filter(|h| h["client"] == src.to_string()) {
                        let line = format!(
                            "{} {} HTTP/1.1\r\nHost: {}\r\n",
                            h["method"].as_str().unwrap(),
                            h["path"].as_str().unwrap(),
                            h["host"].as_str().unwrap()
                        );
                        let pos = text[at..]
                            .find(&line)
                            .unwrap_or_else(|| panic!("{name}: {line}"));
                        at += pos + line.len();
                    }
                } else {
                    server_total += bytes.len() as u64;
                    let text = String::from_utf8_lossy(bytes);
                    let statuses: Vec<u64> = http
                        .iter()
                        .filter(|h| h["client"] == dst.to_string())
                        .map(|h| h["status"].as_u64().unwrap())
                        .collect();
                    let got: Vec<u64> = text
                        .match_indices("HTTP/1.1 ")
                        .map(|(i, _)| text[i + 9..i + 12].parse().unwrap())
                        .collect();
                    assert_eq!(got, statuses, "{name}");
                }
            }
            assert_eq!(client_total, n("tcp_payload_bytes_client"), "{name}");
            assert_eq!(server_total, n("tcp_payload_bytes_server"), "{name}");
        }
        info
    }

    #[test]
    fn every_scenario_recounts_exactly() {
        let names: BTreeSet<&str> = scenarios().iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), 23);
        for (name, _) in scenarios() {
            let info = check(name);
            assert!(info.packets > 10, "{name}");
            assert!(info.flows_tcp >= 3, "{name}");
            let mut brief = info.expected.clone();
            if let Some(o) = brief.as_object_mut() {
                o.remove("http");
            }
            eprintln!("SCN {name}: {brief}");
        }
    }

    #[test]
    fn deterministic_bytes() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "ethernet",
            "vxlan",
            "ipv4-fragments",
            "mixed",
            "pcapng",
            "truncated-file",
        ] {
            let a = dir.path().join("a");
            let b = dir.path().join("b");
            let ia = write_scenario(name, &a).unwrap();
            let ib = write_scenario(name, &b).unwrap();
            assert_eq!(ia, ib);
            assert_eq!(
                std::fs::read(&a).unwrap(),
                std::fs::read(&b).unwrap(),
                "{name}"
            );
        }
    }

    #[test]
    fn specific_expectations() {
        let dir = tempfile::tempdir().unwrap();
        let get = |name: &str| {
            write_scenario(name, &dir.path().join(name))
                .unwrap()
                .expected
        };
        let e = get("ethernet");
        assert_eq!(
            (
                e["tcp_flows"].as_u64(),
                e["handshakes"].as_u64(),
                e["http_requests"].as_u64()
            ),
            (Some(3), Some(3), Some(5))
        );
        assert_eq!(get("midstream")["tcp_syn"], 0);
        assert_eq!(get("seq-wrap")["seq_wrapped_flows"], 3);
        let f = get("ipv4-fragments");
        assert!(f["fragmented_datagrams"].as_u64().unwrap() >= 2);
        assert_eq!(f["out_of_order_datagrams"], 1);
        assert!(
            f["ip_fragments"].as_u64().unwrap() >= 3 * f["fragmented_datagrams"].as_u64().unwrap()
        );
        let f6 = get("ipv6-fragments");
        assert_eq!(
            f6["ip_fragments"].as_u64().unwrap(),
            2 * f6["fragmented_datagrams"].as_u64().unwrap()
        );
        let m = get("mixed");
        assert_eq!(
            (
                m["arp_packets"].as_u64(),
                m["udp_flows"].as_u64(),
                m["icmp_packets"].as_u64(),
                m["tcp_flows"].as_u64()
            ),
            (Some(2), Some(1), Some(2), Some(4))
        );
        assert!(m["ipv6_packets"].as_u64().unwrap() > 0);
        let t = get("truncated-packets");
        assert_eq!(t["header_truncated_frames"], 2);
        assert_eq!(t["snaplen"], 96);
        assert_eq!(get("truncated-file")["cut_records"], 1);
        assert_eq!(get("pcapng")["format"], "pcapng");
        assert_eq!(get("null-loopback")["linktype"], 0);
    }

    #[test]
    fn unknown_scenario_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let r = write_scenario("nope", &dir.path().join("x"));
        assert!(matches!(r, Err(SynthError::UnknownScenario(_))));
        // Unwritable path is an I/O error, not a panic.
        let r = write_scenario("ethernet", &dir.path().join("missing/dir/x.pcap"));
        assert!(matches!(r, Err(SynthError::Io(_))));
    }

    #[test]
    fn write_all_with_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let infos = write_all_scenarios(&dir.path().join("out")).unwrap();
        assert_eq!(infos.len(), scenarios().len());
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("out/manifest.json")).unwrap())
                .unwrap();
        assert_eq!(m.as_array().unwrap().len(), infos.len());
        assert!(dir.path().join("out/pcapng.pcapng").exists());
    }
}
