#!/usr/bin/env bash
# Performance and regression benchmarks of the fleetsim engine.
#
#   scripts/bench.sh                     quick: criterion benches in quick mode, the
#                                        end-to-end cases up to 1M clients, the
#                                        instruction-count gate (about 10 minutes)
#   scripts/bench.sh --full              also 10M clients and full criterion runs
#   scripts/bench.sh --no-criterion      only the end-to-end cases and the gate
#   scripts/bench.sh --update-baseline   accept this run as results/bench/baseline.json
#   scripts/bench.sh --plot-share        only the plot cost case (about a minute)
#
# Writes results/bench/<date>-<commit>.json and compares it with the committed
# baseline (results/bench/baseline.json).
#
# The regression gate uses instruction counts (valgrind --tool=callgrind, one rayon
# thread), which repeat to within 0.001% on any machine with the same toolchain,
# not wall time, which on a shared 2-core machine varies by 30% or more from run to
# run. A workload whose instruction count grows by more than the noise band
# (BENCH_NOISE_PCT, default 3%) over the baseline fails the run (exit 1). Wall
# times, events/s, RSS and criterion throughputs are recorded and printed next to
# the baseline's for information only.
#
# The plot cost case runs quickstart at 100,000 clients with and without
# --no-plots, alternating, best of 3 wall times each, and prints the share plots
# add (with - without) / without; above PLOT_SHARE_MAX_PCT (default 20) it fails.
#
# Exit codes: 0 no regression; 1 regression beyond the band or plots too dear; 2 the
# benchmarks could not run (build failure, valgrind or python3 missing).
set -euo pipefail

cd "$(dirname "$0")/.."
FULL=0
CRITERION=1
UPDATE=0
PLOT_ONLY=0
for a in "$@"; do
  case "$a" in
    --full) FULL=1 ;;
    --no-criterion) CRITERION=0 ;;
    --update-baseline) UPDATE=1 ;;
    --plot-share) PLOT_ONLY=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $a (see --help)" >&2; exit 2 ;;
  esac
done
NOISE_PCT="${BENCH_NOISE_PCT:-3}"
PLOT_SHARE_MAX_PCT="${PLOT_SHARE_MAX_PCT:-20}"

for tool in cargo python3 valgrind; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is required" >&2; exit 2; }
done

echo "== building (release)"
cargo build --release --quiet || exit 2
BIN=target/release/fleetsim
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RAW="$WORK/raw.jsonl"
: > "$RAW"

# One end-to-end case: the whole process, timed by GNU time when present.
# Appends {"kind":"e2e",...} to $RAW.
e2e() {
  local name=$1 scenario=$2 clients=$3
  local out="$WORK/out-$name"
  local tfile="$WORK/time-$name"
  echo "   $name ($clients clients)"
  local start end
  start=$(date +%s.%N)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%e %U %S %M' -o "$tfile" \
      "$BIN" run "$scenario" --quiet --set "fleet.clients=$clients" --out "$out" >/dev/null
  else
    "$BIN" run "$scenario" --quiet --set "fleet.clients=$clients" --out "$out" >/dev/null
    echo "0 0 0 0" > "$tfile"
  fi
  end=$(date +%s.%N)
  python3 - "$name" "$scenario" "$clients" "$out/summary.json" "$tfile" "$start" "$end" >> "$RAW" <<'PY'
import json, sys
name, scenario, clients, summary, tfile, start, end = sys.argv[1:]
s = json.load(open(summary))
e, u, sy, rss_kb = open(tfile).read().split()
print(json.dumps({
    "kind": "e2e", "name": name, "scenario": scenario, "clients": int(clients),
    "wall_s": float(end) - float(start), "user_s": float(u), "sys_s": float(sy),
    "peak_rss_bytes": int(rss_kb) * 1024 or s["run"]["peak_rss_bytes"],
    "events": s["events"], "sim_wall_s": s["run"]["wall_s"],
    "events_per_s": s["events"] / max(float(end) - float(start), 1e-9),
    "download_mean_s": s["latency"]["download"]["mean"],
}))
PY
}

# One instruction-count workload. Appends {"kind":"instructions",...} to $RAW.
instr() {
  local name=$1; shift
  echo "   $name"
  local log="$WORK/cg-$name.log"
  RAYON_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$BIN" "$@" --quiet --out "$WORK/cg-out-$name" >/dev/null 2>"$log"
  python3 - "$name" "$log" "$WORK/cg-out-$name/summary.json" >> "$RAW" <<'PY'
import json, re, sys
name, log, summary = sys.argv[1:]
m = re.search(r"Collected : (\d+)", open(log).read())
if not m:
    sys.exit(f"bench.sh: no instruction count for {name} (see valgrind output)")
print(json.dumps({"kind": "instructions", "name": name,
                  "instructions": int(m.group(1)),
                  "events": json.load(open(summary))["events"]}))
PY
}

