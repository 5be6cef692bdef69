#!/usr/bin/env bash
# Detection quality on held-out traffic made with Faker (PyPI), not with apitap's own
# builder: realistic values from ten locales, vendors' secret formats, credentials of every
# scheme, hard negatives. Not in CI (needs the faker package from PyPI).
#   benches/heldout_sensitive/run.sh [SEED...]   (default seeds: 5 6 7; APITAP_BIN=... to
#                                                score another binary)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=benches/out/heldout_sensitive
PY=${PYTHON:-python3}
if ! "$PY" -c "import faker" 2>/dev/null; then
    [ -x "$OUT/venv/bin/python" ] || python3 -m venv "$OUT/venv"
    "$OUT/venv/bin/pip" install -q faker
    PY="$OUT/venv/bin/python"
fi
BIN=${APITAP_BIN:-target/release/apitap}
[ -n "${APITAP_BIN:-}" ] || cargo build --release --quiet --bin apitap
SEEDS=("$@")
[ ${#SEEDS[@]} -eq 0 ] && SEEDS=(5 6 7)
for s in "${SEEDS[@]}"; do
    d="$OUT/seed$s"
    "$PY" benches/heldout_sensitive/gen.py "$d" "$s" 4000
    rm -rf "$d/state" "$d/events.jsonl"
    "$BIN" replay --workers 2 --stats-interval 0 --data-dir "$d/state" \
        --output "$d/events.jsonl" "$d/traffic.pcap" >"$d/log.txt" 2>&1
    echo "seed $s"
    python3 benches/heldout_sensitive/score.py "$d" "$d/events.jsonl" --misses "${MISSES:-0}" \
        --also "$d/log.txt" $(find "$d/state" -type f)
done
