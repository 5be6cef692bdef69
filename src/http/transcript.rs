//! Stage 5 (http, per TCP stream): the two-sided transcript format used by the http tests, the
//! pipeline tests and the capture builder (after libhtp's `src/test/files/*.t`).
//!
//! # Format
//!
//! A transcript is a byte file (not necessarily UTF-8).
//!
//! * **Marker lines** are lines that are exactly `>>>` (client bytes follow), `<<<` (server
//!   bytes follow), `><>` (a client-side gap) or `<><` (a server-side gap), ended by LF or CRLF.
//! * **Block content** is every byte after a marker line up to the start of the next marker
//!   line (or the end of the file), except that ONE line break right before the next marker
//!   line (or at the very end of the file) is layout, not content: if the content ends with
//!   CRLF, those two bytes are dropped, else if it ends with LF, that byte is dropped. Hence a
//!   head ending in `\r\n\r\n` is written as its lines, an empty line, and one more line break
//!   before the next marker. Everything else is literal: CRLF inside a block stays CRLF (the
//!   files keep CRLF on disk), bare LF stays LF, binary bytes are allowed. A block cannot hold a
//!   line that is exactly a marker.
//! * **Gap blocks** (`><>`, `<><`): the content's length (after the layout rule) is the number
//!   of lost bytes; the content itself is ignored.
//! * **Preamble**: lines before the first marker may be empty, `# comments`, or directives:
//!   `#! midstream` (the flow starts mid-stream), `#! no-close` (the runner does not close the
//!   directions before finishing the flow), `#! config {"max_tx": 2}` (HttpConfig fields as
//!   JSON).
//!
//! # Expected results
//!
//! Beside `NNN-name.t`, `NNN-name.json` holds the expected transactions as a JSON array, one
//! object per transaction in order, with exactly the keys of [`summarize`]: `method`, `path`,
//! `query` (absent when none), `host` (absent when none), `status` (absent when no response),
//! `request_body_bytes` / `response_body_bytes` (wire bytes; absent when there is no request /
//! response), `complete`, `anomalies` (names). `method` and `path` are absent for a
//! transaction without a request.
//!
//! # Replay
//!
//! [`replay`] feeds the blocks in order to one [`HttpFlow`], block `i` at time
//! `1_000_000 + 1000 * i` µs, drains after each piece, then closes client and server (unless
//! `#! no-close`) and finishes the flow.

use super::tx::{Dir, Transaction};
use super::{Chunk, HttpConfig, HttpFlow};
use serde_json::{json, Map, Value};

/// One block of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranscriptBlock {
    /// Bytes sent in that direction.
    Data(Vec<u8>),
    /// Bytes lost in that direction.
    Gap(usize),
}

/// Preamble directives of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptOptions {
    pub midstream: bool,
    pub close: bool,
    pub config: HttpConfig,
}

impl Default for TranscriptOptions {
    fn default() -> Self {
        TranscriptOptions {
            midstream: false,
            close: true,
            config: HttpConfig::default(),
        }
    }
}

fn marker(line: &[u8]) -> Option<(Dir, bool)> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match line {
        b">>>" => Some((Dir::ToServer, false)),
        b"<<<" => Some((Dir::ToClient, false)),
        b"><>" => Some((Dir::ToServer, true)),
        b"<><" => Some((Dir::ToClient, true)),
        _ => None,
    }
}

/// Splits `text` into lines, each with the offset of its first byte and without its LF.
fn lines(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let start = pos;
        let rest = text.get(start..)?;
        let end = memchr::memchr(b'\n', rest).map_or(text.len(), |i| start + i);
        pos = end + 1;
        Some((start, text.get(start..end)?))
    })
}

fn strip_layout_break(block: &[u8]) -> &[u8] {
    if let Some(b) = block.strip_suffix(b"\r\n") {
        b
    } else {
        block.strip_suffix(b"\n").unwrap_or(block)
    }
}