# The wall time plots add to a 100,000-client run: with and without --no-plots,
# alternating so both see the same machine load, best of 3 each. Prints the share
# and sets PLOT_STATUS=1 when it is above PLOT_SHARE_MAX_PCT.
PLOT_STATUS=0
plot_share() {
  local clients=100000 with=() without=()
  echo "== plot cost (quickstart, $clients clients, with and without --no-plots, best of 3)"
  for i in 1 2 3; do
    for mode in plots no-plots; do
      local extra=() start end
      [ "$mode" = no-plots ] && extra=(--no-plots)
      start=$(date +%s.%N)
      "$BIN" run scenarios/quickstart.toml --quiet --set "fleet.clients=$clients" \
        "${extra[@]}" --out "$WORK/plot-share-$mode" >/dev/null
      end=$(date +%s.%N)
      if [ "$mode" = plots ]; then with+=("$start:$end"); else without+=("$start:$end"); fi
    done
  done
  python3 - "$PLOT_SHARE_MAX_PCT" "${with[*]}" "${without[*]}" <<'PY' || PLOT_STATUS=1
import sys
limit = float(sys.argv[1])
span = lambda p: float(p.split(":")[1]) - float(p.split(":")[0])
w = [round(span(p), 3) for p in sys.argv[2].split()]
wo = [round(span(p), 3) for p in sys.argv[3].split()]
a, b = min(w), min(wo)
share = 100.0 * (a - b) / b
print(f"   with plots {w} s, without {wo} s")
print(f"   best of {len(w)}: {a:.3f} s against {b:.3f} s: "
      f"plots add {share:.1f}% (limit {limit:g}%)")
if share > limit:
    print("   FAIL: plots cost more than the limit")
    sys.exit(1)
PY
}

if [ "$PLOT_ONLY" = 1 ]; then
  plot_share
  exit $PLOT_STATUS
fi

if [ "$CRITERION" = 1 ]; then
  echo "== criterion benches"
  if [ "$FULL" = 1 ]; then CARGS=(--noplot); else CARGS=(--quick --noplot); fi
  for b in event_queue net_churn tasksequence scenarios conditions inventory; do
    echo "   $b"
    cargo bench --quiet --bench "$b" -- "${CARGS[@]}" > "$WORK/criterion-$b.log" 2>&1 \
      || { cat "$WORK/criterion-$b.log"; exit 2; }
  done
  python3 scripts/bench_report.py criterion target/criterion >> "$RAW"
fi

echo "== end to end (whole process)"
e2e bench-1m-10k scenarios/bench-1m.toml 10000
e2e bench-1m-100k scenarios/bench-1m.toml 100000
e2e bench-1m-1m scenarios/bench-1m.toml 1000000
if [ "$FULL" = 1 ]; then
  e2e bench-1m-10m scenarios/bench-1m.toml 10000000
fi
e2e bench-ps-100k scenarios/bench-ps.toml 100000
e2e bench-office-week-1m scenarios/bench-office-week.toml 1000000

plot_share

echo "== instruction counts (callgrind, the regression gate)"
instr bench-1m-20k run scenarios/bench-1m.toml --set fleet.clients=20000
instr bench-ps-20k run scenarios/bench-ps.toml --set fleet.clients=20000
instr ts-interpretation-20k run benches/data/ts-interpretation.toml --set fleet.clients=20000
instr quickstart run scenarios/quickstart.toml
instr bench-office-week-20k run scenarios/bench-office-week.toml --set fleet.clients=20000
instr bench-branches-20k run scenarios/bench-branches.toml --set fleet.clients=20000

DATE=$(date -u +%Y-%m-%d)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD 2>/dev/null; then COMMIT="$COMMIT-dirty"; fi
OUT="results/bench/$DATE-$COMMIT.json"
mkdir -p results/bench
python3 scripts/bench_report.py assemble "$RAW" "$COMMIT" "$FULL" > "$OUT"
echo "== wrote $OUT"

status=0
python3 scripts/bench_report.py compare results/bench/baseline.json "$OUT" "$NOISE_PCT" || status=$?
if [ "$UPDATE" = 1 ]; then
  cp "$OUT" results/bench/baseline.json
  echo "== baseline updated: results/bench/baseline.json"
  status=0
fi
if [ "$PLOT_STATUS" != 0 ]; then status=1; fi
exit $status
