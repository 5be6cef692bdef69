#!/usr/bin/env bash
# End-to-end benchmark: generates a capture with apitap's own builder (not committed),
# then prints the speed of the bare libpcap read loop and of `apitap replay` with 1 and 2
# workers over the same file, and apitap's peak RSS. Usage:
#   benches/e2e.sh [SIZE] [RUNS]      (defaults: 1G, 3; the best run of each is reported)
# BIN=path/to/apitap and APITAP_ARGS="..." measure another build (e.g. an older commit that
# has no --data-dir: APITAP_ARGS="").
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-1G}
RUNS=${2:-3}
OUT=benches/out
mkdir -p "$OUT"
CAP="$OUT/bench-$SIZE.pcap"

cargo build --release --quiet --bin apitap --example read_loop
BIN=${BIN:-target/release/apitap}
STATE="$OUT/state"
APITAP_ARGS=${APITAP_ARGS---data-dir $STATE}
[ -f "$CAP" ] || "$BIN" synth bench --size "$SIZE" --seed 1 --output "$CAP"
cat "$CAP" > /dev/null   # warm the page cache: we measure the sensor, not the disk

best() { sort -g | head -1; }

echo "capture: $CAP ($(stat -c %s "$CAP") bytes)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

t_read=$(for _ in $(seq "$RUNS"); do
    target/release/examples/read_loop "$CAP" | sed -E 's/.*seconds=([0-9.]+).*/\1/'
done | best)
line=$(target/release/examples/read_loop "$CAP")
pkts=$(echo "$line" | sed -E 's/.*packets=([0-9]+).*/\1/')
bytes=$(echo "$line" | sed -E 's/.*bytes=([0-9]+).*/\1/')
rate() { awk -v p="$pkts" -v b="$bytes" -v t="$1" 'BEGIN { printf "%10.0f pkt/s %7.2f Gbit/s", p/t, b*8/t/1e9 }'; }
printf "%-28s %s  (%.3f s)\n" "bare libpcap read loop" "$(rate "$t_read")" "$t_read"

for w in 1 2; do
    results=$(for _ in $(seq "$RUNS"); do
        rm -rf "$STATE"
        # shellcheck disable=SC2086 # APITAP_ARGS is a list of arguments
        /usr/bin/time -f "rss=%M" "$BIN" replay --workers "$w" --stats-interval 0 \
            $APITAP_ARGS --output /dev/null "$CAP" 2>&1 | tr '\n' ' ' |
            sed -E 's/.* in ([0-9.]+) s .*rss=([0-9]+).*/\1 \2/'
        echo
    done)
    t=$(echo "$results" | awk '{print $1}' | best)
    rss=$(echo "$results" | awk '{print $2}' | sort -g | tail -1)
    pct=$(awk -v a="$t_read" -v b="$t" 'BEGIN { printf "%.0f", 100*a/b }')
    printf "%-28s %s  (%.3f s, %s%% of the read loop, peak RSS %d MiB)\n" \
        "apitap replay, $w worker(s)" "$(rate "$t")" "$t" "$pct" "$((rss / 1024))"
done