/// Parses a transcript into its blocks (see the module docs for the format).
pub fn parse_transcript(text: &[u8]) -> Result<Vec<(Dir, TranscriptBlock)>, String> {
    let mut out = Vec::new();
    // (dir, gap, content start)
    let mut open: Option<(Dir, bool, usize)> = None;
    let close_block =
        |open: Option<(Dir, bool, usize)>, end: usize, out: &mut Vec<(Dir, TranscriptBlock)>| {
            if let Some((dir, gap, start)) = open {
                let content = strip_layout_break(text.get(start..end).unwrap_or_default());
                out.push((
                    dir,
                    if gap {
                        TranscriptBlock::Gap(content.len())
                    } else {
                        TranscriptBlock::Data(content.to_vec())
                    },
                ));
            }
        };
    for (n, (start, line)) in lines(text).enumerate() {
        if let Some((dir, gap)) = marker(line) {
            close_block(open.take(), start, &mut out);
            let content_start = (start + line.len() + 1).min(text.len());
            open = Some((dir, gap, content_start));
        } else if open.is_none() {
            let l = line.strip_suffix(b"\r").unwrap_or(line);
            if !l.trim_ascii().is_empty() && !l.starts_with(b"#") {
                return Err(format!(
                    "line {}: text before the first marker is not a comment",
                    n + 1
                ));
            }
        }
    }
    close_block(open.take(), text.len(), &mut out);
    Ok(out)
}

/// Reads the preamble directives of a transcript.
pub fn parse_options(text: &[u8]) -> Result<TranscriptOptions, String> {
    let mut o = TranscriptOptions::default();
    for (n, (_, line)) in lines(text).enumerate() {
        if marker(line).is_some() {
            break;
        }
        let l = String::from_utf8_lossy(line);
        let Some(d) = l.trim().strip_prefix("#!") else {
            continue;
        };
        let d = d.trim();
        if d == "midstream" {
            o.midstream = true;
        } else if d == "no-close" {
            o.close = false;
        } else if let Some(cfg) = d.strip_prefix("config") {
            o.config = serde_json::from_str(cfg.trim())
                .map_err(|e| format!("line {}: config: {e}", n + 1))?;
        } else {
            return Err(format!("line {}: unknown directive {d:?}", n + 1));
        }
    }
    Ok(o)
}

/// Writes blocks in the transcript format (the inverse of [`parse_transcript`]; gap content is
/// written as that many `-`). Fails when a block holds a line that is a marker.
pub fn write_transcript(
    preamble: &str,
    blocks: &[(Dir, TranscriptBlock)],
) -> Result<Vec<u8>, String> {
    let mut out = preamble.as_bytes().to_vec();
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    for (dir, block) in blocks {
        let (m, content) = match block {
            TranscriptBlock::Data(d) => {
                (if *dir == Dir::ToServer { ">>>" } else { "<<<" }, d.clone())
            }
            TranscriptBlock::Gap(n) => (
                if *dir == Dir::ToServer { "><>" } else { "<><" },
                vec![b'-'; *n],
            ),
        };
        if lines(&content).any(|(_, l)| marker(l).is_some()) {
            return Err("a block holds a marker line".into());
        }
        out.extend_from_slice(m.as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&content);
        out.extend_from_slice(b"\r\n");
    }
    Ok(out)
}

/// The summary of a transaction compared by transcript tests (see the module docs).
pub fn summarize(tx: &Transaction) -> Value {
    let mut m = Map::new();
    if let Some(r) = &tx.request {
        m.insert("method".into(), json!(r.method));
        m.insert("path".into(), json!(r.path));
        if let Some(q) = &r.query {
            m.insert("query".into(), json!(q));
        }
        if let Some(h) = r.host() {
            m.insert("host".into(), json!(h));
        }
        m.insert("request_body_bytes".into(), json!(r.body.wire_bytes));
    }
    if let Some(r) = &tx.response {
        m.insert("status".into(), json!(r.status));
        m.insert("response_body_bytes".into(), json!(r.body.wire_bytes));
    }
    m.insert("complete".into(), json!(tx.complete));
    m.insert(
        "anomalies".into(),
        json!(tx.anomalies.iter().map(|a| a.name()).collect::<Vec<_>>()),
    );
    Value::Object(m)
}

