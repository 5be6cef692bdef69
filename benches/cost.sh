#!/usr/bin/env bash
# What API discovery and detection (sensitive data + authentication) cost end to end: the
# same binary replays the benchmark capture with everything on (the default), with
# detection off ([sensitive] and [auth] enabled = false) and with discovery off as well,
# in interleaved order (the machine is noisy), and prints the best and median time of each
# and the cost of each stage as lost throughput:
#   detection cost = 1 - t(detection off) / t(all on)
#   discovery cost = 1 - t(discovery and detection off) / t(detection off)
# It also prints the median of the costs of each round (the three runs of one round follow
# each other): the machine's speed drifts over minutes, and a ratio of neighbouring runs
# is steadier than a ratio of two best or median times taken at different moments.
# Usage: benches/cost.sh [RUNS] [WORKERS] [BIN...]   (defaults: 5, 1, target/release/apitap)
# The capture is the one benches/e2e.sh generates (benches/out/bench-1G.pcap).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
WORKERS=${2:-1}
shift $(($# < 2 ? $# : 2))
BINS=("$@")
if [ ${#BINS[@]} -eq 0 ]; then
    cargo build --release --quiet --bin apitap
    BINS=(target/release/apitap)
fi
CAP=benches/out/bench-1G.pcap
[ -f "$CAP" ] || "${BINS[0]}" synth bench --size 1G --seed 1 --output "$CAP"
cat "$CAP" > /dev/null
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
: > "$TMP/on.toml"
printf '[sensitive]\nenabled = false\n[auth]\nenabled = false\n' > "$TMP/detection_off.toml"
printf '[sensitive]\nenabled = false\n[auth]\nenabled = false\n[discovery]\nenabled = false\n' \
    > "$TMP/all_off.toml"
for _ in $(seq "$RUNS"); do
    for i in "${!BINS[@]}"; do
        b=${BINS[$i]}
        for c in on detection_off all_off; do
            rm -rf "$TMP/state"
            t=$("$b" replay --workers "$WORKERS" --stats-interval 0 --data-dir "$TMP/state" \
                -c "$TMP/$c.toml" --output /dev/null "$CAP" 2>&1 |
                sed -nE 's/.* in ([0-9.]+) s .*/\1/p')
            if [ -z "$t" ]; then
                echo "cost.sh: $b replay ($c) printed no time; run it by hand to see why" >&2
                exit 1
            fi
            echo "$b $c $t" >> "$TMP/times"
            echo "$t" >> "$TMP/round-$i-$c"
        done
    done
done
# The median of the numbers on stdin, with their range.
med() { sort -g | awk '{ t[NR] = $1 } END {
    m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
    printf "%.1f%% (%.1f-%.1f%%)", m, t[1], t[NR] }'; }
for i in "${!BINS[@]}"; do
    b=${BINS[$i]}
    echo "$b ($WORKERS worker(s), $RUNS runs each)"
    for c in on detection_off all_off; do
        awk -v b="$b" -v c="$c" '$1 == b && $2 == c { print $3 }' "$TMP/times" | sort -g |
            awk -v c="$c" '{ t[NR] = $1 } END {
                m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
                printf "  %-14s best %.2f s  median %.2f s\n", c, t[1], m }'
    done | tee "$TMP/summary"
    awk '{ best[$1] = $3; med[$1] = $6 } END {
        printf "  detection cost: %.1f%% (best times), %.1f%% (medians)\n",
            100 * (1 - best["detection_off"] / best["on"]), 100 * (1 - med["detection_off"] / med["on"])
        printf "  discovery cost: %.1f%% (best times), %.1f%% (medians)\n",
            100 * (1 - best["all_off"] / best["detection_off"]), 100 * (1 - med["all_off"] / med["detection_off"]) }' \
        "$TMP/summary"
    paste "$TMP/round-$i-on" "$TMP/round-$i-detection_off" "$TMP/round-$i-all_off" |
        awk '{ printf "%.2f %.2f\n", 100 * (1 - $2 / $1), 100 * (1 - $3 / $2) }' > "$TMP/rounds"
    echo "  per round: detection cost median $(cut -d' ' -f1 "$TMP/rounds" | med)," \
        "discovery cost median $(cut -d' ' -f2 "$TMP/rounds" | med)"
done