/// Feeds a transcript to a new [`HttpFlow`], each block cut into pieces by `pieces` (lengths;
/// a zero or short total is completed by one last piece), and returns every transaction.
pub fn replay_with(
    blocks: &[(Dir, TranscriptBlock)],
    opts: &TranscriptOptions,
    mut pieces: impl FnMut(usize) -> Vec<usize>,
) -> (Vec<Transaction>, HttpFlow) {
    let mut flow = HttpFlow::new(&opts.config, opts.midstream);
    let mut out = Vec::new();
    let mut ts = 1_000_000u64;
    for (dir, block) in blocks {
        ts += 1000;
        match block {
            TranscriptBlock::Gap(n) => flow.feed(*dir, Chunk::Gap(*n as u64), ts),
            TranscriptBlock::Data(d) => {
                let mut pos = 0;
                for len in pieces(d.len()) {
                    let end = (pos + len).min(d.len());
                    flow.feed(*dir, Chunk::Data(d.get(pos..end).unwrap_or_default()), ts);
                    flow.drain_ready(&mut out);
                    pos = end;
                }
                if pos < d.len() {
                    flow.feed(*dir, Chunk::Data(d.get(pos..).unwrap_or_default()), ts);
                }
            }
        }
        flow.drain_ready(&mut out);
    }
    ts += 1000;
    if opts.close {
        flow.close(Dir::ToServer, ts);
        flow.drain_ready(&mut out);
        flow.close(Dir::ToClient, ts);
        flow.drain_ready(&mut out);
    }
    flow.finish(ts, &mut out);
    (out, flow)
}

/// [`replay_with`] in pieces of at most `max_piece` bytes.
pub fn replay(
    blocks: &[(Dir, TranscriptBlock)],
    opts: &TranscriptOptions,
    max_piece: usize,
) -> Vec<Transaction> {
    let step = max_piece.max(1);
    replay_with(blocks, opts, |len| vec![step; len.div_ceil(step)]).0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests {
    use super::*;
    use crate::http::body::tests::{brotli_enc, gzip, raw_deflate, zlib};
    use std::path::{Path, PathBuf};

    #[test]
    fn format_layout_rule() {
        let t = b"# comment\n#! no-close\n>>>\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n<<<\r\nHTTP/1.1 200 OK\r\n\r\nhi\r\n><>\r\n12345\r\n<<<\nbare\n\n";
        let b = parse_transcript(t).unwrap();
        assert_eq!(
            b,
            vec![
                (
                    Dir::ToServer,
                    TranscriptBlock::Data(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec())
                ),
                (
                    Dir::ToClient,
                    TranscriptBlock::Data(b"HTTP/1.1 200 OK\r\n\r\nhi".to_vec())
                ),
                (Dir::ToServer, TranscriptBlock::Gap(5)),
                (Dir::ToClient, TranscriptBlock::Data(b"bare\n".to_vec())),
            ]
        );
        let o = parse_options(t).unwrap();
        assert!(!o.close && !o.midstream);
        assert!(parse_transcript(b"junk\n>>>\nx").is_err());
        assert_eq!(
            parse_transcript(b">>>").unwrap(),
            vec![(Dir::ToServer, TranscriptBlock::Data(vec![]))]
        );
        assert_eq!(
            parse_transcript(b"<<<\nno newline").unwrap(),
            vec![(Dir::ToClient, TranscriptBlock::Data(b"no newline".to_vec()))]
        );
        assert!(
            parse_options(b"#! config {\"max_tx\": 2}\n")
                .unwrap()
                .config
                .max_tx
                == 2
        );
        assert!(parse_options(b"#! config {\"nope\": 2}\n").is_err());
        assert!(parse_options(b"#! frobnicate\n").is_err());
    }

    #[test]
    fn write_then_parse_round_trips() {
        let blocks = vec![
            (
                Dir::ToServer,
                TranscriptBlock::Data(b"GET / HTTP/1.1\r\n\r\n".to_vec()),
            ),
            (
                Dir::ToClient,
                TranscriptBlock::Data(vec![0, 1, 2, b'\n', b'\r', 255]),
            ),
            (Dir::ToClient, TranscriptBlock::Gap(3)),
            (Dir::ToServer, TranscriptBlock::Data(b"x\n".to_vec())),
        ];
        let text = write_transcript("# t", &blocks).unwrap();
        assert_eq!(parse_transcript(&text).unwrap(), blocks);
        assert!(write_transcript(
            "",
            &[(Dir::ToServer, TranscriptBlock::Data(b"a\n>>>\nb".to_vec()))]
        )
        .is_err());
    }

    pub(crate) fn transcript_dir() -> PathBuf {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for d in ["transcripts", "tests/transcripts/http"] {
            let p = root.join(d);
            if p.is_dir() {
                return p;
            }
        }
        panic!("no transcripts directory under {}", root.display());
    }

    pub(crate) fn all_transcripts() -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(transcript_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "t"))
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    }

    fn check_invariants(name: &str, txs: &[Transaction], cfg: &HttpConfig) {
        for (i, tx) in txs.iter().enumerate() {
            assert_eq!(tx.tx_id, i as u64, "{name}: tx ids");
            let mut seen = std::collections::HashSet::new();
            assert!(
                tx.anomalies.iter().all(|a| seen.insert(*a)),
                "{name}: duplicate anomaly"
            );
            for b in tx
                .request
                .iter()
                .map(|r| &r.body)
                .chain(tx.response.iter().map(|r| &r.body))
            {
                assert!(b.data.len() <= cfg.body_inspect_bytes, "{name}: body cap");
            }
            if tx.request.is_some() {
                assert!(tx.request_ts.is_some(), "{name}: request_ts");
            }
        }
    }

    /// Deterministic pseudo-random piece lengths.
    fn lcg_pieces(seed: u64) -> impl FnMut(usize) -> Vec<usize> {
        let mut s = seed;
        move |len| {
            let mut v = Vec::new();
            let mut left = len;
            while left > 0 {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let n = ((s >> 33) as usize % 37 + 1).min(left);
                v.push(n);
                left -= n;
            }
            v
        }
    }

    #[test]
    fn transcripts() {
        let bless = std::env::var_os("APITAP_BLESS").is_some();
        let all = all_transcripts();
        assert!(all.len() >= 30, "only {} transcripts", all.len());
        let mut failures = Vec::new();
        for (name, text) in &all {
            let blocks = parse_transcript(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let opts = parse_options(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let json_path = transcript_dir().join(name.replace(".t", ".json"));
            let whole = replay(&blocks, &opts, usize::MAX);
            let actual: Vec<Value> = whole.iter().map(summarize).collect();
            if bless {
                let mut s = serde_json::to_string_pretty(&actual).unwrap();
                s.push('\n');
                std::fs::write(&json_path, s).unwrap();
            }
            let expected: Value = serde_json::from_slice(
                &std::fs::read(&json_path)
                    .unwrap_or_else(|e| panic!("{}: {e}", json_path.display())),
            )
            .unwrap();
            check_invariants(name, &whole, &opts.config);
            let runs: Vec<(&str, Vec<Transaction>)> = vec![
                ("whole blocks", whole.clone()),
                ("1-byte pieces", replay(&blocks, &opts, 1)),
                (
                    "random pieces",
                    replay_with(&blocks, &opts, lcg_pieces(name.len() as u64)).0,
                ),
            ];
            for (how, txs) in runs {
                check_invariants(name, &txs, &opts.config);
                let got = Value::Array(txs.iter().map(summarize).collect());
                if got != expected {
                    failures.push(format!(
                        "{name} ({how}):\n  expected {}\n  got      {}",
                        serde_json::to_string(&expected).unwrap(),
                        serde_json::to_string(&got).unwrap()
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    fn data(d: Dir, b: &[u8]) -> (Dir, TranscriptBlock) {
        (d, TranscriptBlock::Data(b.to_vec()))
    }

    fn plain_json() -> Vec<u8> {
        (0..300)
            .flat_map(|i| {
                format!("{{\"id\":{i},\"email\":\"user{i}@example.com\"}}\n").into_bytes()
            })
            .collect()
    }

    type Case = (&'static str, &'static str, Vec<(Dir, TranscriptBlock)>);

    fn compressed_cases() -> Vec<Case> {
        let plain = plain_json();
        let req = |path: &str| {
            data(Dir::ToServer, format!("GET {path} HTTP/1.1\r\nHost: api.example.com\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n").as_bytes())
        };
        let resp_cl = |enc: &str, body: &[u8]| {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: {enc}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(body);
            data(Dir::ToClient, &r)
        };
        let gz = gzip(&plain);
        let mut chunked = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for piece in gz.chunks(700) {
            chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            chunked.extend_from_slice(piece);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        vec![
            ("007-gzip-response", "# gzip response body (generated by transcript::tests::write_compressed_transcripts)", vec![req("/users"), resp_cl("gzip", &gz)]),
            ("008-deflate-zlib-response", "# deflate (zlib-wrapped) response body (generated)", vec![req("/users"), resp_cl("deflate", &zlib(&plain))]),
            ("009-deflate-raw-response", "# deflate (raw, no zlib header) response body (generated)", vec![req("/users"), resp_cl("deflate", &raw_deflate(&plain))]),
            ("010-br-response", "# brotli response body (generated)", vec![req("/users"), resp_cl("br", &brotli_enc(&plain, 22))]),
            ("041-chunked-gzip-response", "# gzip inside chunked transfer coding (generated)", vec![req("/users"), data(Dir::ToClient, &chunked)]),
            ("042-x-gzip-keepalive", "# x-gzip response then a plain one on the same connection (generated)", vec![req("/a"), resp_cl("x-gzip", &gz), req("/b"), data(Dir::ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")]),
        ]
    }

    /// Regenerates the transcripts whose bodies are compressed (binary), then checks that
    /// their decoded bodies are the plain text. Run with `--ignored` to rewrite the files.
    #[test]
    #[ignore]
    fn write_compressed_transcripts() {
        for (name, preamble, blocks) in compressed_cases() {
            let text = write_transcript(preamble, &blocks).unwrap();
            assert_eq!(parse_transcript(&text).unwrap(), blocks);
            std::fs::write(transcript_dir().join(format!("{name}.t")), text).unwrap();
        }
    }

    #[test]
    fn compressed_transcripts_decode() {
        for (name, _, blocks) in compressed_cases() {
            let path = transcript_dir().join(format!("{name}.t"));
            let on_disk = parse_transcript(&std::fs::read(&path).unwrap()).unwrap();
            let txs = replay(&on_disk, &TranscriptOptions::default(), usize::MAX);
            let body = &txs[0].response.as_ref().unwrap().body;
            assert!(
                body.data == plain_json(),
                "{name}: {} bytes",
                body.data.len()
            );
            assert!(!body.truncated, "{name}");
            // The in-code generator and the file agree on the plain text (not on the bytes:
            // compressors may change between versions).
            let fresh = replay(&blocks, &TranscriptOptions::default(), 7);
            assert_eq!(
                fresh[0].response.as_ref().unwrap().body.data,
                body.data,
                "{name}"
            );
        }
    }
}
